import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThanOrEqual, MoreThan, type FindOptionsWhere, type Repository } from 'typeorm';
import { isUniqueViolation } from '../common/errors.js';
import { GrantEntity, type GrantState } from './grant.entity.js';

/** A live session opened under a grant that has ended (revoked, or expired by `now`). */
export interface SessionToEnd {
  sessionId: string;
  agentId: string;
  grantId: number;
  connectionName: string;
  grantState: GrantState;
  revokedBy: string | null;
}

const LIVE_SESSIONS_OF_ENDED_GRANTS = `
  SELECT s.id AS "sessionId", s.agent_id AS "agentId", g.id AS "grantId", g.connection_name AS "connectionName",
         g.state AS "grantState", g.revoked_by AS "revokedBy"
  FROM sessions s JOIN grants g ON g.id = s.grant_id
  WHERE s.grant_id IS NOT NULL AND s.status IN ('opening', 'open') AND (g.state <> 'active' OR g.expires_at <= $1)`;

@Injectable()
export class GrantsRepository {
  constructor(@InjectRepository(GrantEntity) private readonly grants: Repository<GrantEntity>) {}

  /** Null when the review already has its grant (the listener was told twice). */
  async insertForReview(grant: Omit<GrantEntity, 'id'>): Promise<GrantEntity | null> {
    try {
      return await this.grants.save(this.grants.create(grant));
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
  }

  findById(id: number): Promise<GrantEntity | null> {
    return this.grants.findOneBy({ id });
  }

  /** The subject's grant on the connection that lasts longest, if one is in force at `now`. */
  activeFor(subject: string, connectionName: string, now: Date): Promise<GrantEntity | null> {
    return this.grants.findOne({
      where: { subject, connectionName, state: 'active', startsAt: LessThanOrEqual(now), expiresAt: MoreThan(now) },
      order: { expiresAt: 'DESC' },
    });
  }

  /** Newest first; `activeAt` keeps only grants in force then; `subject` only that person's. */
  list(options: { subject?: string; activeAt?: Date; limit: number }): Promise<GrantEntity[]> {
    const where: FindOptionsWhere<GrantEntity> = {
      ...(options.subject !== undefined ? { subject: options.subject } : {}),
      ...(options.activeAt ? { state: 'active', startsAt: LessThanOrEqual(options.activeAt), expiresAt: MoreThan(options.activeAt) } : {}),
    };
    return this.grants.find({ where, order: { id: 'DESC' }, take: options.limit });
  }

  activeExpiredBy(now: Date): Promise<GrantEntity[]> {
    return this.grants.find({ where: { state: 'active', expiresAt: LessThanOrEqual(now) }, order: { id: 'ASC' } });
  }

  /** Moves a grant only if it is still active, so a revoke and the expiry sweep cannot both win. */
  async end(id: number, to: Exclude<GrantState, 'active'>, revoked?: { at: Date; by: string }): Promise<boolean> {
    const result = await this.grants.update({ id, state: 'active' }, { state: to, ...(revoked ? { revokedAt: revoked.at, revokedBy: revoked.by } : {}) });
    return (result.affected ?? 0) > 0;
  }

  /** Sessions still live under a grant that has ended: the ones to kill. */
  liveSessionsOfEndedGrants(now: Date): Promise<SessionToEnd[]> {
    return this.grants.manager.query(LIVE_SESSIONS_OF_ENDED_GRANTS, [now]);
  }
}
