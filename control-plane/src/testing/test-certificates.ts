import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  readonly dir: string;
  /** The CA that signed the server certificate: what clients pin. */
  readonly caFile: string;
  readonly caPem: string;
  /** A CA that signed nothing here: pinning it must fail. */
  readonly otherCaFile: string;
  readonly otherCaPem: string;
  /** For localhost and 127.0.0.1. */
  readonly certFile: string;
  readonly keyFile: string;
  remove(): void;
}

/** A throwaway CA and a server certificate signed by it, made with openssl as the README tells operators to. */
export function createTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-tls-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const newCa = (name: string, cn: string) =>
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${cn}`);
  newCa('ca', 'airlock test CA');
  newCa('other-ca', 'some other CA');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext');
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    otherCaFile: join(dir, 'other-ca.pem'),
    otherCaPem: readFileSync(join(dir, 'other-ca.pem'), 'utf8'),
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
