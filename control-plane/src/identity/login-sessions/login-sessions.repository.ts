import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, type Repository } from 'typeorm';
import type { Transaction } from '../../database/transactions.js';
import { UserEntity } from '../user.entity.js';
import { LoginSessionEntity, RefreshTokenEntity } from './login-session.entity.js';

export interface LiveLogin {
  session: LoginSessionEntity;
  user: UserEntity;
}

@Injectable()
export class LoginSessionsRepository {
  constructor(
    @InjectRepository(LoginSessionEntity) private readonly sessions: Repository<LoginSessionEntity>,
    @InjectRepository(RefreshTokenEntity) private readonly refreshTokens: Repository<RefreshTokenEntity>,
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
  ) {}

  async insertSession(session: Omit<LoginSessionEntity, 'id' | 'lastRefreshedAt' | 'revokedAt' | 'revokedReason'>, tx?: Transaction): Promise<LoginSessionEntity> {
    const row: LoginSessionEntity = { id: randomUUID(), lastRefreshedAt: null, revokedAt: null, revokedReason: null, ...session };
    await (tx ? tx.getRepository(LoginSessionEntity) : this.sessions).insert(row);
    return row;
  }

  async insertRefreshToken(token: { loginSessionId: string; tokenPrefix: string; tokenHash: string; createdAt: Date }, tx?: Transaction): Promise<void> {
    await (tx ? tx.getRepository(RefreshTokenEntity) : this.refreshTokens).insert({ id: randomUUID(), usedAt: null, ...token });
  }

  findRefreshTokensByPrefix(tokenPrefix: string): Promise<RefreshTokenEntity[]> {
    return this.refreshTokens.findBy({ tokenPrefix });
  }

  /** Marks a refresh token used; false when it already was (used twice: a copy is in someone else's hands). */
  async useRefreshToken(id: string, at: Date, tx?: Transaction): Promise<boolean> {
    const result = await (tx ? tx.getRepository(RefreshTokenEntity) : this.refreshTokens).update({ id, usedAt: IsNull() }, { usedAt: at });
    return (result.affected ?? 0) === 1;
  }

  findSession(id: string): Promise<LoginSessionEntity | null> {
    return this.sessions.findOneBy({ id });
  }

  /** The user a login belongs to, deleted or not (for the audit record). */
  async userOf(loginSessionId: string): Promise<UserEntity | null> {
    const session = await this.sessions.findOneBy({ id: loginSessionId });
    return session ? this.users.findOneBy({ id: session.userId }) : null;
  }

  async markRefreshed(id: string, at: Date, tx?: Transaction): Promise<void> {
    await (tx ? tx.getRepository(LoginSessionEntity) : this.sessions).update({ id }, { lastRefreshedAt: at });
  }

  /** The session with its user, when neither is revoked, deleted or expired at `now`. */
  async findLive(id: string, now: Date): Promise<LiveLogin | null> {
    const session = await this.sessions.findOneBy({ id, revokedAt: IsNull() });
    if (!session || session.expiresAt.getTime() <= now.getTime()) return null;
    const user = await this.users.findOneBy({ id: session.userId, deletedAt: IsNull() });
    return user ? { session, user } : null;
  }

  /** Revokes one session; false when it was already revoked. */
  async revoke(id: string, at: Date, reason: string, tx?: Transaction): Promise<boolean> {
    const result = await (tx ? tx.getRepository(LoginSessionEntity) : this.sessions).update({ id, revokedAt: IsNull() }, { revokedAt: at, revokedReason: reason });
    return (result.affected ?? 0) === 1;
  }

  async revokeAllOfUser(userId: string, at: Date, reason: string, tx?: Transaction): Promise<number> {
    const result = await (tx ? tx.getRepository(LoginSessionEntity) : this.sessions).update({ userId, revokedAt: IsNull() }, { revokedAt: at, revokedReason: reason });
    return result.affected ?? 0;
  }
}
