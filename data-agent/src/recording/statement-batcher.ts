import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { StatementProtocol } from '@airlock/proto';
import type { StatementRecord, StatementRecorder } from '../protocols/engine.js';
import type { ControlLink } from '../link/control-link.js';

const FLUSH_INTERVAL_MS = 50;
const MAX_BATCH = 200;

const PROTOCOLS: Record<StatementRecord['protocol'], StatementProtocol> = {
  simple: StatementProtocol.SIMPLE,
  extended: StatementProtocol.EXTENDED,
  exec: StatementProtocol.EXEC,
};

/**
 * Collects a session's statements and sends them up the control stream in small batches,
 * so a busy session costs one message per batch, not one per statement.
 */
export class StatementBatcher implements StatementRecorder {
  private pending: StatementRecord[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly sessionId: string, private readonly link: ControlLink) {}

  record(statement: StatementRecord): void {
    this.pending.push(statement);
    if (this.pending.length >= MAX_BATCH) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.link.send({
      message: {
        case: 'sessionEvents',
        value: {
          events: batch.map((s) => ({
            sessionId: this.sessionId,
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
        },
      },
    });
  }
}
