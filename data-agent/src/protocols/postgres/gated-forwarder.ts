/**
 * Puts policy between the client and the server. A simple Query is judged alone; an extended-protocol
 * group (everything up to Sync, or Flush) is judged whole before any of it is forwarded, so a denied or
 * rejected statement never reaches the server and its group is refused as one, like a multi-statement
 * Query. Answers airlock writes itself wait until the server has answered everything forwarded before,
 * so the client sees messages in protocol order.
 */
import type { GateVerdict, HoldOutcome, HoldRequest, StatementGate } from '../engine.js';
import type { FrontendFrame } from './frontend-parser.js';
import { errorResponse, noticeResponse, readyForQuery } from './serializer.js';
import type { StatementTracker } from './statement-tracker.js';

export const INSUFFICIENT_PRIVILEGE = '42501';

export interface GatedForwarderHooks {
  /** Sends frames to the server (and the tracker). */
  forward(frames: FrontendFrame[]): void;
  /** Writes airlock's own messages to the client once the server has caught up. */
  answer(messages: Buffer[]): Promise<void>;
  /** The transaction status of the server's last ReadyForQuery. */
  transactionStatus(): string;
  signal: AbortSignal;
}

type Refusal = { message: string; verdict: 'denied' | 'rejected'; reviewId?: number };

export class GatedForwarder {
  private group: FrontendFrame[] = [];
  /** portal → statement name, for the refusal message of an Execute. */
  private readonly portals = new Map<string, string>();
  /** A refused Flush-group: drop frames until the client's Sync. */
  private skippingUntilSync = false;
  /** Part of the current Sync-group already went to the server (it ended with Flush). */
  private forwardedSinceSync = false;

  constructor(
    private readonly gate: StatementGate,
    private readonly tracker: StatementTracker,
    private readonly hooks: GatedForwarderHooks,
  ) {}

  async process(frames: FrontendFrame[]): Promise<void> {
    for (const frame of frames) {
      if (this.hooks.signal.aborted) return;
      await this.accept(frame);
    }
  }

  private async accept(frame: FrontendFrame): Promise<void> {
    const m = frame.message;
    if (this.skippingUntilSync) {
      if (m.type === 'Sync') await this.endSkipping(frame);
      return;
    }
    switch (m.type) {
      case 'Query':
        return this.judgeQuery(frame, m.sql);
      case 'Parse':
      case 'Bind':
      case 'Describe':
      case 'Execute':
      case 'Close':
        this.group.push(frame);
        return;
      case 'Sync':
      case 'Flush':
        this.group.push(frame);
        return this.judgeGroup(m.type);
      default:
        // Copy data, Terminate and the like carry no new statement.
        this.hooks.forward([frame]);
    }
  }

  private async judgeQuery(frame: FrontendFrame, sql: string): Promise<void> {
    const verdict = await this.gate.judgeQuery(sql);
    const refusal = await this.settle([verdict]);
    if (!refusal) return this.hooks.forward([frame]);
    this.tracker.recordRefused('simple', sql, INSUFFICIENT_PRIVILEGE, refusal.message, refusal.verdict, refusal.reviewId);
    await this.hooks.answer([this.errorFor(refusal), readyForQuery(this.hooks.transactionStatus())]);
  }

  private async judgeGroup(end: 'Sync' | 'Flush'): Promise<void> {
    const frames = this.group;
    this.group = [];
    const { verdicts, texts } = await this.judgeFrames(frames);
    const refusal = await this.settle(verdicts);
    if (!refusal) {
      this.hooks.forward(frames);
      this.forwardedSinceSync = end === 'Flush';
      return;
    }
    this.tracker.recordRefused('extended', texts.join('; '), INSUFFICIENT_PRIVILEGE, refusal.message, refusal.verdict, refusal.reviewId);
    if (end === 'Flush') {
      this.skippingUntilSync = true;
      return this.hooks.answer([this.errorFor(refusal)]);
    }
    await this.finishRefusedGroup([this.errorFor(refusal)], frames.at(-1)!);
  }

  private async endSkipping(sync: FrontendFrame): Promise<void> {
    this.skippingUntilSync = false;
    this.group = [];
    await this.finishRefusedGroup([], sync);
  }

  /** Ends a refused group with exactly one ReadyForQuery: the server's if it saw part of the group, else ours. */
  private async finishRefusedGroup(messages: Buffer[], sync: FrontendFrame): Promise<void> {
    if (this.forwardedSinceSync) {
      this.forwardedSinceSync = false;
      await this.hooks.answer(messages);
      this.hooks.forward([sync]);
      return;
    }
    await this.hooks.answer([...messages, readyForQuery(this.hooks.transactionStatus())]);
  }

  private async judgeFrames(frames: FrontendFrame[]): Promise<{ verdicts: GateVerdict[]; texts: string[] }> {
    const verdicts: GateVerdict[] = [];
    const texts: string[] = [];
    const statementText = new Map<string, string>();
    for (const { message: m } of frames) {
      if (m.type === 'Parse') {
        verdicts.push(await this.gate.judgeParse(m.name, m.sql));
        statementText.set(m.name, m.sql);
      } else if (m.type === 'Bind') {
        this.portals.set(m.portal, m.statement);
        this.gate.bind(m.portal, m.statement);
      } else if (m.type === 'Execute') {
        const statement = this.portals.get(m.portal) ?? '';
        verdicts.push(this.gate.judgeExecute(m.portal));
        texts.push(statementText.get(statement) ?? `EXECUTE ${statement || '(unnamed statement)'}`);
      }
    }
    return { verdicts, texts };
  }

  /** Deny wins at once; reviews are held one after another; undefined means forward. */
  private async settle(verdicts: GateVerdict[]): Promise<Refusal | undefined> {
    const denied = verdicts.find((v): v is Extract<GateVerdict, { action: 'deny' }> => v.action === 'deny');
    if (denied) return { message: `airlock: ${denied.reason}`, verdict: 'denied' };
    const approvals: number[] = [];
    for (const verdict of verdicts) {
      if (verdict.action !== 'review') continue;
      const outcome = await this.hold(verdict.hold);
      if (!outcome.released) return { message: outcome.message, verdict: 'rejected', reviewId: outcome.reviewId };
      approvals.push(outcome.reviewId);
    }
    if (approvals.length > 0) this.tracker.markNextApproved(approvals[0]!);
    return undefined;
  }

  private hold(request: HoldRequest): Promise<HoldOutcome> {
    return this.gate.hold(
      request,
      (message) => void this.hooks.answer([noticeResponse({ severity: 'NOTICE', code: '00000', message })]),
      this.hooks.signal,
    );
  }

  private errorFor(refusal: Refusal): Buffer {
    return errorResponse({ severity: 'ERROR', code: INSUFFICIENT_PRIVILEGE, message: refusal.message });
  }
}
