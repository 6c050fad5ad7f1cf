import { describe, expect, it } from 'vitest';
import { policy } from '../../policy/test-support/rules.js';
import type { HoldOutcome, HoldRequest } from '../engine.js';
import { judgeCommand } from './command-judge.js';
import { CLEAR_LINE, looksLikePasswordPrompt, ShellGate, type ShellLineRecord } from './shell-gate.js';
import { testGate } from './test-support/ssh-harness.js';

const OPS = policy('ops', [{ commands: ['rm *'], action: 'deny' }, { commands: ['reboot'], action: 'review' }], 'allow');

interface Harness {
  gate: ShellGate;
  target: string[];
  user: string[];
  records: ShellLineRecord[];
  holds: { request: HoldRequest; decide: (o: HoldOutcome) => void; signal: AbortSignal }[];
  prompt: { password: boolean };
}

function harness(mode: 'keystrokes' | 'lines', options: { policy?: boolean } = {}): Harness {
  const h: Harness = { target: [], user: [], records: [], holds: [], prompt: { password: false } } as unknown as Harness;
  const policyGate = testGate(OPS).gate;
  h.gate = new ShellGate(mode, {
    toTarget: (d) => h.target.push(d),
    toUser: (t) => h.user.push(t),
    ...(options.policy === false ? {} : { judge: (text: string, unknowable: string | undefined) => judgeCommand(policyGate, text, { interactive: true, ...(unknowable ? { unknowable } : {}) }) }),
    hold: (request, _notify, signal) => new Promise((decide) => h.holds.push({ request, decide, signal })),
    record: (r) => h.records.push(r),
    atPasswordPrompt: () => h.prompt.password,
    resume: () => undefined,
    signal: new AbortController().signal,
  });
  return h;
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('ShellGate with a terminal', () => {
  it('passes keystrokes on at once and the Enter once the line is allowed', async () => {
    const h = harness('keystrokes');
    h.gate.input('ls -l\r');
    await settle();
    expect(h.target.join('')).toBe('ls -l\r');
    expect(h.records).toEqual([{ text: 'ls -l', verdict: 'allowed' }]);
  });

  it('clears a denied line instead of entering it, tells the person, and goes on with what follows', async () => {
    const h = harness('keystrokes');
    h.gate.input('rm -rf /\recho ok\r');
    await settle();
    expect(h.target.join('')).toBe(`rm -rf /${CLEAR_LINE}echo ok\r`);
    expect(h.user.join('')).toContain('airlock: denied: policy ops v1: rule 1 (deny) matches "rm -rf /"');
    expect(h.records.map((r) => r.verdict)).toEqual(['denied', 'allowed']);
  });

  it('ends a bracketed paste before clearing, so the clearing keys are not pasted as text', async () => {
    const h = harness('keystrokes');
    h.gate.input('\x1b[200~rm -rf /\r');
    await settle();
    expect(h.target.join('')).toBe(`\x1b[200~rm -rf /\x1b[201~${CLEAR_LINE}`);
  });

  it('judges a continued line whole: `r\\` then `m -rf /` runs rm', async () => {
    const h = harness('keystrokes');
    h.gate.input('r\\\r');
    await settle();
    expect(h.target.join('')).toBe('r\\\r');
    h.gate.input('m -rf /\r');
    await settle();
    expect(h.target.join('')).toBe(`r\\\rm -rf /${CLEAR_LINE}`);
    expect(h.records).toEqual([expect.objectContaining({ text: 'r\\\nm -rf /', verdict: 'denied' })]);
  });

  it('holds a line for review while input waits, and enters it once approved', async () => {
    const h = harness('keystrokes');
    h.gate.input('reboot\rls\r');
    await settle();
    expect(h.target.join('')).toBe('reboot');
    expect(h.holds).toHaveLength(1);
    h.holds[0]!.decide({ released: true, reviewId: 4 });
    await settle();
    expect(h.target.join('')).toBe('reboot\rls\r');
    expect(h.records).toEqual([{ text: 'reboot', verdict: 'approved', reviewId: 4 }, { text: 'ls', verdict: 'allowed' }]);
  });

  it('withdraws a held line on Ctrl-C without passing the Ctrl-C on', async () => {
    const h = harness('keystrokes');
    h.gate.input('reboot\r');
    await settle();
    h.gate.input('\x03');
    await settle();
    expect(h.holds[0]!.signal.aborted).toBe(true);
    h.holds[0]!.decide({ released: false, reviewId: 5, message: 'the session ended' });
    await settle();
    expect(h.target.join('')).toBe(`reboot${CLEAR_LINE}`);
    expect(h.user.join('')).toContain('withdrawn (Ctrl-C)');
    expect(h.records[0]).toMatchObject({ verdict: 'rejected', reviewId: 5 });
  });

  it('keeps what is typed at a password prompt out of the record and away from reviewers', async () => {
    const h = harness('keystrokes');
    h.prompt.password = true;
    h.gate.input('hunter2\r');
    await settle();
    expect(h.target.join('')).toBe('hunter2\r');
    expect(h.records).toEqual([{ text: '[typed at a password prompt]', verdict: 'allowed' }]);
    const reviewed = harness('keystrokes');
    reviewed.prompt.password = true;
    reviewed.gate.input('reboot\r');
    await settle();
    expect(reviewed.holds).toEqual([]);
    expect(reviewed.user.join('')).toContain('never sent to reviewers');
    expect(JSON.stringify(reviewed.records)).not.toContain('reboot');
  });

  it('only records lines when the session has no policy', async () => {
    const h = harness('keystrokes', { policy: false });
    h.gate.input('rm -rf /tmp/x\r');
    await settle();
    expect(h.target.join('')).toBe('rm -rf /tmp/x\r');
    expect(h.records).toEqual([{ text: 'rm -rf /tmp/x' }]);
  });
});

describe('ShellGate without a terminal', () => {
  it('sends whole lines once judged and drops denied ones, so nothing of them reaches the shell', async () => {
    const h = harness('lines');
    h.gate.input('echo a\nrm -rf /\necho');
    h.gate.input(' b\n');
    await settle();
    expect(h.target.join('')).toBe('echo a\necho b\n');
    expect(h.user.join('')).toContain('airlock: denied');
  });
});

describe('looksLikePasswordPrompt', () => {
  it('knows the usual prompts', () => {
    expect(looksLikePasswordPrompt('$ sudo ls\r\n[sudo] password for bob: ')).toBe(true);
    expect(looksLikePasswordPrompt('Password:')).toBe(true);
    expect(looksLikePasswordPrompt("Enter passphrase for key '/root/.ssh/id_ed25519': ")).toBe(true);
    expect(looksLikePasswordPrompt('bob@box:~$ ')).toBe(false);
    expect(looksLikePasswordPrompt('Password: hunter2')).toBe(false);
  });
});
