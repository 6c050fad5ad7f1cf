/**
 * Policy on an interactive shell's input: every line is judged before the shell may run it.
 *
 * With a terminal (pty), keystrokes go on at once so the shell echoes them, and only the Enter is
 * held; a refused line is never entered: the gate clears it instead (Ctrl-E Ctrl-U, then Ctrl-C for a
 * fresh prompt) and prints why on the person's terminal. Without a terminal the shell reads plain
 * lines from stdin, so whole lines are held and a refused one is dropped. A line the shell would still
 * wait on (open quote, trailing `\`) runs nothing: it is judged as far as known, and again whole.
 * I/O goes through hooks, so the gate is tested without sockets.
 */
import type { HoldOutcome, HoldRequest } from '../engine.js';
import type { CommandJudgement } from './command-judge.js';
import { LineEditor, type EnteredLine } from './line-editor.js';

export type ShellLineVerdict = 'allowed' | 'denied' | 'approved' | 'rejected';

export interface ShellLineRecord {
  text: string;
  /** Absent when the session has no policy (everything runs, lines are only recorded). */
  verdict?: ShellLineVerdict;
  reviewId?: number;
  message?: string;
}

export interface ShellGateHooks {
  /** Bytes for the target's shell. */
  toTarget(data: string): void;
  /** airlock's own messages for the person (already terminal-formatted). */
  toUser(text: string): void;
  /** Policy for one line; undefined when the session has no policy. */
  judge?: (text: string, unknowable: string | undefined) => CommandJudgement;
  hold(request: HoldRequest, notify: (message: string) => void, signal: AbortSignal): Promise<HoldOutcome>;
  record(line: ShellLineRecord): void;
  /** The target's last output looks like a password prompt: what is typed now is a secret. */
  atPasswordPrompt(): boolean;
  /** Input is accepted again after `input` returned false. */
  resume(): void;
  /**
   * Resolves once the target has reacted to the clearing keys. Keys typed meanwhile wait: a shell
   * that is handling Ctrl-C discards what arrives with it.
   */
  settled?(): Promise<void>;
  signal: AbortSignal;
}

/** Clears the shell's line whatever its cursor (end, kill to start), then Ctrl-C for a fresh prompt. */
export const CLEAR_LINE = '\x05\x15\x03';
const END_PASTE = '\x1b[201~';
const SECRET_TEXT = '[typed at a password prompt]';
const MAX_QUEUED = 256 * 1024;

export class ShellGate {
  private readonly editor = new LineEditor();
  private readonly queue: string[] = [];
  private queued = 0;
  private pumping = false;
  /** Text of earlier lines the shell is still waiting to complete. */
  private continued: string | undefined;
  /** Plain-lines mode: the line being read. */
  private partial = '';
  private holding: { controller: AbortController; withdrawn: boolean } | undefined;

  constructor(
    private readonly mode: 'keystrokes' | 'lines',
    private readonly hooks: ShellGateHooks,
  ) {}

