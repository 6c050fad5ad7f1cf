import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, type Repository } from 'typeorm';
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

  /** Newest first, optionally only those of one connection. */
  listNewestFirst(limit: number, connectionName?: string): Promise<SessionEntity[]> {
    return this.sessions.find({
      where: connectionName === undefined ? {} : { connectionName },
      order: { startedAt: 'DESC', id: 'ASC' },
      take: limit,
    });
  }

  /** opening → open; false if the session was not opening. */
  async markOpenIfOpening(id: string): Promise<boolean> {
    const result = await this.sessions.update({ id, status: 'opening' }, { status: 'open' });
    return (result.affected ?? 0) === 1;
  }

  /** Ends a live session; false if it was not live (already ended, or unknown). */
  async endIfLive(id: string, ending: SessionEnding): Promise<boolean> {
    const result = await this.sessions.update({ id, status: In(LIVE_STATUSES) }, ending);
    return (result.affected ?? 0) === 1;
  }

  /** Ends every live session (those a previous process left behind); returns how many. */
  async endAllLive(ending: SessionEnding): Promise<number> {
    const result = await this.sessions.update({ status: In(LIVE_STATUSES) }, ending);
    return result.affected ?? 0;
  }

  async insertEvents(events: NewSessionEvent[]): Promise<void> {
    if (events.length > 0) await this.events.insert(events);
  }

  eventsInOrder(sessionId: string): Promise<SessionEventEntity[]> {
    return this.events.find({ where: { sessionId }, order: { sequence: 'ASC' } });
  }
}
