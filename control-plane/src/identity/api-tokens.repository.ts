import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, type Repository } from 'typeorm';
import { ApiTokenEntity, type Role } from './api-token.entity.js';

export interface NewApiToken {
  name: string;
  role: Role;
  tokenPrefix: string;
  tokenHash: string;
  createdAt: Date;
}

@Injectable()
export class ApiTokensRepository {
  constructor(@InjectRepository(ApiTokenEntity) private readonly tokens: Repository<ApiTokenEntity>) {}

  async insert(token: NewApiToken): Promise<ApiTokenEntity> {
    const row = this.tokens.create({ id: randomUUID(), lastUsedAt: null, revokedAt: null, ...token });
    await this.tokens.insert(row);
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

  async markUsed(id: string, at: Date): Promise<void> {
    await this.tokens.update({ id }, { lastUsedAt: at });
  }
}