  /** Takes input from the person; false means "pause the source until resume()". */
  input(data: string): boolean {
    if (this.holding && this.mode === 'keystrokes' && data.includes('\x03')) {
      // Ctrl-C while a line waits for review withdraws it; the Ctrl-C itself is not passed on.
      this.holding.withdrawn = true;
      this.holding.controller.abort();
      data = data.replace('\x03', '');
    }
    if (data) {
      this.queue.push(data);
      this.queued += data.length;
    }
    void this.pump();
    return this.queued < MAX_QUEUED;
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && !this.hooks.signal.aborted) {
        const chunk = this.queue.shift()!;
        this.queued -= chunk.length;
        if (this.mode === 'lines') await this.lines(chunk);
        else await this.keystrokes(chunk);
      }
    } finally {
      this.pumping = false;
    }
    if (this.queued < MAX_QUEUED) this.hooks.resume();
  }

  private async keystrokes(chunk: string): Promise<void> {
    // One piece per Enter, so that a refusal resets the editor before it sees what follows.
    for (const piece of chunk.split(/(?<=[\r\n\x0f])/)) {
      for (const event of this.editor.feed(piece)) {
        if (event.type === 'forward') this.hooks.toTarget(event.data);
        else await this.enter(event.line);
      }
    }
  }

  private async lines(chunk: string): Promise<void> {
    for (const piece of chunk.split(/(?<=\n)/)) {
      if (!piece.endsWith('\n')) {
        this.partial += piece;
        continue;
      }
      const text = this.partial + piece.slice(0, -1);
      this.partial = '';
      await this.enter({ text: text.replace(/\r$/, ''), terminator: '\n' }, text);
    }
  }

  /** A line is complete: judge it, then let the shell run it or clear it. `raw`: the plain line to send. */
  private async enter(line: EnteredLine, raw?: string): Promise<void> {
    const release = () => this.hooks.toTarget(raw === undefined ? line.terminator : `${raw}${line.terminator}`);
    const text = this.continued === undefined ? line.text : `${this.continued}\n${line.text}`;
    if (text.trim() === '' && !line.unknowable) return release();
    const secret = this.hooks.atPasswordPrompt();
    const shown = secret ? SECRET_TEXT : text;
    if (!this.hooks.judge) {
      this.continued = undefined;
      this.hooks.record({ text: shown });
      return release();
    }
    const { verdict, incomplete } = this.hooks.judge(text, line.unknowable);
    if (verdict.action === 'allow') {
      this.continued = incomplete ? text : undefined;
      if (!incomplete) this.hooks.record({ text: shown, verdict: 'allowed' });
      return release();
    }
    if (verdict.action === 'deny' || secret) {
      const reason = verdict.action === 'deny'
        ? hide(verdict.reason, text, shown)
        : 'a line typed at a password prompt is never sent to reviewers, and the policy would hold it for review';
      return await this.refuse({ text: shown, verdict: 'denied', message: `airlock: denied: ${reason}` });
    }
    const holding = { controller: new AbortController(), withdrawn: false };
    const onAbort = () => holding.controller.abort();
    this.hooks.signal.addEventListener('abort', onAbort, { once: true });
    this.holding = holding;
    this.hooks.toUser(`\r\nairlock: "${oneLine(text)}" needs review (${verdict.hold.reason}); Ctrl-C withdraws it\r\n`);
    const outcome = await this.hooks
      .hold(verdict.hold, (message) => this.hooks.toUser(`${message}\r\n`), holding.controller.signal)
      .finally(() => {
        this.holding = undefined;
        this.hooks.signal.removeEventListener('abort', onAbort);
      });
    if (this.hooks.signal.aborted) return;
    if (outcome.released) {
      this.continued = incomplete ? text : undefined;
      this.hooks.toUser(`airlock: review ${outcome.reviewId} approved\r\n`);
      if (!incomplete) this.hooks.record({ text, verdict: 'approved', reviewId: outcome.reviewId });
      return release();
    }
    const message = holding.withdrawn ? 'airlock: withdrawn (Ctrl-C); the line was not run' : outcome.message;
    return await this.refuse({ text, verdict: 'rejected', message, ...(outcome.reviewId ? { reviewId: outcome.reviewId } : {}) });
  }

  private async refuse(record: ShellLineRecord & { message: string }): Promise<void> {
    this.continued = undefined;
    this.hooks.record(record);
    this.hooks.toUser(`\r\n${record.message}\r\n`);
    if (this.mode === 'keystrokes') {
      // Inside a bracketed paste the clearing keys would be pasted as text: end the paste first.
      this.hooks.toTarget(this.editor.pasting ? `${END_PASTE}${CLEAR_LINE}` : CLEAR_LINE);
      this.editor.reset();
      await this.hooks.settled?.();
    }
  }
}

function hide(reason: string, text: string, shown: string): string {
  return text && shown !== text ? reason.split(text).join(shown) : reason;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 120)}…` : flat;
}

/** Whether the end of the target's output is a prompt for a password or passphrase (input not echoed). */
export function looksLikePasswordPrompt(tail: string): boolean {
  const lastLine = tail.slice(tail.lastIndexOf('\n') + 1).replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  return /(password|passphrase|passcode|pin)\b[^\r\n]*:\s*$/i.test(lastLine);
}
