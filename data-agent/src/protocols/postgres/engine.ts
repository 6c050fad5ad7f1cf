/** The Postgres protocol engine: sessions through PostgresSession, `airlock exec` through execStatement. */
import type { Duplex } from 'node:stream';
import type { ExecOutcome, ProtocolEngine, SessionContext, SessionSummary } from '../engine.js';
import { execStatement } from './exec.js';
import { PostgresSession, type PostgresSessionOptions } from './session.js';

export class PostgresEngine implements ProtocolEngine {
  readonly type = 'postgres' as const;

  constructor(private readonly options: PostgresSessionOptions = {}) {}

  serveTunnel(client: Duplex, ctx: SessionContext): Promise<SessionSummary> {
    return new PostgresSession(client, ctx, this.options).run();
  }

  exec(sql: string, maxRows: number, ctx: SessionContext): Promise<ExecOutcome> {
    return execStatement(sql, maxRows, ctx, this.options);
  }
}
