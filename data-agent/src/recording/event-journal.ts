/**
 * Session events (statements, recording chunks, session ends) on their way to the control plane.
 * Every batch is kept until the control plane says it stored it (EventsStored), and sent again
 * after a reconnect or when no acknowledgement comes: a control plane that restarts or cannot write
 * loses nothing. When it stays unable for too long, or the journal fills, each session's policy
 * decides: its session is stopped, or it continues and the lost events are reported as a gap.
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { tunable } from '@airlock/proto';
import type { ControlRequestSchema, SessionEventsSchema } from '@airlock/proto';
import type { EngineLogger } from '../protocols/engine.js';

type ControlMessageInit = MessageInitShape<typeof ControlRequestSchema>;
export type SessionEventInit = NonNullable<MessageInitShape<typeof SessionEventsSchema>['events']>[number];

/** What a session's policy says to do when its recording cannot be stored. */
export type RecordingFailureMode = 'stop-session' | 'continue';

export interface EventJournalOptions {
  send(message: ControlMessageInit): void;
  isConnected(): boolean;
  /** Stops a session whose policy will not let it run unrecorded. */
  stopSession(sessionId: string, reason: string): void;
  logger: EngineLogger;
  /** Bytes of unacknowledged events kept at most. */
  maxBytes?: number;
  /** How long events may wait for the control plane before sessions that must be recorded are stopped. */
  maxWaitMs?: number;
  /** Sent again when connected and not acknowledged within this time. */
  resendAfterMs?: number;
  now?: () => number;
}

interface PendingBatch {
  batch: bigint;
  events: SessionEventInit[];
  bytes: number;
  queuedAt: number;
  sentAt: number | undefined;
}

const DEFAULT_MAX_BYTES = tunable('AIRLOCK_EVENT_JOURNAL_BYTES', 256 * 1024 * 1024, 1024 * 1024, 64 * 1024 * 1024 * 1024);
const DEFAULT_MAX_WAIT_MS = tunable('AIRLOCK_RECORDING_TIMEOUT_MS', 60_000, 1_000, 86_400_000);
const DEFAULT_RESEND_AFTER_MS = 15_000;
const TICK_MS = 1_000;

export class EventJournal {
  private readonly pending: PendingBatch[] = [];
  private readonly modes = new Map<string, RecordingFailureMode>();
  private readonly stopped = new Set<string>();
  /** Events dropped per session and not yet reported: sent as one gap event each once connected. */
  private readonly lost = new Map<string, { count: number; reason: string }>();
  private nextBatch = 1n;
  private bytes = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly maxBytes: number;
  private readonly maxWaitMs: number;
  private readonly resendAfterMs: number;
  private readonly now: () => number;

  constructor(private readonly options: EventJournalOptions) {
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    this.resendAfterMs = options.resendAfterMs ?? DEFAULT_RESEND_AFTER_MS;
    this.now = options.now ?? Date.now;
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  get pendingBatches(): number {
    return this.pending.length;
  }

  get pendingBytes(): number {
    return this.bytes;
  }

  /** The policy's choice for a session, from its open order to its end. */
  track(sessionId: string, mode: RecordingFailureMode): void {
    this.modes.set(sessionId, mode);
  }

  untrack(sessionId: string): void {
    this.modes.delete(sessionId);
    this.stopped.delete(sessionId);
  }

  sendEvents(events: SessionEventInit[]): void {
    if (events.length === 0) return;
    const entry: PendingBatch = { batch: this.nextBatch++, events, bytes: sizeOf(events), queuedAt: this.now(), sentAt: undefined };
    this.pending.push(entry);
    this.bytes += entry.bytes;
    if (this.options.isConnected()) this.transmit(entry);
    if (this.bytes > this.maxBytes) this.overflow();
  }

  /** The control plane stored everything through `batch`. */
  onStored(through: bigint): void {
    while (this.pending.length > 0 && this.pending[0]!.batch <= through) this.bytes -= this.pending.shift()!.bytes;
  }

  /** After a (re)connection: whatever was not acknowledged goes again, in order. */
  onConnected(): void {
    for (const entry of this.pending) this.transmit(entry);
    this.reportGaps();
  }

  private reportGaps(): void {
    if (this.lost.size === 0 || !this.options.isConnected()) return;
    const gaps = [...this.lost].map(([sessionId, { count, reason }]) => ({ sessionId, event: { case: 'gap' as const, value: { lostEvents: BigInt(count), reason } } }));
    this.lost.clear();
    this.sendEvents(gaps);
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** Checks the oldest unacknowledged batch: resends it when connected, applies policies when it waited too long. */
  tick(): void {
    const oldest = this.pending[0];
    if (!oldest) return;
    const now = this.now();
    if (this.options.isConnected() && (oldest.sentAt === undefined || now - oldest.sentAt >= this.resendAfterMs)) this.onConnected();
    if (now - oldest.queuedAt >= this.maxWaitMs) {
      this.stopSessionsThatMustBeRecorded(`its recording could not be stored by the control plane for ${Math.round((now - oldest.queuedAt) / 1000)} s`, 'waiting');
    }
  }

  private transmit(entry: PendingBatch): void {
    entry.sentAt = this.now();
    this.options.send({ message: { case: 'sessionEvents', value: { events: entry.events, batch: entry.batch } } });
  }

  private overflow(): void {
    const reason = `the agent could keep no more unstored events (${Math.round(this.maxBytes / 1024 / 1024)} MiB waiting for the control plane)`;
    this.stopSessionsThatMustBeRecorded(reason, 'all');
    // Room for new events: the oldest go. Sessions that had to be recorded were stopped above.
    let dropped = 0;
    while (this.bytes > this.maxBytes * 0.9 && this.pending.length > 1) {
      const batch = this.pending.shift()!;
      this.bytes -= batch.bytes;
      for (const event of batch.events) {
        if (!event.sessionId) continue;
        // A dropped gap report is folded into the next one, so the count stays whole.
        const count = event.event?.case === 'gap' ? Number((event.event.value as { lostEvents: bigint }).lostEvents) : 1;
        const entry = this.lost.get(event.sessionId) ?? { count: 0, reason };
        entry.count += count;
        this.lost.set(event.sessionId, entry);
        dropped += count;
      }
    }
    if (dropped > 0) this.options.logger.error('events dropped: the control plane has not stored them for too long', { events: dropped, reason });
    this.reportGaps();
  }

  /** `all` when the journal overflows (nothing more can be kept); `waiting`: those with events not yet stored. */
  private stopSessionsThatMustBeRecorded(reason: string, scope: 'all' | 'waiting'): void {
    const waiting = new Set(this.pending.flatMap((p) => p.events.map((e) => e.sessionId ?? '')));
    for (const [sessionId, mode] of this.modes) {
      if (mode !== 'stop-session' || this.stopped.has(sessionId)) continue;
      if (scope === 'waiting' && !waiting.has(sessionId)) continue;
      this.stopped.add(sessionId);
      this.options.logger.warn('stopping a session: its recording cannot be stored', { session: sessionId, reason });
      this.options.stopSession(sessionId, reason);
    }
  }
}

/** A cheap upper bound of a batch's wire size: what the journal holds in memory, roughly. */
function sizeOf(events: SessionEventInit[]): number {
  let bytes = 0;
  for (const e of events) {
    bytes += 64;
    const value = e.event?.value as { text?: string; data?: Uint8Array; errorMessage?: string; reason?: string } | undefined;
    if (value?.text) bytes += value.text.length * 3;
    if (value?.errorMessage) bytes += value.errorMessage.length * 3;
    if (value?.data) bytes += value.data.length;
  }
  return bytes;
}
