import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { CLOCK, type Clock } from '../common/clock.js';
import { ConflictError, isForeignKeyViolation, isUniqueViolation, NotFoundError } from '../common/errors.js';
import { LOGGER, type StructuredLogger } from '../common/logger.js';
import type { ConnectionEntity } from '../connections/connection.entity.js';
import type { SessionEventEntity } from './session-event.entity.js';
import type { SessionEntity, SessionMode } from './session.entity.js';
import { RESTARTED, type SessionEnding, SessionsRepository } from './sessions.repository.js';

export interface OpenSessionRequest {
  connection: Pick<ConnectionEntity, 'id' | 'name'>;
  agentId: string;
  subject: string;
  mode: SessionMode;
  clientAddress?: string | null;
  /** Where a policy says `access: review`: the grant that let the subject in. */
  grantId?: number | null;
}

/** One statement as the agent recorded it. */
export interface RecordedStatement {
  sequence: number;
  text: string;
  startedAt: Date;
  durationUs: number;
  rows?: number | null;
  commandTag?: string | null;
  errorSqlstate?: string | null;
  errorMessage?: string | null;
  protocol: string;
  verdict?: string | null;
  reviewId?: number | null;
}

export interface SessionEndReport {
  endedAt: Date;
  bytesFromClient: number;
  bytesToClient: number;
  errorCode?: string;
  errorMessage?: string;
}

export interface SessionWithStatements {
  readonly session: SessionEntity;
  readonly statements: SessionEventEntity[];
}

export const MAX_SESSION_LIST_LIMIT = 500;

/** Session lifecycle: opening → open → closed | failed (opening may also end directly). */
@Injectable()
export class SessionsService implements OnApplicationBootstrap {
  constructor(
    private readonly sessions: SessionsRepository,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: StructuredLogger,
  ) {}

  /** A previous process cannot finish the sessions it left live: close them so listings tell the truth. */
  async onApplicationBootstrap(): Promise<void> {
    const closed = await this.sessions.endAllLive({
      status: 'closed',
      endedAt: this.clock.now(),
      errorCode: RESTARTED,
      errorMessage: 'control plane restarted',
    });
    if (closed > 0) this.logger.warn('closed sessions left open by a previous process', { count: closed });
  }

  async open(request: OpenSessionRequest): Promise<SessionEntity> {
    const session = await this.sessions.insert({
      id: randomUUID(),
      connectionId: request.connection.id,
      connectionName: request.connection.name,
      agentId: request.agentId,
      subject: request.subject,
      mode: request.mode,
      clientAddress: request.clientAddress ?? null,
      status: 'opening',
      startedAt: this.clock.now(),
      endedAt: null,
      bytesFromClient: 0,
      bytesToClient: 0,
      errorCode: null,
      errorMessage: null,
      grantId: request.grantId ?? null,
    });
    this.logger.info('session opening', { sessionId: session.id, connectionName: session.connectionName, agentId: session.agentId });
    return session;
  }

  /** Reopens a session whose tunnel is being resumed; false when it ended for good. */
  reopenForResume(sessionId: string): Promise<boolean> {
    return isUuid(sessionId) ? this.sessions.reopenIfResumable(sessionId) : Promise.resolve(false);
  }

  async markOpen(sessionId: string): Promise<void> {
    if (await this.sessions.markOpenIfOpening(sessionId)) return;
    const session = await this.get(sessionId);
    throw new ConflictError(`session ${sessionId} cannot become open: it is ${session.status}`);
  }

  async recordStatements(sessionId: string, statements: RecordedStatement[]): Promise<void> {
    return this.recordStatementBatch([{ sessionId, statements }]);
  }

  /** Statements of several sessions in one insert: an agent's message becomes one round trip. */
  async recordStatementBatch(batch: { sessionId: string; statements: RecordedStatement[] }[]): Promise<void> {
    const unknown = batch.find((b) => !isUuid(b.sessionId));
    if (unknown) throw sessionNotFound(unknown.sessionId);
    const sessionId = batch.map((b) => b.sessionId).join(', ');
    try {
      await this.sessions.insertEvents(batch.flatMap((b) => b.statements.map((s) => toEvent(b.sessionId, s))));
    } catch (error) {
      if (isForeignKeyViolation(error)) throw sessionNotFound(sessionId);
      if (isUniqueViolation(error)) throw new ConflictError(`session ${sessionId} already has a statement with one of these sequence numbers`);
      throw error;
    }
  }

  /** Ends a session normally, or as failed when the report carries an error code. */
  async end(sessionId: string, report: SessionEndReport): Promise<void> {
    await this.finish(sessionId, {
      status: report.errorCode ? 'failed' : 'closed',
      endedAt: report.endedAt,
      bytesFromClient: report.bytesFromClient,
      bytesToClient: report.bytesToClient,
      errorCode: report.errorCode ?? null,
      errorMessage: report.errorMessage ?? null,
    });
  }

  async fail(sessionId: string, code: string, message: string): Promise<void> {
    await this.finish(sessionId, { status: 'failed', endedAt: this.clock.now(), errorCode: code, errorMessage: message });
  }

  async get(sessionId: string): Promise<SessionEntity> {
    const session = isUuid(sessionId) ? await this.sessions.findById(sessionId) : null;
    if (!session) throw sessionNotFound(sessionId);
    return session;
  }

  /** With `subject`, someone else's session is reported as not existing. */
  async getWithStatements(sessionId: string, subject?: string): Promise<SessionWithStatements> {
    const session = await this.get(sessionId);
    if (subject !== undefined && session.subject !== subject) throw sessionNotFound(sessionId);
    return { session, statements: await this.sessions.eventsInOrder(sessionId) };
  }

  list(options: { limit?: number; connection?: string; subject?: string } = {}): Promise<SessionEntity[]> {
    const limit = Math.min(options.limit ?? 50, MAX_SESSION_LIST_LIMIT);
    return this.sessions.listNewestFirst(limit, { connectionName: options.connection, subject: options.subject });
  }

  private async finish(sessionId: string, ending: SessionEnding): Promise<void> {
    if (await this.sessions.endIfLive(sessionId, ending)) {
      this.logger.info('session ended', { sessionId, status: ending.status, errorCode: ending.errorCode ?? undefined });
      return;
    }
    const session = await this.get(sessionId);
    throw new ConflictError(`session ${sessionId} has already ended (${session.status})`);
  }
}

function toEvent(sessionId: string, s: RecordedStatement): Omit<SessionEventEntity, 'id'> {
  return {
    sessionId,
    sequence: s.sequence,
    protocol: s.protocol,
    statement: s.text,
    startedAt: s.startedAt,
    durationUs: s.durationUs,
    rows: s.rows ?? null,
    commandTag: s.commandTag ?? null,
    errorSqlstate: s.errorSqlstate ?? null,
    errorMessage: s.errorMessage ?? null,
    verdict: s.verdict ?? null,
    reviewId: s.reviewId ?? null,
  };
}

function sessionNotFound(sessionId: string): NotFoundError {
  return new NotFoundError(`session "${sessionId}" does not exist`);
}

function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
