/**
 * The SSH engine against a real OpenSSH server (Debian's sshd, started here on a loopback port), with
 * a real ssh2 client in front and the real PolicyGate deciding; reviews are decided by the test the
 * way the control plane pushes them.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policy } from '../../policy/test-support/rules.js';
import type { ConnectionTarget } from '../engine.js';
import { makeContext, startAgentListener, waitFor, type AgentListener, type TestContext } from '../postgres/test-support/session-harness.js';
import { Masker } from '../../masking/masker.js';
import { SshEngine } from './engine.js';
import { generateHostKey } from './host-key.js';
import { collect, connectClient, exec, recordedTerminal, shell, testGate, type ExecResult, type RecordedTerminal, type TestGate } from './test-support/ssh-harness.js';
import { sshdAvailable, startTestSshd, type TestSshd } from './test-support/sshd.js';

const hostKey = generateHostKey();
let sshd: TestSshd;
let work: string;

/** What each new session of the listener gets: target, secret, gate and terminal. */
interface Setup {
  target?: Partial<ConnectionTarget>;
  secret?: string;
  gate?: TestGate;
  terminal?: RecordedTerminal;
  masking?: Masker;
}

async function serve(setup: Setup = {}): Promise<{ listener: AgentListener; contexts: TestContext[] }> {
  const contexts: TestContext[] = [];
  const listener = await startAgentListener(new SshEngine({ hostKey: () => hostKey, connectTimeoutMs: 5_000 }), () => {
    const target: ConnectionTarget = {
      name: 'box', type: 'ssh', host: sshd.host, port: sshd.port, database: '', user: sshd.keyLogin.user, secretRef: 'env:BOX_KEY',
      tlsMode: 'disable', options: { credential: 'key' }, ...setup.target,
    };
    const ctx = makeContext(target, 'secret' in setup ? setup.secret : sshd.keyLogin.privateKey);
    if (setup.gate) ctx.gate = setup.gate.gate;
    if (setup.terminal) ctx.terminal = setup.terminal;
    if (setup.masking) ctx.masking = setup.masking;
    contexts.push(ctx);
    return ctx;
  });
  return { listener, contexts };
}

async function withClient<T>(setup: Setup, use: (client: ssh2.Client, served: { contexts: TestContext[]; listener: AgentListener }) => Promise<T>): Promise<T> {
  const served = await serve(setup);
  const client = await connectClient(served.listener.port, hostKey);
  try {
    return await use(client, served);
  } finally {
    client.end();
    await served.listener.close();
  }
}

