/**
 * SSH through airlock as people use it: the real `airlock ssh` / `airlock connect` CLI, the real
 * OpenSSH `ssh` and `scp` clients, the real control plane and agent, and Debian's sshd as the target
 * (started here on a loopback port). The key and the password live only in the agent's environment.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshdAvailable, startTestSshd, type TestSshd } from '../data-agent/src/protocols/ssh/test-support/sshd.js';
import { CLI_BIN, freePort, runCli, runCommand, spawnCli, startProcess, type RunResult } from './support/index.js';
import { startStack, type Stack } from './harness/stack.js';

const POLICY = `apiVersion: airlock/v1
kind: Policy
metadata:
  name: ssh-ops
spec:
  subjects: ["group:engineers"]
  connections: ["*box"]
  access: allow
  rules:
    - match: { commands: ["rm *", "shutdown*"] }
      action: deny
    - match: { commands: ["touch *"] }
      action: review
  default: allow
  review:
    reviewers: ["group:dba"]
    approvals: 1
    timeout: 15m
`;

let stack: Stack;
let sshd: TestSshd;
let alice: string;
let bob: string;
/** Everything the person's side printed, to prove the credentials never reach it. */
const seenByClient: string[] = [];

const asAlice = async (args: string[], timeoutMs = 60_000): Promise<RunResult> => {
  const result = await runCli(args, { home: alice, timeoutMs });
  seenByClient.push(result.stdout, result.stderr);
  return result;
};

const marker = (name: string) => `/tmp/airlock-e2e-ssh-${process.pid}-${name}`;

async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface SessionRow { id: string; connection: string; status: string; subject: string; endedAt: string | null }
interface StatementRow { text: string; verdict?: string | null; commandTag?: string | null }

async function sessionsOf(connection: string): Promise<SessionRow[]> {
  return stack.cliJson<SessionRow[]>(['sessions', 'list', '--connection', connection]);
}

/** A reviewer's CLI home: deciding reviews needs the reviewer (or admin) role, which `stack.userHome` does not give. */
async function reviewerHome(name: string, group: string): Promise<string> {
  const created = await stack.cliJson<{ token: string }>(['users', 'create', name, '--group', group, '--admin']);
  const home = mkdtempSync(join(tmpdir(), `airlock-e2e-${name}-`));
  const login = await runCli(['login', '--url', stack.url, '--token', created.token], { home });
  if (login.code !== 0) throw new Error(`login as ${name} failed: ${login.stderr}`);
  return home;
}

