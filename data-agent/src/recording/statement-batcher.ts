import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { StatementProtocol } from '@airlock/proto';
import type { StatementRecord, StatementRecorder } from '../protocols/engine.js';
import type { SessionEventInit } from './event-journal.js';

export interface SessionEventSink {
  sendEvents(events: SessionEventInit[]): void;
}

const FLUSH_INTERVAL_MS = 250;
const MAX_BATCH = 1000;

const PROTOCOLS: Record<StatementRecord['protocol'], StatementProtocol> = {
  simple: StatementProtocol.SIMPLE,
  extended: StatementProtocol.EXTENDED,
  exec: StatementProtocol.EXEC,
  ssh: StatementProtocol.SSH,
  http: StatementProtocol.HTTP,
  kubernetes: StatementProtocol.KUBERNETES,
};

/**
 * Collects every session's statements and sends them up the control stream in batches, so busy
 * sessions cost one message (and one insert on the control plane) per batch, not one per statement.
 */
export class StatementBatcher {
  private pending: { sessionId: string; statement: StatementRecord }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly sink: SessionEventSink) {}

  recorderFor(sessionId: string): StatementRecorder {
    return { record: (statement) => this.record(sessionId, statement) };
  }

  record(sessionId: string, statement: StatementRecord): void {
    this.pending.push({ sessionId, statement });
    if (this.pending.length >= MAX_BATCH) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.sink.sendEvents(
      batch.map(({ sessionId, statement: s }) => ({
        sessionId,
        event: {
          case: 'statement' as const,
          value: {
            sequence: BigInt(s.sequence),
            text: s.text,
            startedAt: timestampFromDate(s.startedAt),
            durationUs: BigInt(Math.max(0, Math.round(s.durationUs))),
            rows: s.rows === undefined ? undefined : BigInt(s.rows),
            commandTag: s.commandTag,
            errorSqlstate: s.errorSqlstate,
            errorMessage: s.errorMessage,
            protocol: PROTOCOLS[s.protocol],
            verdict: s.verdict ?? '',
            reviewId: BigInt(s.reviewId ?? 0),
          },
        },
      })),
    );
  }
}
