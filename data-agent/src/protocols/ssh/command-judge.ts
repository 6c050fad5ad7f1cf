/**
 * Judges one SSH command line (an exec request or a shell line) against the session's policy: the
 * line as typed, and each simple command it runs (`ls; rm -rf /` runs `rm -rf /`), strictest wins.
 * A line whose effect cannot be known gets the strictest verdict the policy could give.
 */
import { createHash } from 'node:crypto';
import type { GateVerdict, ProtocolRequest, StatementGate } from '../engine.js';
import { splitCommandLine } from './shell-split.js';

export interface CommandJudgement {
  verdict: GateVerdict;
  /** The shell would wait for more input before running anything (open quote, trailing `|`...). */
  incomplete: boolean;
}

export function judgeCommand(gate: StatementGate, text: string, options: { interactive: boolean; unknowable?: string }): CommandJudgement {
  const split = splitCommandLine(text);
  const unknowable = options.unknowable ?? split.unknowable;
  const base = { protocol: 'ssh' as const, interactive: options.interactive };
  if (unknowable) {
    return { verdict: gate.judgeRequest({ ...base, text, command: text.trim(), unknowable }), incomplete: split.incomplete };
  }
  const requests: ProtocolRequest[] = [{ ...base, text, command: text.trim() }];
  for (const command of new Set(split.commands)) {
    if (command !== text.trim()) requests.push({ ...base, text: command, command });
  }
  const verdicts = requests.map((r) => gate.judgeRequest(r));
  return { verdict: strictest(verdicts, text), incomplete: split.incomplete };
}

/** Deny wins, then review (asked about the whole line, so the reviewer sees what will run), then allow. */
function strictest(verdicts: GateVerdict[], text: string): GateVerdict {
  const denied = verdicts.find((v) => v.action === 'deny');
  if (denied) return denied;
  const review = verdicts.find((v): v is Extract<GateVerdict, { action: 'review' }> => v.action === 'review');
  if (!review) return { action: 'allow' };
  if (review.hold.statement === text) return review;
  const fingerprint = createHash('sha256').update(`ssh\u0000${text}`).digest('hex');
  return { action: 'review', hold: { ...review.hold, statement: text, fingerprint } };
}