describe.skipIf(!sshdAvailable())('ssh through airlock', () => {
  beforeAll(async () => {
    sshd = await startTestSshd();
    stack = await startStack();
    await stack.startAgent('vpc-ssh', {
      AIRLOCK_E2E_BOX_KEY: sshd.keyLogin.privateKey,
      AIRLOCK_E2E_PWBOX_PASSWORD: sshd.passwordLogin.password,
    });
    const create = async (args: string[]) => {
      const result = await stack.cli(['connections', 'create', ...args]);
      if (result.code !== 0) throw new Error(`connections create failed: ${result.stderr}`);
    };
    await create(['box', '--type', 'ssh', '--agent', 'vpc-ssh', '--host', '127.0.0.1', '--port', String(sshd.port), '--user', sshd.keyLogin.user,
      '--secret', 'env:AIRLOCK_E2E_BOX_KEY', '--option', 'credential=key', '--option', `host_key=${sshd.hostKeyFingerprint}`]);
    await create(['pw-box', '--type', 'ssh', '--agent', 'vpc-ssh', '--host', '127.0.0.1', '--port', String(sshd.port),
      '--user', sshd.passwordLogin.user, '--secret', 'env:AIRLOCK_E2E_PWBOX_PASSWORD', '--option', 'credential=password']);
    await create(['down-box', '--type', 'ssh', '--agent', 'vpc-ssh', '--host', '127.0.0.1', '--port', String(await freePort()), '--user', sshd.keyLogin.user,
      '--secret', 'env:AIRLOCK_E2E_BOX_KEY', '--option', 'credential=key']);
    await stack.applyPolicy(POLICY);
    alice = await stack.userHome('alice', ['engineers']);
    bob = await reviewerHome('bob', 'dba');
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    await sshd?.stop();
    if (bob) rmSync(bob, { recursive: true, force: true });
  });

  it('runs an allowed command with airlock ssh and passes its exit status through', async () => {
    const hello = await asAlice(['ssh', 'box', '--', 'echo', 'hello', '&&', 'whoami']);
    expect(hello).toMatchObject({ code: 0, stdout: `hello\n${sshd.keyLogin.user}\n` });
    expect((await asAlice(['ssh', 'box', '--', 'exit 7'])).code).toBe(7);
    const pw = await asAlice(['ssh', 'pw-box', '--', 'whoami']);
    expect(pw).toMatchObject({ code: 0, stdout: `${sshd.passwordLogin.user}\n` });
  });

  it('refuses a denied command: non-zero exit, the reason on stderr, and the target untouched', async () => {
    writeFileSync(marker('denied'), 'keep me');
    const result = await asAlice(['ssh', 'box', '--', 'rm', '-f', marker('denied')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`airlock: denied: policy ssh-ops v1: rule 1 (deny) matches "rm -f ${marker('denied')}"`);
    expect(readFileSync(marker('denied'), 'utf8')).toBe('keep me');
    rmSync(marker('denied'));
  });

  it('holds a command for review and runs it once a reviewer approves it with the CLI', async () => {
    const held = await spawnCli(['ssh', 'box', '--', 'touch', marker('held'), '&&', 'echo', 'touched'], {
      home: alice, readyPattern: /held for review \d+/, timeoutMs: 30_000, name: 'ssh-held',
    });
    const reviewId = /held for review (\d+)/.exec(held.stderr)![1]!;
    expect(existsSync(marker('held'))).toBe(false);
    const approved = await runCli(['reviews', 'approve', reviewId], { home: bob });
    expect(approved.code, approved.stderr).toBe(0);
    const exit = await held.exited;
    seenByClient.push(held.stdout, held.stderr);
    expect(exit.code).toBe(0);
    expect(held.stdout).toBe('touched\n');
    expect(existsSync(marker('held'))).toBe(true);
    rmSync(marker('held'));
  });

  it('clears a denied line typed into an interactive shell, and records the shell as asciicast', async () => {
    writeFileSync(marker('shell'), 'keep me');
    const shell = await startProcess('ssh-shell', process.execPath, [CLI_BIN, 'ssh', 'box', '-o', 'RequestTTY=force'], {
      env: { AIRLOCK_HOME: alice, HOME: alice, NO_COLOR: '1' },
    });
    const type = (keys: string) => shell.child.stdin!.write(keys);
    type('echo mark-$((40+2))\r');
    await shell.waitFor('mark-42', 30_000);
    type(`rm -f ${marker('shell')}\r`);
    await shell.waitFor('airlock: denied', 10_000);
    type('echo mark-$((50+1))\r');
    await shell.waitFor('mark-51', 10_000);
    type('exit\r');
    const exit = await shell.exited;
    seenByClient.push(shell.output);
    expect(exit.code).toBe(0);
    expect(readFileSync(marker('shell'), 'utf8')).toBe('keep me');
    rmSync(marker('shell'));

    let session: SessionRow | undefined;
    await waitUntil(async () => {
      session = (await sessionsOf('box')).find((s) => s.status !== 'open' && s.subject === 'user:alice' && s.endedAt);
      if (!session) return false;
      const shown = await stack.cliJson<{ statements: StatementRow[] }>(['sessions', 'show', session.id]);
      return shown.statements.some((s) => s.text.includes('mark-$((50+1))'));
    }, 'the shell session record');
    // `airlock sessions show` lists each line typed; the API has each one's verdict.
    const text = await runCli(['sessions', 'show', session!.id], { home: stack.home });
    for (const line of ['echo mark-$((40+2))', `rm -f ${marker('shell')}`, 'echo mark-$((50+1))']) expect(text.stdout).toContain(line);
    const headers = { authorization: `Bearer ${stack.token}` };
    const detail = (await (await fetch(`${stack.url}/v1/sessions/${session!.id}`, { headers })).json()) as { statements: StatementRow[] };
    expect(detail.statements.map((s) => [s.text, s.verdict])).toEqual([
      ['echo mark-$((40+2))', 'allowed'],
      [`rm -f ${marker('shell')}`, 'denied'],
      ['echo mark-$((50+1))', 'allowed'],
      ['exit', 'allowed'],
    ]);

    const response = await fetch(`${stack.url}/v1/sessions/${session!.id}/recording`, { headers });
    expect(response.status).toBe(200);
    const cast = (await response.text()).trim().split('\n');
    expect(JSON.parse(cast[0]!)).toMatchObject({ version: 2 });
    const output = cast.slice(1).map((line) => JSON.parse(line) as [number, string, string]).filter(([, kind]) => kind === 'o').map(([, , data]) => data).join('');
    expect(output).toContain('mark-42');
    expect(output).toContain('airlock: denied');
  });

  it('prints the host key fingerprint and the ssh command on airlock connect; the plain ssh and scp clients work with them', async () => {
    const shown = await stack.cliJson<{ sshHostKey: string; sshHostKeyFingerprint: string }>(['connections', 'show', 'box']);
    expect(shown.sshHostKey).toMatch(/^ssh-ed25519 /);
    const port = await freePort();
    const connect = await spawnCli(['connect', 'box', '--port', String(port)], { home: alice, readyPattern: /Press Ctrl-C/, name: 'connect-box' });
    seenByClient.push(connect.stdout);
    expect(connect.stdout).toContain(`host key is ${shown.sshHostKeyFingerprint}`);
    const knownHosts = join(alice, 'known_hosts');
    expect(connect.stdout).toContain(`ssh -p ${port} -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes 127.0.0.1`);
    expect(readFileSync(knownHosts, 'utf8')).toContain(`[127.0.0.1]:${port} ${shown.sshHostKey}`);
    const options = ['-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes'];
    const ssh = await runCommand('ssh', ['-p', String(port), ...options, '127.0.0.1', 'echo', 'via-connect'], { timeoutMs: 30_000 });
    seenByClient.push(ssh.stdout, ssh.stderr);
    expect(ssh).toMatchObject({ code: 0, stdout: 'via-connect\n' });
    const file = join(alice, 'upload.txt');
    writeFileSync(file, 'uploaded through airlock\n');
    const scp = await runCommand('scp', ['-P', String(port), ...options, file, `127.0.0.1:${marker('scp')}`], { timeoutMs: 30_000 });
    seenByClient.push(scp.stdout, scp.stderr);
    expect(scp.code, scp.stderr).toBe(0);
    expect(readFileSync(marker('scp'), 'utf8')).toBe('uploaded through airlock\n');
    rmSync(marker('scp'));
    await connect.stop('SIGINT');
  });

  it('says clearly when the target is down', async () => {
    const result = await asAlice(['ssh', 'down-box', '--', 'true']);
    expect(result.code).toBe(255);
    expect(result.stderr).toMatch(/airlock: cannot reach target "down-box" at 127\.0\.0\.1:\d+: connection refused/);
  });

  it('frees the session on the agent and the target when the client dies mid-transfer', async () => {
    const big = join(alice, 'big.bin');
    writeFileSync(big, randomBytes(64 * 1024 * 1024));
    const port = await freePort();
    const connect = await spawnCli(['connect', 'box', '--port', String(port)], { home: alice, readyPattern: /Press Ctrl-C/, name: 'connect-scp' });
    const options = ['-o', `UserKnownHostsFile=${join(alice, 'known_hosts')}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes'];
    const before = new Set((await sessionsOf('box')).map((s) => s.id));
    // 4 Mbit/s: slow enough to be killed halfway.
    const scp = await startProcess('scp-killed', 'scp', ['-l', '4000', '-P', String(port), ...options, big, `127.0.0.1:${marker('partial')}`]);
    await waitUntil(() => existsSync(marker('partial')) && statSync(marker('partial')).size > 0, 'the transfer to start');
    await scp.stop('SIGKILL');
    await waitUntil(async () => {
      const started = (await sessionsOf('box')).filter((s) => !before.has(s.id));
      return started.length > 0 && started.every((s) => s.status !== 'open');
    }, 'every box session to end');
    expect(statSync(marker('partial')).size).toBeLessThan(64 * 1024 * 1024);
    // The agent's login to the target is gone too: sshd has no connection left (its listener only).
    const sshdPid = readFileSync(join(sshd.dir, 'sshd.pid'), 'utf8').trim();
    await waitUntil(() => {
      try {
        return execFileSync('pgrep', ['-P', sshdPid], { encoding: 'utf8' }).trim() === '';
      } catch {
        return true;
      }
    }, 'sshd to see the agent go');
    rmSync(marker('partial'), { force: true });
    await connect.stop('SIGINT');
  });

  it('never lets the key or the password reach the client', () => {
    const keyBody = sshd.keyLogin.privateKey.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
    const everything = seenByClient.join('\n');
    expect(everything.length).toBeGreaterThan(0);
    expect(everything).not.toContain(sshd.passwordLogin.password);
    for (let i = 0; i + 40 <= keyBody.length; i += 40) expect(everything).not.toContain(keyBody.slice(i, i + 40));
  });
});
