import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, MoreThan, type Repository } from 'typeorm';
import { SessionEventEntity } from './session-event.entity.js';
import { SessionEntity, type SessionStatus } from './session.entity.js';

export type NewSessionEvent = Omit<SessionEventEntity, 'id'>;

export interface SessionEnding {
  status: 'closed' | 'failed';
  endedAt: Date;
  bytesFromClient?: number;
  bytesToClient?: number;
  errorCode: string | null;
  errorMessage: string | null;
}

const INSERT_EVENTS = `
  INSERT INTO session_events
    (session_id, sequence, protocol, statement, started_at, duration_us, rows, command_tag, error_sqlstate, error_message, verdict, review_id)
  SELECT * FROM unnest($1::uuid[], $2::integer[], $3::text[], $4::text[], $5::timestamptz[], $6::bigint[], $7::bigint[],
                       $8::text[], $9::text[], $10::text[], $11::text[], $12::integer[])`;

/** The error code of sessions a control-plane restart closed: only those may be resumed. */
export const RESTARTED = 'control_plane_restarted';

const LIVE_STATUSES: SessionStatus[] = ['opening', 'open'];

@Injectable()
export class SessionsRepository {
  constructor(
    @InjectRepository(SessionEntity) private readonly sessions: Repository<SessionEntity>,
    @InjectRepository(SessionEventEntity) private readonly events: Repository<SessionEventEntity>,
  ) {}

  async insert(session: SessionEntity): Promise<SessionEntity> {
    await this.sessions.insert(session);
    return session;
  }

  findById(id: string): Promise<SessionEntity | null> {
    return this.sessions.findOneBy({ id });
  }

  /** Newest first, optionally only those of one connection and/or one subject. */
  listNewestFirst(limit: number, filter: { connectionName?: string; subject?: string } = {}): Promise<SessionEntity[]> {
    return this.sessions.find({
      where: {
        ...(filter.connectionName !== undefined ? { connectionName: filter.connectionName } : {}),
        ...(filter.subject !== undefined ? { subject: filter.subject } : {}),
      },
      order: { startedAt: 'DESC', id: 'ASC' },
      take: limit,
    });
  }

  /** opening → open; false if the session was not opening. */
  async markOpenIfOpening(id: string): Promise<boolean> {
    const result = await this.sessions.update({ id, status: 'opening' }, { status: 'open' });
    return (result.affected ?? 0) === 1;
  }

  /** A session a restart closed, or one still live, becomes open again (its tunnel was resumed). */
  async reopenIfResumable(id: string): Promise<boolean> {
    const live = await this.sessions.update({ id, status: In(LIVE_STATUSES) }, { status: 'open' });
    if ((live.affected ?? 0) === 1) return true;
    const restarted = await this.sessions.update(
      { id, errorCode: RESTARTED },
      { status: 'open', endedAt: null, errorCode: null, errorMessage: null },
    );
    return (restarted.affected ?? 0) === 1;
  }

  /** Ends a live session; false if it was not live (already ended, or unknown). */
  async endIfLive(id: string, ending: SessionEnding): Promise<boolean> {
    const result = await this.sessions.update({ id, status: In(LIVE_STATUSES) }, ending);
    return (result.affected ?? 0) === 1;
  }

  /** Sessions still opening or open. */
  liveSessions(): Promise<SessionEntity[]> {
    return this.sessions.find({ where: { status: In(LIVE_STATUSES) } });
  }

  /** Ends every live session (those a previous process left behind); returns how many. */
  async endAllLive(ending: SessionEnding): Promise<number> {
    const result = await this.sessions.update({ status: In(LIVE_STATUSES) }, ending);
    return result.affected ?? 0;
  }

  /**
   * One fixed statement for any batch size: the query builder's per-row, per-column SQL was the
   * control plane's largest cost on the data path, and a stable text lets Postgres reuse its plan.
   */
  /** With `duplicates: 'ignore'`, a statement already stored (an agent resending after a reconnect) is kept as it was. */
  async insertEvents(events: NewSessionEvent[], duplicates: 'fail' | 'ignore' = 'fail'): Promise<void> {
    if (events.length === 0) return;
    const column = <K extends keyof NewSessionEvent>(key: K) => events.map((e) => e[key] ?? null);
    const sql = duplicates === 'ignore' ? `${INSERT_EVENTS} ON CONFLICT (session_id, sequence) DO NOTHING` : INSERT_EVENTS;
    await this.events.manager.query(sql, [
      column('sessionId'),
      column('sequence'),
      column('protocol'),
      column('statement'),
      column('startedAt'),
      column('durationUs'),
      column('rows'),
      column('commandTag'),
      column('errorSqlstate'),
      column('errorMessage'),
      column('verdict'),
      column('reviewId'),
    ]);
  }

  eventsInOrder(sessionId: string): Promise<SessionEventEntity[]> {
    return this.events.find({ where: { sessionId }, order: { sequence: 'ASC' } });
  }

  /** The first `limit` statements recorded after `afterSequence`, in order (what a follower has not seen yet). */
  eventsAfter(sessionId: string, afterSequence: number, limit: number): Promise<SessionEventEntity[]> {
    return this.events.find({ where: { sessionId, sequence: MoreThan(afterSequence) }, order: { sequence: 'ASC' }, take: limit });
  }
}
