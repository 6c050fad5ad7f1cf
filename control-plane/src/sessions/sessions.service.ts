import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { digestStatements } from '../audit/session-digest.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { ConflictError, isForeignKeyViolation, isUniqueViolation, NotFoundError } from '../common/errors.js';
import { LOGGER, type StructuredLogger } from '../common/logger.js';
import type { ConnectionEntity } from '../connections/connection.entity.js';
import type { SessionEventEntity } from './session-event.entity.js';
import type { SessionEntity, SessionMode } from './session.entity.js';
import { RESTARTED, type SessionEnding, SessionsRepository } from './sessions.repository.js';
import { SessionRecordingsService } from './session-recordings.service.js';

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
/** Statements read at a time while digesting a session that ended. */
const DIGEST_PAGE = 1000;
export const MAX_STATEMENTS_PAGE = 1000;

export interface SessionStatementsPage extends SessionWithStatements {
  /** More statements follow the last one in this page. */
  readonly more: boolean;
}

/** Session lifecycle: opening → open → closed | failed (opening may also end directly). */
@Injectable()
export class SessionsService implements OnApplicationBootstrap {
  constructor(
    private readonly sessions: SessionsRepository,
    private readonly audit: AuditService,
    private readonly recordings: SessionRecordingsService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: StructuredLogger,
  ) {}

  /** A previous process cannot finish the sessions it left live: close them so listings tell the truth. */
  async onApplicationBootstrap(): Promise<void> {
    const live = await this.sessions.liveSessions();
    const ending: SessionEnding = { status: 'closed', endedAt: this.clock.now(), errorCode: RESTARTED, errorMessage: 'control plane restarted' };
    const closed = await this.sessions.endAllLive(ending);
    for (const session of live) await this.recordEnded({ ...session, ...ending });
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
    await this.audit.record({
      actor: session.subject,
      kind: 'session.opened',
      target: `session/${session.id}`,
      details: { connection: session.connectionName, agentId: session.agentId, mode: session.mode, clientAddress: session.clientAddress, grantId: session.grantId },
    });
    return session;
  }

  /** Reopens a session whose tunnel is being resumed; false when it ended for good. */
  async reopenForResume(sessionId: string): Promise<boolean> {
    if (!isUuid(sessionId) || !(await this.sessions.reopenIfResumable(sessionId))) return false;
    const session = await this.get(sessionId);
    await this.audit.record({ actor: session.subject, kind: 'session.resumed', target: `session/${sessionId}`, details: { connection: session.connectionName } });
    return true;
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
  async recordStatementBatch(batch: { sessionId: string; statements: RecordedStatement[] }[], duplicates: 'fail' | 'ignore' = 'fail'): Promise<void> {
    const unknown = batch.find((b) => !isUuid(b.sessionId));
    if (unknown) throw sessionNotFound(unknown.sessionId);
    const sessionId = batch.map((b) => b.sessionId).join(', ');
    try {
      await this.sessions.insertEvents(batch.flatMap((b) => b.statements.map((s) => toEvent(b.sessionId, s))), duplicates);
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

  /** Statements and recordings of a session the agent could not keep: the session record says so, in the audit log. */
  async recordGap(sessionId: string, lostEvents: number, reason: string): Promise<void> {
    const session = await this.get(sessionId);
    this.logger.warn('session recording has a gap', { sessionId, lostEvents, reason });
    await this.audit.record({
      actor: session.subject,
      kind: 'session.recording_gap',
      target: `session/${session.id}`,
      details: { connection: session.connectionName, lostEvents, reason },
    });
  }

  /** With `subject`, someone else's session is reported as not existing. */
  async getVisible(sessionId: string, subject?: string): Promise<SessionEntity> {
    const session = await this.get(sessionId);
    if (subject !== undefined && session.subject !== subject) throw sessionNotFound(sessionId);
    return session;
  }

  /** With `subject`, someone else's session is reported as not existing. */
  async getWithStatements(sessionId: string, subject?: string): Promise<SessionWithStatements> {
    const session = await this.getVisible(sessionId, subject);
    return { session, statements: await this.sessions.eventsInOrder(sessionId) };
  }

  /**
   * What a follower has not seen yet: statements after sequence `after` (at most `limit`), and the
   * session as it was just before they were read, so a session reported ended has all its statements
   * in this answer or the pages after it. With `subject`, someone else's session does not exist.
   */
  async statementsAfter(sessionId: string, after: number, options: { limit?: number; subject?: string } = {}): Promise<SessionStatementsPage> {
    const session = await this.getVisible(sessionId, options.subject);
    const limit = Math.min(options.limit ?? MAX_STATEMENTS_PAGE, MAX_STATEMENTS_PAGE);
    const page = await this.sessions.eventsAfter(sessionId, after, limit + 1);
    return { session, statements: page.slice(0, limit), more: page.length > limit };
  }

  list(options: { limit?: number; connection?: string; subject?: string } = {}): Promise<SessionEntity[]> {
    const limit = Math.min(options.limit ?? 50, MAX_SESSION_LIST_LIMIT);
    return this.sessions.listNewestFirst(limit, { connectionName: options.connection, subject: options.subject });
  }

  private async finish(sessionId: string, ending: SessionEnding): Promise<void> {
    if (await this.sessions.endIfLive(sessionId, ending)) {
      this.logger.info('session ended', { sessionId, status: ending.status, errorCode: ending.errorCode ?? undefined });
      await this.recordEnded(await this.get(sessionId));
      return;
    }
    const session = await this.get(sessionId);
    throw new ConflictError(`session ${sessionId} has already ended (${session.status})`);
  }

  /**
   * The end of a session in the audit log. Its statements stay in session_events (too many to chain
   * one by one); the event carries their digest (audit/session-digest.ts) so the chain covers them.
   */
  private async recordEnded(session: SessionEntity): Promise<void> {
    const statements = await digestStatements(this.statementPages(session.id));
    const recording = await this.recordings.digest(session.id);
    await this.audit.record({
      actor: session.subject,
      kind: session.status === 'failed' ? 'session.failed' : 'session.ended',
      target: `session/${session.id}`,
      details: {
        connection: session.connectionName,
        status: session.status,
        endedAt: session.endedAt?.toISOString() ?? null,
        bytesFromClient: session.bytesFromClient,
        bytesToClient: session.bytesToClient,
        error: session.errorCode === null ? null : { code: session.errorCode, message: session.errorMessage },
        statements,
        ...(recording ? { recording } : {}),
      },
    });
  }

  private async *statementPages(sessionId: string): AsyncGenerator<SessionEventEntity[]> {
    for (let after = -1; ; ) {
      const page = await this.sessions.eventsAfter(sessionId, after, DIGEST_PAGE);
      if (page.length === 0) return;
      yield page;
      after = page[page.length - 1].sequence;
    }
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
