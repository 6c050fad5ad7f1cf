/**
 * Raw TCP targets through the whole path, with the machine's real Redis and MariaDB and their real
 * clients (redis-cli, mariadb): access is just-in-time (a reviewed grant), and once granted the bytes
 * go through untouched. A target that is down, or a connection with no grant, gets a clear error.
 */
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runCommand, spawnCli } from './support/index.js';
import { startStack, type Stack } from './harness/stack.js';

const POLICY = `apiVersion: airlock/v1
kind: Policy
metadata:
  name: tcp-break-glass
spec:
  subjects: ["group:engineers"]
  connections: ["cache", "maria", "nothing-there"]
  access: review
  accessDuration: 1h
  rules: []
  default: allow
  review:
    reviewers: ["group:sre"]
    approvals: 1
`;

function has(binary: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(true) ?? socket.destroy());
    socket.on('error', () => resolve(false));
    socket.setTimeout(2_000, () => resolve(false) ?? socket.destroy());
  });
}

// Redis and MariaDB are this machine's services (.ci/run starts them); without them there is nothing real to relay to.
const redisReady = has('redis-cli') && (await answers(6379));
const mariaReady = has('mariadb') && (await answers(3306));

let stack: Stack;
const homes: Record<string, string> = {};

async function grant(connection: string): Promise<void> {
  const request = await spawnCli(['request', connection, '--for', '30m', '--reason', 'cache flush INC-7'], {
    home: homes.alice, readyPattern: /waiting for approval of access review \d+/, name: `request-${connection}`,
  });
  const id = /access review (\d+)/.exec(request.stderr)![1]!;
  const approved = await stack.cli(['reviews', 'approve', id], { AIRLOCK_HOME: homes.sam, HOME: homes.sam });
  expect(approved.code, approved.stderr).toBe(0);
  expect((await request.exited).code).toBe(0);
}

beforeAll(async () => {
  stack = await startStack();
  await stack.startAgent('tcp-agent', {});
  const closedPort = await freePort();
  for (const [name, port] of [['cache', 6379], ['maria', 3306], ['nothing-there', closedPort]] as const) {
    const created = await stack.cli(['connections', 'create', name, '--type', 'tcp', '--agent', 'tcp-agent', '--host', '127.0.0.1', '--port', String(port)]);
    if (created.code !== 0) throw new Error(created.stderr);
  }
  await stack.applyPolicy(POLICY);
  homes.alice = await stack.userHome('alice', ['engineers']);
  homes.sam = await stack.userHome('sam', ['sre'], 'reviewer');
}, 180_000);

afterAll(async () => stack?.stop());

describe('TCP relay', () => {
  it('refuses a connection without an approved grant, naming the command that asks for one', async () => {
    const { port, process: handle } = await stack.connect('cache', homes.alice);
    const ping = await runCommand('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'ping'], { timeoutMs: 30_000 });
    expect(ping.stdout).not.toContain('PONG');
    await expect.poll(() => handle.stderr, { timeout: 10_000 }).toContain('connection "cache" needs approved access: airlock request cache');
    await handle.stop();
  }, 60_000);

  it.skipIf(!redisReady)('relays redis-cli to the real Redis once access is granted', async () => {
    await grant('cache');
    const { port, process: handle } = await stack.connect('cache', homes.alice);
    const key = `airlock-e2e-${process.pid}`;
    const set = await runCommand('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'set', key, 'through the airlock'], { timeoutMs: 30_000 });
    expect(set.stdout.trim()).toBe('OK');
    const get = await runCommand('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'get', key], { timeoutMs: 30_000 });
    expect(get.stdout.trim()).toBe('through the airlock');
    // 1 MiB value: larger than any frame, so it crosses the tunnel in many pieces and must come back whole.
    const big = 'x'.repeat(1024 * 1024);
    await runCommand('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '-x', 'set', `${key}-big`], { input: big, timeoutMs: 30_000 });
    const strlen = await runCommand('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'strlen', `${key}-big`], { timeoutMs: 30_000 });
    expect(strlen.stdout.trim()).toBe(String(big.length));
    await runCommand('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'del', key, `${key}-big`]);
    await handle.stop();
    // One session per redis-cli connection: the one that sent the 1 MiB value says so (written when the agent reports the end).
    await expect.poll(async () => {
      const sessions = await stack.cliJson<{ subject: string; bytesFromClient: number }[]>(['sessions', 'list', '--connection', 'cache']);
      return sessions.filter((s) => s.subject.endsWith('alice')).map((s) => s.bytesFromClient > 1024 * 1024);
    }, { timeout: 15_000 }).toContain(true);
  }, 120_000);

  it.skipIf(!mariaReady)('relays the mariadb client to the real MariaDB once access is granted', async () => {
    await grant('maria');
    const { port, process: handle } = await stack.connect('maria', homes.alice);
    const result = await runCommand('mariadb', ['-h', '127.0.0.1', '-P', String(port), '-u', 'root', '--skip-ssl', '-N', '-e', 'select 40 + 2, version()'], { timeoutMs: 30_000 });
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^42\t.*MariaDB/m);
    await handle.stop();
  }, 120_000);

  it('reports a target that is down as unreachable, and keeps serving', async () => {
    await grant('nothing-there');
    const { port, process: handle } = await stack.connect('nothing-there', homes.alice);
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.on('close', resolve));
    await expect.poll(() => handle.stderr, { timeout: 15_000 }).toMatch(/nothing-there.*(unreachable|refused)|(unreachable|refused).*nothing-there/i);
    await handle.stop();
  }, 60_000);
});
