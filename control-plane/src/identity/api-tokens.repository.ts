import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, type Repository } from 'typeorm';
import type { Transaction } from '../database/transactions.js';
import { ApiTokenEntity, type Role } from './api-token.entity.js';

export interface NewApiToken {
  name: string;
  role: Role;
  userId?: string | null;
  tokenPrefix: string;
  tokenHash: string;
  createdAt: Date;
}

@Injectable()
export class ApiTokensRepository {
  constructor(@InjectRepository(ApiTokenEntity) private readonly tokens: Repository<ApiTokenEntity>) {}

  async insert(token: NewApiToken, tx?: Transaction): Promise<ApiTokenEntity> {
    const repository = tx ? tx.getRepository(ApiTokenEntity) : this.tokens;
    const row = repository.create({ id: randomUUID(), lastUsedAt: null, revokedAt: null, userId: null, ...token });
    await repository.insert(row);
    return row;
  }

  /** Unrevoked tokens whose visible prefix matches; normally zero or one. */
  findActiveByPrefix(tokenPrefix: string): Promise<ApiTokenEntity[]> {
    return this.tokens.findBy({ tokenPrefix, revokedAt: IsNull() });
  }

  findByHash(tokenHash: string): Promise<ApiTokenEntity | null> {
    return this.tokens.findOneBy({ tokenHash });
  }

  async hasActiveTokenWithRole(role: Role): Promise<boolean> {
    return (await this.tokens.countBy({ role, revokedAt: IsNull() })) > 0;
  }

  async assignToUser(id: string, userId: string, name: string): Promise<void> {
    await this.tokens.update({ id }, { userId, name });
  }

  async markUsed(id: string, at: Date): Promise<void> {
    await this.tokens.update({ id }, { lastUsedAt: at });
  }

  /** Revokes every live token of a user; returns how many. */
  async revokeAllOfUser(userId: string, at: Date, tx?: Transaction): Promise<number> {
    const repository = tx ? tx.getRepository(ApiTokenEntity) : this.tokens;
    const result = await repository.update({ userId, revokedAt: IsNull() }, { revokedAt: at });
    return result.affected ?? 0;
  }
}
