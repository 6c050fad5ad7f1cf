/**
 * Follows a session's statements through the pipeline and records each one when the server answers.
 * The server answers in order, so a FIFO of what the client sent is matched to CommandComplete /
 * ErrorResponse / EmptyQueryResponse / PortalSuspended / ReadyForQuery. Pure: no I/O; the clock is injected.
 */
import type { StatementProtocol, StatementRecord, StatementRecorder } from '../engine.js';
import type { BackendMessage } from './backend-scanner.js';
import type { FrontendMessage } from './frontend-parser.js';

export interface TrackerClock {
  /** Monotonic nanoseconds, for durations. */
  monotonicNs(): bigint;
  now(): Date;
}

export const systemClock: TrackerClock = { monotonicNs: () => process.hrtime.bigint(), now: () => new Date() };

interface PendingStatement {
  kind: 'statement';
  protocol: StatementProtocol;
  text: string;
  startedAt: Date;
  startNs: bigint;
  commandTag: string;
  rows?: number;
  errorSqlstate: string;
  errorMessage: string;
  reviewId?: number;
  /** Commands of a simple Query that have completed so far (the next result is the next command's). */
  completed: number;
}

type Pending = PendingStatement | { kind: 'sync' };

export class StatementTracker {
  private readonly preparedText = new Map<string, string>();
  private readonly portalText = new Map<string, string>();
  private readonly queue: Pending[] = [];
  /** After an extended-protocol error the server ignores everything until Sync. */
  private skippingUntilSync = false;
  private sequence = 0;
  private nextApproval: number | undefined;
  /** Set when the session runs under a policy: statements that simply ran were allowed by it. */
  defaultVerdict: StatementRecord['verdict'];

  constructor(
    private readonly recorder: StatementRecorder,
    private readonly clock: TrackerClock = systemClock,
  ) {}

  /** Statements sent and not yet answered. */
  get pendingCount(): number {
    return this.queue.filter((p) => p.kind === 'statement').length;
  }

  /**
   * The statement the server is answering now: its text and, for a simple Query holding several
   * commands, which of them (0-based). Undefined when no statement is waiting for its result.
   */
  get answering(): { text: string; protocol: StatementProtocol; command: number } | undefined {
    const head = this.queue[0];
    return head?.kind === 'statement' ? { text: head.text, protocol: head.protocol, command: head.completed } : undefined;
  }

  /** Call for each client message as it is forwarded upstream. */
  onClient(msg: FrontendMessage): void {
    switch (msg.type) {
      case 'Query':
        this.queue.push(this.start('simple', msg.sql));
        break;
      case 'Parse':
        this.preparedText.set(msg.name, msg.sql);
        break;
      case 'Bind':
        this.portalText.set(msg.portal, this.preparedText.get(msg.statement) ?? '');
        break;
      case 'Execute':
        if (!this.skippingUntilSync) this.queue.push(this.start('extended', this.portalText.get(msg.portal) ?? ''));
        break;
      case 'Close':
        (msg.kind === 'S' ? this.preparedText : this.portalText).delete(msg.name);
        break;
      case 'Sync':
        if (this.skippingUntilSync) this.skippingUntilSync = false;
        else this.queue.push({ kind: 'sync' });
        break;
      default:
        break;
    }
  }

  /** Call for each decoded server message. */
  onServer(msg: BackendMessage): void {
    const head = this.queue[0];
    switch (msg.type) {
      case 'CommandComplete':
        if (head?.kind === 'statement') this.complete(head, msg.tag, msg.rows);
        break;
      case 'EmptyQueryResponse':
      case 'PortalSuspended':
        if (head?.kind === 'statement') this.complete(head, '', undefined);
        break;
      case 'ErrorResponse':
        if (head?.kind === 'statement') this.fail(head, msg.fields.code, msg.fields.message);
        // An error with nothing pending came from Parse/Bind/Describe: the server now skips to Sync.
        else if (!head) this.skippingUntilSync = true;
        break;
      case 'ReadyForQuery':
        this.readyForQuery();
        break;
      default:
        break;
    }
  }

  /** A statement airlock answered itself (denied, or rejected in review): it never reached the server. */
  recordRefused(protocol: StatementProtocol, text: string, sqlstate: string, message: string, verdict: 'denied' | 'rejected', reviewId?: number): void {
    const p = { ...this.start(protocol, text), errorSqlstate: sqlstate, errorMessage: message };
    this.emit(p, { verdict, ...(reviewId ? { reviewId } : {}) });
  }

  /** Marks the statement that will be sent next as released by a review, for the record. */
  markNextApproved(reviewId: number): void {
    this.nextApproval = reviewId;
  }

  /** The session ended: statements still waiting are recorded as unfinished. */
  abandon(reason: string): void {
    for (const p of this.queue.splice(0)) {
      if (p.kind === 'statement') this.emit({ ...p, errorMessage: p.errorMessage || reason });
    }
  }

  private start(protocol: StatementProtocol, text: string): PendingStatement {
    const reviewId = this.nextApproval;
    this.nextApproval = undefined;
    return {
      ...(reviewId ? { reviewId } : {}),
      kind: 'statement', protocol, text, startedAt: this.clock.now(), startNs: this.clock.monotonicNs(),
      commandTag: '', errorSqlstate: '', errorMessage: '', completed: 0,
    };
  }

  /** A simple Query may hold several commands: it stays open until ReadyForQuery, summing row counts. */
  private complete(head: PendingStatement, tag: string, rows: number | undefined): void {
    if (head.protocol === 'simple') {
      head.completed++;
      head.commandTag = tag || head.commandTag;
      if (rows !== undefined) head.rows = (head.rows ?? 0) + rows;
      return;
    }
    this.queue.shift();
    head.commandTag = tag;
    head.rows = rows;
    this.emit(head);
  }

  private fail(head: PendingStatement, sqlstate: string, message: string): void {
    head.errorSqlstate = sqlstate;
    head.errorMessage = message;
    if (head.protocol === 'simple') return;
    this.queue.shift();
    this.emit(head);
    // The server skips the rest of the pipeline up to the next Sync: those Executes never run.
    while (this.queue.length > 0 && this.queue[0]!.kind !== 'sync') this.queue.shift();
    if (this.queue.length === 0) this.skippingUntilSync = true;
  }

  private readyForQuery(): void {
    while (this.queue.length > 0) {
      const p = this.queue.shift()!;
      if (p.kind === 'sync') return;
      if (p.protocol === 'simple') return this.emit(p);
      this.emit({ ...p, errorMessage: p.errorMessage || 'no result before ReadyForQuery' });
    }
  }

  private emit(p: PendingStatement, extra: Pick<StatementRecord, 'verdict' | 'reviewId'> = {}): void {
    const review = p.reviewId ? { verdict: 'approved' as const, reviewId: p.reviewId } : this.defaultVerdict ? { verdict: this.defaultVerdict } : {};
    this.recorder.record({
      ...review,
      ...extra,
      sequence: ++this.sequence,
      text: p.text,
      startedAt: p.startedAt,
      durationUs: Number((this.clock.monotonicNs() - p.startNs) / 1000n),
      ...(p.rows !== undefined ? { rows: p.rows } : {}),
      commandTag: p.commandTag,
      errorSqlstate: p.errorSqlstate,
      errorMessage: p.errorMessage,
      protocol: p.protocol,
    });
  }
}
