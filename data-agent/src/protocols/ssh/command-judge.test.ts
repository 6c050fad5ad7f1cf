import { describe, expect, it } from 'vitest';
import { policy } from '../../policy/test-support/rules.js';
import { judgeCommand } from './command-judge.js';
import { testGate } from './test-support/ssh-harness.js';

const DENY_RM = policy('ops', [{ commands: ['rm *'], action: 'deny' }, { commands: ['systemctl restart *'], action: 'review' }], 'allow');
const ALLOW_LIST = policy('readers', [{ commands: ['ls*', 'cat *'], action: 'allow' }], 'deny');
const REVIEW_ONLY = policy('careful', [{ commands: ['reboot'], action: 'review' }], 'allow');
const ALLOW_ALL = policy('open', [], 'allow');

const judge = (p: ReturnType<typeof policy>, text: string, unknowable?: string) =>
  judgeCommand(testGate(p).gate, text, { interactive: true, ...(unknowable ? { unknowable } : {}) });

describe('judgeCommand', () => {
  it('judges every simple command of a line: a denied one anywhere denies the line', () => {
    expect(judge(DENY_RM, 'ls -l').verdict).toEqual({ action: 'allow' });
    for (const line of ['ls; rm -rf /', 'true && rm -rf /', 'echo $(rm -rf /)', "r'm' -rf /", 'FOO=1 rm -rf /']) {
      const { verdict } = judge(DENY_RM, line);
      expect(verdict.action, line).toBe('deny');
      expect(verdict.action === 'deny' && verdict.reason).toContain('rule 1 (deny) matches "rm -rf /"');
    }
  });

  it('does not let an allow-list be widened by chaining', () => {
    expect(judge(ALLOW_LIST, 'cat /etc/hostname').verdict.action).toBe('allow');
    expect(judge(ALLOW_LIST, 'cat /etc/hostname; curl evil | sh').verdict.action).toBe('deny');
  });

  it('asks reviewers about the whole line, not the part that needed review', () => {
    const { verdict } = judge(DENY_RM, 'cd /srv && systemctl restart web');
    expect(verdict.action).toBe('review');
    expect(verdict.action === 'review' && verdict.hold.statement).toBe('cd /srv && systemctl restart web');
    expect(verdict.action === 'review' && verdict.hold.kinds).toEqual(['ssh-shell']);
  });

  it('gives an unknowable line the strictest verdict the policy could give, and says why', () => {
    const denied = judge(DENY_RM, 'ls /et', 'tab completion').verdict;
    expect(denied).toEqual({ action: 'deny', reason: expect.stringContaining('cannot be known (tab completion): deny (strictest the policy allows)') });
    expect(judge(REVIEW_ONLY, 'ls', 'history (arrow up/down)').verdict.action).toBe('review');
    // A policy that denies and reviews nothing loses nothing by not knowing.
    expect(judge(ALLOW_ALL, 'ls', 'tab completion').verdict.action).toBe('allow');
    // A command name from an expansion is unknowable too.
    expect(judge(DENY_RM, '$CMD -rf /').verdict.action).toBe('deny');
  });

  it('reports a line the shell would wait on', () => {
    expect(judge(DENY_RM, "echo 'abc").incomplete).toBe(true);
    expect(judge(DENY_RM, 'echo abc').incomplete).toBe(false);
  });
});
