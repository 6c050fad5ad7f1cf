/**
 * Drives the SSH engine in tests: the engine serves a loopback listener (as the tunnel would), a
 * real ssh2 client connects to it, and policy is the real PolicyGate with a DecisionBroker whose
 * decisions the test pushes, as the control plane would.
 */
import { create } from '@bufbuild/protobuf';
import { DecisionUpdateSchema, ReviewState } from '@airlock/proto';
import ssh2 from 'ssh2';
import type { ClientChannel } from 'ssh2';
import type { TerminalRecorder } from '../../engine.js';
import type { ControlMessageInit } from '../../../link/control-link.js';
import type { PolicyRules } from '../../../policy/index.js';
import { DecisionBroker } from '../../../reviews/decision-broker.js';
import { PolicyGate } from '../../../reviews/policy-gate.js';
import { fingerprintMatches, type SshHostKey } from '../host-key.js';

export interface TestGate {
  gate: PolicyGate;
  /** Decision requests the agent sent, as the control plane would get them. */
  requests: { requestId: string; statement: string }[];
  /** Request ids the agent withdrew (the client went away while they were held). */
  cancels: string[];
  approve(index: number, reviewId?: number): void;
  reject(index: number, reason: string, reviewId?: number): void;
}

export function testGate(...policies: PolicyRules[]): TestGate {
  const requests: TestGate['requests'] = [];
  const cancels: string[] = [];
  const broker = new DecisionBroker((message: ControlMessageInit) => {
    const m = message.message as { case: string; value: { requestId: string; statement: string } };
    if (m.case === 'decisionRequest') requests.push({ requestId: m.value.requestId, statement: m.value.statement });
    if (m.case === 'decisionCancel') cancels.push(m.value.requestId);
  });
  // SSH requests never reach the SQL judge.
  const gate = new PolicyGate('ssh-test', { policies, unrestricted: false }, undefined as never, broker);
  const decide = (index: number, state: ReviewState, reviewId: number, reason = '') => {
    const request = requests[index];
    if (!request) throw new Error(`no decision request #${index} (have ${requests.length})`);
    broker.onUpdate(create(DecisionUpdateSchema, {
      requestId: request.requestId, reviewId: BigInt(reviewId), state, approvals: 1, approvalsRequired: 1,
      decidedBy: ['bob'], reason,
    }));
  };
  const pending = (index: number, reviewId: number) => decide(index, ReviewState.PENDING, reviewId);
  return {
    gate,
    requests,
    cancels,
    approve: (index, reviewId = index + 1) => {
      pending(index, reviewId);
      decide(index, ReviewState.APPROVED, reviewId);
    },
    reject: (index, reason, reviewId = index + 1) => decide(index, ReviewState.REJECTED, reviewId, reason),
  };
}

export interface RecordedTerminal extends TerminalRecorder {
  events: ['start' | 'o' | 'i' | 'r', string][];
}

export function recordedTerminal(): RecordedTerminal {
  const events: RecordedTerminal['events'] = [];
  return {
    events,
    start: (header) => events.push(['start', JSON.stringify(header)]),
    output: (data) => events.push(['o', data]),
    input: (data) => events.push(['i', data]),
    resize: (w, h) => events.push(['r', `${w}x${h}`]),
  };
}

/** An ssh2 client logged in to the engine's listener (any login is accepted), verifying the agent's host key. */
export function connectClient(port: number, hostKey: SshHostKey, extra: Partial<ssh2.ConnectConfig> = {}): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.once('ready', () => resolve(client));
    client.once('error', reject);
    client.connect({
      host: '127.0.0.1', port, username: 'whoever', readyTimeout: 20_000,
      hostVerifier: (key: Buffer) => fingerprintMatches(hostKey.fingerprint, key),
      ...extra,
    });
  });
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number | null;
  signal?: string;
}

export function collect(channel: ClientChannel): Promise<ExecResult> {
  let stdout = '';
  let stderr = '';
  let code: number | null = null;
  let signal: string | undefined;
  channel.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  channel.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  channel.on('exit', (c: number | null, s?: string) => {
    code = c;
    signal = s;
  });
  return new Promise((resolve) => channel.once('close', () => resolve({ stdout, stderr, code, ...(signal ? { signal } : {}) })));
}

export function exec(client: ssh2.Client, command: string, options: ssh2.ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, options, (err, channel) => (err ? reject(err) : resolve(collect(channel))));
  });
}

/** A shell with a pty; `output()` is everything the terminal showed so far. */
export interface TestShell {
  channel: ClientChannel;
  output(): string;
  type(keys: string): void;
  waitFor(pattern: RegExp | string, timeoutMs?: number): Promise<void>;
  closed: Promise<ExecResult>;
}

export function shell(client: ssh2.Client, window: ssh2.PseudoTtyOptions = { rows: 24, cols: 80, term: 'xterm' }): Promise<TestShell> {
  return new Promise((resolve, reject) => {
    client.shell(window, {}, (err, channel) => {
      if (err) return reject(err);
      let output = '';
      channel.on('data', (d: Buffer) => (output += d.toString('utf8')));
      const closed = collect(channel);
      resolve({
        channel,
        output: () => output,
        type: (keys) => channel.write(keys),
        closed,
        waitFor: async (pattern, timeoutMs = 10_000) => {
          const deadline = Date.now() + timeoutMs;
          const matches = () => (typeof pattern === 'string' ? output.includes(pattern) : pattern.test(output));
          while (!matches()) {
            if (Date.now() > deadline) throw new Error(`the terminal never showed ${String(pattern)}; it showed:\n${output}`);
            await new Promise((r) => setTimeout(r, 20));
          }
        },
      });
    });
  });
}
