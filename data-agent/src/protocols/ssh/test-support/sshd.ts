/**
 * A throwaway OpenSSH server for tests: Debian's /usr/sbin/sshd in the foreground with its own config,
 * host key and authorized_keys in a temp dir, listening on a free high port on 127.0.0.1. A dedicated
 * test user logs in with a key (generated here) or a password. Not root: root's shell start-up on this
 * machine (pyenv in .bashrc) is slow and takes a lock that a killed session leaves behind.
 * Reused by e2e/, so it has no dependency beyond Node and the OpenSSH binaries.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SSHD_BIN = '/usr/sbin/sshd';

/** A login made for these tests only; created (with this password) when it does not exist yet. */
export const TEST_USER = { user: 'airlock-sshtest', password: 'airlock-sshtest-Pa55word' } as const;

export interface TestSshd {
  host: string;
  port: number;
  /** The server's host key as `ssh-ed25519 AAAA...`. */
  hostPublicKey: string;
  /** `SHA256:...`, as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint: string;
  /** The test user with an OpenSSH private key (no passphrase). */
  keyLogin: { user: string; privateKey: string; privateKeyPath: string };
  passwordLogin: { user: string; password: string };
  /** The temp dir holding config, keys and the log; removed by stop(). */
  dir: string;
  /** What sshd printed so far (-e: log to stderr). */
  log(): string;
  stop(): Promise<void>;
}

export function sshdAvailable(): boolean {
  return existsSync(SSHD_BIN) && existsSync('/usr/bin/ssh-keygen');
}

export async function startTestSshd(): Promise<TestSshd> {
  if (!sshdAvailable()) throw new Error(`${SSHD_BIN} not found: apt-get install -y openssh-server openssh-client`);
  const dir = mkdtempSync(join(tmpdir(), 'airlock-sshd-'));
  // sshd reads authorized_keys as the user who logs in.
  chmodSync(dir, 0o755);
  const hostKeyPath = join(dir, 'ssh_host_ed25519_key');
  const clientKeyPath = join(dir, 'client_ed25519');
  keygen(hostKeyPath);
  keygen(clientKeyPath);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKeyPath}.pub`, 'utf8'), { mode: 0o644 });
  ensureTestUser();
  // Privilege separation needs this directory; it is what the Debian service unit creates.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(config, [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKeyPath}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PermitRootLogin no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication yes',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'AllowTcpForwarding yes',
    'AllowAgentForwarding yes',
    'X11Forwarding no',
    'PrintMotd no',
    'PrintLastLog no',
    'AcceptEnv LANG LC_* AIRLOCK_TEST_*',
    'Subsystem sftp internal-sftp',
    'MaxStartups 100',
    'MaxSessions 50',
    'LogLevel VERBOSE',
    '',
  ].join('\n'));
  const child = spawn(SSHD_BIN, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
  await waitListening(child, port, () => log);
  const hostPublicKey = readFileSync(`${hostKeyPath}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  return {
    host: '127.0.0.1',
    port,
    hostPublicKey,
    hostKeyFingerprint: fingerprintOf(hostPublicKey),
    keyLogin: { user: TEST_USER.user, privateKey: readFileSync(clientKeyPath, 'utf8'), privateKeyPath: clientKeyPath },
    passwordLogin: { ...TEST_USER },
    dir,
    log: () => log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `SHA256:<base64 without padding>` of an OpenSSH public key line. */
export function fingerprintOf(publicKeyLine: string): string {
  const blob = Buffer.from(publicKeyLine.trim().split(/\s+/)[1] ?? '', 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

function keygen(path: string): void {
  execFileSync('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'airlock-test', '-f', path], { stdio: 'pipe' });
}

function ensureTestUser(): void {
  try {
    execFileSync('id', ['-u', TEST_USER.user], { stdio: 'pipe' });
    return;
  } catch {
    // not there yet
  }
  execFileSync('useradd', ['--create-home', '--shell', '/bin/bash', TEST_USER.user], { stdio: 'pipe' });
  execFileSync('chpasswd', { input: `${TEST_USER.user}:${TEST_USER.password}\n`, stdio: ['pipe', 'pipe', 'pipe'] });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitListening(child: ChildProcess, port: number, log: () => string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}: ${log()}`);
    if (/Server listening on 127\.0\.0\.1 port/.test(log()) && (await canConnect(port))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`sshd did not start listening on ${port}: ${log()}`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
