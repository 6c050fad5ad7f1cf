import https from 'node:https';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { AgentServicePaths, EnrollRequestSchema, EnrollResponseSchema, GrpcChannel, GrpcStatus } from '@airlock/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig, ConfigError } from '../config/config.js';
import { startControlPlane } from '../main.js';
import { createTestCertificates, type TestCertificates } from '../testing/test-certificates.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { startTestControlPlane, TEST_ADMIN_TOKEN, type TestControlPlane } from '../testing/test-control-plane.js';

/** GET over HTTPS with `ca` pinned; resolves with the status, or rejects with the TLS error. */
function httpsGet(url: string, ca: string, alpn?: string[]): Promise<{ status: number; alpn: string | false }> {
  return new Promise((resolve, reject) => {
    const request = https.get(url, { ca, ALPNProtocols: alpn, agent: false }, (response) => {
      response.resume();
      response.once('end', () => resolve({ status: response.statusCode ?? 0, alpn: (response.socket as import('node:tls').TLSSocket).alpnProtocol }));
    });
    request.once('error', reject);
  });
}

describe('the control plane over TLS', () => {
  let db: TestDatabase;
  let certs: TestCertificates;
  let cp: TestControlPlane;
  const channels: GrpcChannel[] = [];

  beforeAll(async () => {
    certs = createTestCertificates();
    db = await createTestDatabase();
    cp = await startTestControlPlane({ databaseUrl: db.url, bootstrapToken: TEST_ADMIN_TOKEN, transport: { tlsCert: certs.certFile, tlsKey: certs.keyFile } });
  });
  afterAll(async () => {
    for (const channel of channels) channel.close();
    await cp?.close();
    await db?.drop();
    certs?.remove();
  });

  const enrollWith = (url: string, ca?: string) => {
    const channel = new GrpcChannel(url, { ca });
    channels.push(channel);
    const request = create(EnrollRequestSchema, { joinToken: 'alk_join_notarealtoken000000000000000000' });
    return channel.unary(AgentServicePaths.enroll, toBinary(EnrollRequestSchema, request), 5_000).then((reply) => fromBinary(EnrollResponseSchema, reply));
  };

  it('serves REST and gRPC on one https:// port, told apart by ALPN', async () => {
    expect(cp.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(cp.publicUrl).toBe(cp.url);
    expect(await httpsGet(`${cp.url}/healthz`, certs.caPem, ['http/1.1'])).toEqual({ status: 200, alpn: 'http/1.1' });
    // Browsers and curl offer h2 as well: they get the REST API on HTTP/1.1 all the same.
    expect(await httpsGet(`${cp.url}/healthz`, certs.caPem, ['h2', 'http/1.1'])).toEqual({ status: 200, alpn: 'http/1.1' });
    // A client that offers no ALPN at all still gets HTTP/1.1.
    expect(await httpsGet(`${cp.url}/healthz`, certs.caPem)).toEqual({ status: 200, alpn: false });
    // gRPC reaches the gateway: a made-up join token gets the gateway's own refusal.
    await expect(enrollWith(cp.url, certs.caPem)).rejects.toMatchObject({ code: GrpcStatus.PERMISSION_DENIED, message: 'the join token is not valid; ask an admin for a new one' });
  });

  it('a client pinning another CA refuses the connection with a sentence that says what to do', async () => {
    await expect(enrollWith(cp.url, certs.otherCaPem)).rejects.toMatchObject({
      code: GrpcStatus.UNAVAILABLE,
      message: `the TLS certificate of ${cp.url} is not trusted (unable to verify the first certificate): pin the CA that signed it with --ca-file PEM or AIRLOCK_CA_FILE`,
    });
    await expect(httpsGet(`${cp.url}/healthz`, certs.otherCaPem)).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  it('a plaintext client gets nothing, and the port keeps serving', async () => {
    await expect(enrollWith(cp.url.replace('https:', 'http:'))).rejects.toMatchObject({ code: GrpcStatus.UNAVAILABLE });
    expect(await httpsGet(`${cp.url}/healthz`, certs.caPem, ['http/1.1'])).toMatchObject({ status: 200 });
  });

  it('refuses to start without TLS unless plaintext on loopback was asked for, and warns when it is', async () => {
    const config = buildConfig({ host: '127.0.0.1', port: 0, databaseUrl: db.url, logLevel: 'silent' });
    await expect(startControlPlane(config)).rejects.toThrow(ConfigError);
    await expect(startControlPlane(config)).rejects.toThrow(/^refusing to serve without TLS: set AIRLOCK_TLS_CERT and AIRLOCK_TLS_KEY/);

    const plaintext = await startTestControlPlane({ databaseUrl: db.url, bootstrapToken: TEST_ADMIN_TOKEN });
    try {
      expect(plaintext.url).toMatch(/^http:\/\//);
      expect(plaintext.logs).toContainEqual(expect.objectContaining({
        level: 'warn',
        msg: 'serving HTTP and gRPC WITHOUT TLS: tokens and agent assertions cross the wire in clear text; for development on this machine only',
        because: 'AIRLOCK_INSECURE_PLAINTEXT',
      }));
    } finally {
      await plaintext.close();
    }
  });
});