/** Children of the sshd listener: one per live connection. */
function sshdConnections(): number {
  const pid = readFileSync(join(sshd.dir, 'sshd.pid'), 'utf8').trim();
  try {
    return execFileSync('pgrep', ['-P', pid], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
}

const RM_DENIED = policy('ops', [{ commands: ['rm *', 'shutdown*'], action: 'deny' }, { commands: ['touch *'], action: 'review' }], 'allow', {
  review: { reviewers: ['group:dba'], approvals: 1, rejectOnAny: true, timeoutSeconds: 60, approveForMaxSeconds: 0 },
});

describe.skipIf(!sshdAvailable())('SshEngine against OpenSSH', () => {
  beforeAll(async () => {
    sshd = await startTestSshd();
    work = mkdtempSync(join(tmpdir(), 'airlock-ssh-engine-'));
  });

  afterAll(async () => {
    await sshd?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('runs an exec with the agent-held key and passes output, stderr and exit status through', async () => {
    await withClient({}, async (client, { contexts }) => {
      const result = await exec(client, 'echo hello; whoami; echo oops >&2; exit 3');
      expect(result).toEqual({ stdout: `hello\n${sshd.keyLogin.user}\n`, stderr: 'oops\n', code: 3 });
      await waitFor(() => contexts[0]!.records.length === 1);
      expect(contexts[0]!.records[0]).toMatchObject({ protocol: 'ssh', text: 'echo hello; whoami; echo oops >&2; exit 3', commandTag: 'exit 3' });
    });
  });

  it('masks exec output with the policy\'s content rules, a value split across reads included', async () => {
    const masking = new Masker([{ detect: ['card', 'email'], mode: { kind: 'redact' } }], Buffer.alloc(32, 7));
    const result = await withClient({ masking }, (client) =>
      exec(client, "printf 'card 4111 1111 '; sleep 0.2; printf '1111 1111 ok\\nmail ann@example.com\\n'; printf 'err bob@example.org\\n' >&2; exit 3"),
    );
    expect(result.stdout).toBe('card **** ok\nmail ****\n');
    expect(result.stderr).toBe('err ****\n');
    expect(result.code).toBe(3);
  });

  it('logs in with a password when the connection says credential=password', async () => {
    const setup = { target: { user: sshd.passwordLogin.user, options: { credential: 'password' } }, secret: sshd.passwordLogin.password };
    await withClient(setup, async (client) => {
      expect(await exec(client, 'whoami')).toMatchObject({ stdout: `${sshd.passwordLogin.user}\n`, code: 0 });
    });
  });

  it('serves a shell with a pty, follows window changes and records the terminal', async () => {
    const terminal = recordedTerminal();
    await withClient({ terminal }, async (client) => {
      const sh = await shell(client, { rows: 30, cols: 100, term: 'xterm' });
      sh.type('echo $((6*7)); stty size\r');
      await sh.waitFor(/42\r?\n30 100/);
      sh.channel.setWindow(50, 132, 0, 0);
      sh.type('stty size\r');
      await sh.waitFor('50 132');
      sh.type('exit\r');
      expect((await sh.closed).code).toBe(0);
    });
    expect(terminal.events[0]).toEqual(['start', JSON.stringify({ width: 100, height: 30, term: 'xterm' })]);
    expect(terminal.events).toContainEqual(['r', '132x50']);
    expect(terminal.events.filter(([k]) => k === 'o').map(([, d]) => d).join('')).toContain('42');
    expect(terminal.events.filter(([k]) => k === 'i').map(([, d]) => d).join('')).toContain('echo $((6*7))');
  });

  it('carries sftp both ways, byte for byte', async () => {
    const local = join(work, 'upload.bin');
    const back = join(work, 'download.bin');
    const data = randomBytes(3 * 1024 * 1024 + 17);
    writeFileSync(local, data);
    const remote = `/tmp/airlock-sftp-${process.pid}.bin`;
    await withClient({}, async (client, { contexts }) => {
      const sftp = await new Promise<ssh2.SFTPWrapper>((resolve, reject) => client.sftp((err, s) => (err ? reject(err) : resolve(s))));
      await new Promise<void>((resolve, reject) => sftp.fastPut(local, remote, (err) => (err ? reject(err) : resolve())));
      await new Promise<void>((resolve, reject) => sftp.fastGet(remote, back, (err) => (err ? reject(err) : resolve())));
      sftp.end();
      expect(readFileSync(back).equals(data)).toBe(true);
      expect((await exec(client, `sha256sum ${remote} && rm -f ${remote}`)).code).toBe(0);
      await waitFor(() => contexts[0]!.records.some((r) => r.text === 'sftp'), 5_000, 'the sftp record');
    });
  });

  it('refuses a denied exec with exit 1 and the reason on stderr; the target never runs it', async () => {
    const marker = `/tmp/airlock-denied-${process.pid}`;
    writeFileSync(marker, 'still here');
    try {
      await withClient({ gate: testGate(RM_DENIED) }, async (client, { contexts }) => {
        const result = await exec(client, `ls /tmp && rm -f ${marker}`);
        expect(result.code).toBe(1);
        expect(result.stdout).toBe('');
        expect(result.stderr).toContain(`airlock: denied: policy ops v1: rule 1 (deny) matches "rm -f ${marker}"`);
        expect(readFileSync(marker, 'utf8')).toBe('still here');
        await waitFor(() => contexts[0]!.records.length === 1);
        expect(contexts[0]!.records[0]).toMatchObject({ verdict: 'denied', commandTag: 'exit 1', text: `ls /tmp && rm -f ${marker}` });
      });
    } finally {
      rmSync(marker, { force: true });
    }
  });

  it('holds an exec that needs review, with progress on stderr, and runs it once approved', async () => {
    const gate = testGate(RM_DENIED);
    const marker = `/tmp/airlock-held-${process.pid}`;
    await withClient({ gate }, async (client, { contexts }) => {
      let stderr = '';
      const running = new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
        client.exec(`touch ${marker} && echo made`, (err, channel) => {
          if (err) return reject(err);
          let stdout = '';
          let code: number | null = null;
          channel.on('data', (d: Buffer) => (stdout += d));
          channel.stderr.on('data', (d: Buffer) => (stderr += d));
          channel.on('exit', (c: number) => (code = c));
          channel.on('close', () => resolve({ code, stdout }));
        });
      });
      await waitFor(() => gate.requests.length === 1, 5_000, 'the decision request');
      expect(gate.requests[0]!.statement).toBe(`touch ${marker} && echo made`);
      gate.approve(0, 7);
      expect(await running).toEqual({ code: 0, stdout: 'made\n' });
      expect(stderr).toContain('needs review');
      expect(stderr).toContain('held for review 7');
      await waitFor(() => contexts[0]!.records.length === 1);
      expect(contexts[0]!.records[0]).toMatchObject({ verdict: 'approved', reviewId: 7, commandTag: 'exit 0' });
    });
    rmSync(marker, { force: true });
  });

  it('exits 1 with the reviewer\'s reason when a held exec is rejected', async () => {
    const gate = testGate(RM_DENIED);
    await withClient({ gate }, async (client) => {
      const result = exec(client, 'touch /tmp/never');
      await waitFor(() => gate.requests.length === 1);
      gate.reject(0, 'not during the freeze', 9);
      const done = await result;
      expect(done.code).toBe(1);
      expect(done.stderr).toContain('review 9 rejected by bob: not during the freeze');
    });
  });

  it('withdraws a held command when the client goes away', async () => {
    const gate = testGate(RM_DENIED);
    const { listener } = await serve({ gate });
    const client = await connectClient(listener.port, hostKey);
    client.exec('touch /tmp/airlock-never-run', () => undefined);
    await waitFor(() => gate.requests.length === 1, 5_000, 'the decision request');
    client.destroy();
    await waitFor(() => gate.cancels.length === 1, 5_000, 'the withdrawal');
    expect(gate.cancels).toEqual([gate.requests[0]!.requestId]);
    await listener.sessions[0]!.summary;
    await listener.close();
  });

  it('refuses a denied line typed into a shell: it is cleared, never run, and the person sees why', async () => {
    const marker = `/tmp/airlock-shell-${process.pid}`;
    writeFileSync(marker, 'x');
    try {
      await withClient({ gate: testGate(RM_DENIED) }, async (client, { contexts }) => {
        const sh = await shell(client);
        sh.type(`echo one\r`);
        await sh.waitFor(/one\r\n/);
        sh.type(`rm -f ${marker}\r`);
        await sh.waitFor('airlock: denied');
        sh.type('echo two\r');
        await sh.waitFor(/two\r\n/);
        expect(readFileSync(marker, 'utf8')).toBe('x');
        // A line edited with Tab cannot be known: the strictest verdict of the policy (deny) applies.
        sh.type('ls /tm\t\r');
        await sh.waitFor('cannot be known (tab completion)');
        sh.type('exit\r');
        await sh.closed;
        await waitFor(() => contexts[0]!.records.length >= 4);
        expect(contexts[0]!.records.map((r) => [r.text, r.verdict])).toEqual([
          ['echo one', 'allowed'],
          [`rm -f ${marker}`, 'denied'],
          ['echo two', 'allowed'],
          [expect.stringContaining('ls /tm'), 'denied'],
          ['exit', 'allowed'],
        ]);
      });
    } finally {
      rmSync(marker, { force: true });
    }
  });

  it('refuses port forwarding unless a policy turns it on', async () => {
    const forward = (client: ssh2.Client) =>
      new Promise<string>((resolve) => {
        client.forwardOut('127.0.0.1', 0, sshd.host, sshd.port, (err, channel) => {
          if (err) return resolve(`refused: ${err.message}`);
          channel.once('data', (d: Buffer) => {
            resolve(d.toString('utf8').split('\r\n')[0]!);
            channel.close();
          });
        });
      });
    await withClient({ gate: testGate(RM_DENIED) }, async (client) => {
      expect(await forward(client)).toMatch(/^refused/);
    });
    const open = policy('forwarding', [], 'allow', { sshPortForwarding: true });
    await withClient({ gate: testGate(open) }, async (client) => {
      expect(await forward(client)).toMatch(/^SSH-2\.0-OpenSSH/);
    });
  });

  it('forwards the person\'s ssh-agent to the target only when a policy turns it on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-agentfwd-'));
    const socket = join(dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    try {
      await waitFor(() => existsSync(socket), 5_000, 'ssh-agent');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'forwarded-key', '-f', join(dir, 'id')]);
      execFileSync('ssh-add', ['-q', join(dir, 'id')], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'pipe' });
      const listKeys = async (gate: TestGate) => {
        const served = await serve({ gate });
        const client = await connectClient(served.listener.port, hostKey, { agent: socket });
        try {
          return await exec(client, 'ssh-add -l', { agentForward: true } as ssh2.ExecOptions).catch((err: Error) => ({ stdout: '', stderr: err.message, code: -1 }));
        } finally {
          client.end();
          await served.listener.close();
        }
      };
      const allowed = await listKeys(testGate(policy('agents', [], 'allow', { sshAgentForwarding: true })));
      expect(allowed).toMatchObject({ code: 0, stdout: expect.stringContaining('forwarded-key') });
      const refused = await listKeys(testGate(RM_DENIED));
      expect(refused.code).not.toBe(0);
      expect(refused.stdout).not.toContain('forwarded-key');
    } finally {
      agent.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tells the client clearly when the target is down', async () => {
    const closed = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
    });
    await withClient({ target: { port: closed } }, async (client, { contexts, listener }) => {
      const result = await exec(client, 'true');
      expect(result.code).toBe(255);
      expect(result.stderr).toContain(`airlock: cannot reach target "box" at 127.0.0.1:${closed}: connection refused`);
      client.end();
      const summary = await listener.sessions[0]!.summary;
      expect(summary.error).toMatchObject({ code: 'target_unreachable' });
      expect(contexts[0]!.records).toEqual([]);
    });
  });

  it('refuses a target whose host key is not the pinned one, and never shows the credential', async () => {
    await withClient({ target: { options: { credential: 'key', host_key: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } } }, async (client) => {
      const result = await exec(client, 'true');
      expect(result.code).toBe(255);
      expect(result.stderr).toContain(`presented host key ${sshd.hostKeyFingerprint}, not the pinned SHA256:AAAA`);
    });
    await withClient({ target: { options: { credential: 'key', host_key: sshd.hostKeyFingerprint } } }, async (client) => {
      expect((await exec(client, 'echo pinned')).stdout).toBe('pinned\n');
    });
    const wrong = 'not-the-password-7f3a';
    await withClient({ target: { user: sshd.passwordLogin.user, options: { credential: 'password' } }, secret: wrong }, async (client) => {
      const result = await exec(client, 'true');
      expect(result.stderr).toContain(`refused the agent's credential for user "${sshd.passwordLogin.user}"`);
      expect(result.stderr + result.stdout).not.toContain(wrong);
    });
  });

  it('frees the target connection when the client vanishes mid-transfer', async () => {
    const { listener, contexts } = await serve();
    const before = sshdConnections();
    const client = await connectClient(listener.port, hostKey);
    const channel = await new Promise<ssh2.ClientChannel>((resolve, reject) =>
      client.exec('cat > /dev/null', (err, c) => (err ? reject(err) : resolve(c))),
    );
    channel.write(randomBytes(512 * 1024));
    await waitFor(() => sshdConnections() > before, 5_000, 'the target connection');
    // The tunnel goes away without any SSH goodbye, as when the person's laptop drops off.
    listener.sessions[0]!.socket.destroy();
    const summary = await listener.sessions[0]!.summary;
    expect(summary.bytesFromClient).toBeGreaterThan(0);
    await waitFor(() => sshdConnections() === before, 10_000, 'sshd to see the agent go');
    client.destroy();
    expect(contexts).toHaveLength(1);
    await listener.close();
  });

  it('ends every channel with a message when the session is killed', async () => {
    const { listener, contexts } = await serve();
    const client = await connectClient(listener.port, hostKey);
    let started = false;
    const result = new Promise<ExecResult>((resolve, reject) =>
      client.exec('echo started; sleep 10', (err, channel) => {
        if (err) return reject(err);
        channel.once('data', () => (started = true));
        resolve(collect(channel));
      }),
    );
    await waitFor(() => started, 5_000, 'the command to start');
    contexts[0]!.abort.abort(new Error('killed by alice'));
    const done = await result;
    expect(done.code).toBe(255);
    expect(done.stderr).toContain('airlock: the session was ended: killed by alice');
    expect((await listener.sessions[0]!.summary).error).toMatchObject({ code: 'killed' });
    client.end();
    await listener.close();
  });
});
