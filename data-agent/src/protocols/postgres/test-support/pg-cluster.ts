/**
 * A throwaway Postgres cluster for tests: initdb in a temp dir, a high port on 127.0.0.1, TLS on with a
 * self-signed certificate, and a pg_hba that REQUIRES a password per role (scram-sha-256, md5, password),
 * so the agent's credential injection is exercised for real. Stop it in afterAll.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, appendFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface TestRole {
  user: string;
  password: string;
}

/** Roles created in every test cluster, each with the hba method its name says. */
export const TEST_ROLES = {
  scram: { user: 'airlock_scram', password: 'scram-secret' },
  md5: { user: 'airlock_md5', password: 'md5-secret' },
  cleartext: { user: 'airlock_clear', password: 'clear-secret' },
  /** scram-sha-256, and only over TLS (hostnossl rejects it). */
  tls: { user: 'airlock_tls', password: 'tls-secret' },
} satisfies Record<string, TestRole>;

export const TEST_DATABASE = 'airlock_test';

export interface TestCluster {
  host: string;
  port: number;
  database: string;
  /** Runs SQL as the superuser (trust over the cluster's own socket-free loopback rule). */
  admin(sql: string): Promise<pg.QueryResult>;
  stop(): Promise<void>;
}

const COMMAND_TIMEOUT_MS = 60_000;

export function findPostgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const bin = join(root, v, 'bin');
    if (existsSync(join(bin, 'initdb'))) return bin;
  }
  throw new Error('initdb not found under /usr/lib/postgresql/*/bin');
}

export async function startTestCluster(): Promise<TestCluster> {
  const bin = findPostgresBin();
  const dir = mkdtempSync(join(tmpdir(), 'airlock-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? postgresIds() : undefined;
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const run = (cmd: string, args: string[]) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]] : [join(bin, cmd), args];
    execFileSync(file, argv, { stdio: 'pipe', timeout: COMMAND_TIMEOUT_MS });
  };
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const port = await freePort();
  writeTls(dir, owner);
  writeFileSync(join(data, 'pg_hba.conf'), HBA);
  appendFileSync(join(data, 'postgresql.conf'), [
    `port = ${port}`, `listen_addresses = '127.0.0.1'`, `unix_socket_directories = '${dir}'`,
    `ssl = on`, `ssl_cert_file = '${join(dir, 'server.crt')}'`, `ssl_key_file = '${join(dir, 'server.key')}'`,
    `fsync = off`, `max_connections = 60`, '',
  ].join('\n'));
  run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '30', 'start']);
  const cluster: TestCluster = {
    host: '127.0.0.1',
    port,
    database: TEST_DATABASE,
    admin: (sql) => adminQuery(port, TEST_DATABASE, sql),
    stop: async () => {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  try {
    await createRolesAndDatabase(port);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

const HBA = `
local   all  all                          trust
host    all  postgres       127.0.0.1/32  trust
host    all  airlock_scram  127.0.0.1/32  scram-sha-256
host    all  airlock_md5    127.0.0.1/32  md5
host    all  airlock_clear  127.0.0.1/32  password
hostssl all  airlock_tls    127.0.0.1/32  scram-sha-256
host    all  all            127.0.0.1/32  reject
`;

async function createRolesAndDatabase(port: number): Promise<void> {
  const r = TEST_ROLES;
  await adminQuery(port, 'postgres', [
    `SET password_encryption = 'scram-sha-256'`,
    `CREATE ROLE ${r.scram.user} LOGIN PASSWORD '${r.scram.password}'`,
    `CREATE ROLE ${r.cleartext.user} LOGIN PASSWORD '${r.cleartext.password}'`,
    `CREATE ROLE ${r.tls.user} LOGIN PASSWORD '${r.tls.password}'`,
    `SET password_encryption = 'md5'`,
    `CREATE ROLE ${r.md5.user} LOGIN PASSWORD '${r.md5.password}'`,
  ].join(';'));
  await adminQuery(port, 'postgres', `CREATE DATABASE ${TEST_DATABASE}`);
  await adminQuery(port, TEST_DATABASE, 'GRANT ALL ON SCHEMA public TO PUBLIC');
}

async function adminQuery(port: number, database: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

function writeTls(dir: string, owner?: { uid: number; gid: number }): void {
  const key = join(dir, 'server.key');
  const crt = join(dir, 'server.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-days', '2', '-subj', '/CN=localhost'], {
    stdio: 'pipe',
    timeout: COMMAND_TIMEOUT_MS,
  });
  chmodSync(key, 0o600); // Postgres refuses a key readable by others
  if (owner) {
    chownSync(key, owner.uid, owner.gid);
    chownSync(crt, owner.uid, owner.gid);
  }
}

function postgresIds(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
