import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { ConflictError, isUniqueViolation, NotFoundError } from '../common/errors.js';
import { LOGGER, type StructuredLogger } from '../common/logger.js';
import { issueToken } from '../common/tokens.js';
import { Transactions } from '../database/transactions.js';
import type { Role } from './roles.js';
import { ApiTokensRepository } from './api-tokens.repository.js';
import { LoginSessionsRepository } from './login-sessions/login-sessions.repository.js';
import type { Principal } from './principal.js';
import type { UserEntity } from './user.entity.js';
import { UsersRepository } from './users.repository.js';

export interface NewUser {
  name: string;
  groups?: string[];
  role?: Role;
}

export interface CreatedUser {
  readonly user: UserEntity;
  /** Shown once; only its hash is stored. */
  readonly token: string;
}

/** Local users and their tokens. Every change is audited in the same transaction. */
@Injectable()
export class UsersService {
  constructor(
    private readonly users: UsersRepository,
    private readonly tokens: ApiTokensRepository,
    private readonly logins: LoginSessionsRepository,
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: StructuredLogger,
  ) {}

  async create(input: NewUser, actor: Principal): Promise<CreatedUser> {
    const now = this.clock.now();
    const user: UserEntity = {
      id: randomUUID(),
      name: input.name,
      role: input.role ?? 'user',
      groups: [...new Set(input.groups ?? [])].sort(),
      createdAt: now,
      createdBy: actor.subject,
      deletedAt: null,
      deletedBy: null,
      source: 'local',
      issuer: null,
      externalSubject: null,
      email: null,
      lastLoginAt: null,
    };
    const issued = issueToken('user');
    try {
      await this.transactions.run(async (tx) => {
        await this.users.insert(user, tx);
        await this.tokens.insert({ name: user.name, role: user.role, userId: user.id, tokenPrefix: issued.prefix, tokenHash: issued.hash, createdAt: now }, tx);
        await this.audit.record({ actor: actor.subject, kind: 'user.created', target: `user/${user.name}`, details: { role: user.role, groups: user.groups } }, tx);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`user "${input.name}" already exists`);
      throw error;
    }
    this.logger.info('user created', { userId: user.id, userName: user.name, role: user.role });
    return { user, token: issued.token };
  }

  list(): Promise<UserEntity[]> {
    return this.users.listLiveByName();
  }

  /** Deletes the user and revokes their tokens and logins at once; their history (audit, sessions) stays. */
  async delete(name: string, actor: Principal): Promise<void> {
    const user = await this.users.findLiveByName(name);
    if (!user) throw new NotFoundError(`user "${name}" does not exist`);
    const now = this.clock.now();
    const revoked = await this.transactions.run(async (tx) => {
      if (!(await this.users.markDeleted(user.id, now, actor.subject, tx))) throw new NotFoundError(`user "${name}" does not exist`);
      const count = await this.tokens.revokeAllOfUser(user.id, now, tx);
      const logins = await this.logins.revokeAllOfUser(user.id, now, `user deleted by ${actor.subject}`, tx);
      await this.audit.record({ actor: actor.subject, kind: 'user.deleted', target: `user/${name}`, details: { revokedTokens: count, ...(logins > 0 ? { endedLogins: logins } : {}) } }, tx);
      return count;
    });
    this.logger.info('user deleted', { userId: user.id, userName: name, revokedTokens: revoked });
  }
}
