import { describe, expect, it } from 'vitest';
import { createTestCertificates } from '../testing/test-certificates.js';
import { buildConfig, loadConfig } from './config.js';
import { plaintextRefusal } from './transport-config.js';

describe('transport config', () => {
  it('refuses plaintext unless asked for explicitly, and then on loopback only', () => {
    const plain = loadConfig({});
    expect(plaintextRefusal(plain.transport, plain.identity.devMode)).toBe(
      'refusing to serve without TLS: set AIRLOCK_TLS_CERT and AIRLOCK_TLS_KEY (README: "Deploying with TLS"), or AIRLOCK_INSECURE_PLAINTEXT=1 to serve plaintext on a loopback address for development',
    );
    const insecure = loadConfig({ AIRLOCK_INSECURE_PLAINTEXT: '1' });
    expect(insecure.transport).toEqual({ tls: undefined, insecurePlaintext: true });
    expect(plaintextRefusal(insecure.transport, false)).toBeUndefined();
    expect(() => loadConfig({ AIRLOCK_INSECURE_PLAINTEXT: '1', AIRLOCK_HOST: '0.0.0.0' })).toThrow(
      'AIRLOCK_INSECURE_PLAINTEXT is for this machine only: AIRLOCK_HOST must be a loopback address (127.0.0.1, ::1), not "0.0.0.0"; serve TLS with AIRLOCK_TLS_CERT and AIRLOCK_TLS_KEY instead',
    );
    expect(() => loadConfig({ AIRLOCK_INSECURE_PLAINTEXT: 'maybe' })).toThrow('AIRLOCK_INSECURE_PLAINTEXT must be 1 or 0, got "maybe"');
  });

  it('reads the certificate and key once, and advertises https://', () => {
    const certs = createTestCertificates();
    try {
      const config = loadConfig({ AIRLOCK_TLS_CERT: certs.certFile, AIRLOCK_TLS_KEY: certs.keyFile, AIRLOCK_HOST: '0.0.0.0', AIRLOCK_PORT: '7443' });
      expect(config.transport.tls).toMatchObject({ certFile: certs.certFile, keyFile: certs.keyFile });
      expect(config.transport.tls?.cert.toString()).toContain('-----BEGIN CERTIFICATE-----');
      expect(config.publicUrl).toBe('https://127.0.0.1:7443');
      expect(plaintextRefusal(config.transport, false)).toBeUndefined();
      expect(() => buildConfig({ transport: { tlsCert: certs.certFile } })).toThrow('AIRLOCK_TLS_CERT and AIRLOCK_TLS_KEY go together');
      expect(() => buildConfig({ transport: { tlsCert: certs.keyFile, tlsKey: certs.keyFile } })).toThrow(`AIRLOCK_TLS_CERT (${certs.keyFile}) holds no PEM certificate`);
      expect(() => buildConfig({ transport: { tlsCert: '/nonexistent/cert.pem', tlsKey: certs.keyFile } })).toThrow(/^AIRLOCK_TLS_CERT cannot be read: ENOENT/);
    } finally {
      certs.remove();
    }
  });
});
