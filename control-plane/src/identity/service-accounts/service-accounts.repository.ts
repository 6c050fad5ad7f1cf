import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, type Repository } from 'typeorm';
import type { Transaction } from '../../database/transactions.js';
import { ServiceAccountEntity } from './service-account.entity.js';

@Injectable()
export class ServiceAccountsRepository {
  constructor(@InjectRepository(ServiceAccountEntity) private readonly accounts: Repository<ServiceAccountEntity>) {}

  async insert(account: ServiceAccountEntity, tx?: Transaction): Promise<ServiceAccountEntity> {
    await (tx ? tx.getRepository(ServiceAccountEntity) : this.accounts).insert(account);
    return account;
  }

  /** Every account whose key has this visible prefix, revoked ones included (so a revoked key is named as such). */
  findByKeyPrefix(keyPrefix: string): Promise<ServiceAccountEntity[]> {
    return this.accounts.findBy({ keyPrefix });
  }

  findLiveByName(name: string): Promise<ServiceAccountEntity | null> {
    return this.accounts.findOneBy({ name, revokedAt: IsNull() });
  }

  /** By name; revoked accounts too when `includeRevoked`. */
  list(includeRevoked: boolean): Promise<ServiceAccountEntity[]> {
    return this.accounts.find({ where: includeRevoked ? {} : { revokedAt: IsNull() }, order: { name: 'ASC', createdAt: 'ASC' } });
  }

  async markUsed(id: string, at: Date): Promise<void> {
    await this.accounts.update({ id }, { lastUsedAt: at });
  }

  /** Revokes a live account; false when it was not live. */
  async revoke(id: string, at: Date, by: string, tx?: Transaction): Promise<boolean> {
    const result = await (tx ? tx.getRepository(ServiceAccountEntity) : this.accounts).update({ id, revokedAt: IsNull() }, { revokedAt: at, revokedBy: by });
    return (result.affected ?? 0) === 1;
  }
}
