import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, type Repository } from 'typeorm';
import type { Transaction } from '../database/transactions.js';
import { PolicyVersionEntity } from './policy-version.entity.js';
import { PolicyEntity } from './policy.entity.js';

@Injectable()
export class PoliciesRepository {
  constructor(
    @InjectRepository(PolicyEntity) private readonly policies: Repository<PolicyEntity>,
    @InjectRepository(PolicyVersionEntity) private readonly versions: Repository<PolicyVersionEntity>,
  ) {}

  /**
   * Serializes writers of one policy name until `tx` ends (also when the row does not exist yet),
   * then reads the row, deleted or not.
   */
  async lockByName(name: string, tx: Transaction): Promise<PolicyEntity | null> {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`airlock.policy:${name}`]);
    return tx.getRepository(PolicyEntity).findOneBy({ name });
  }

  /** Inserts or replaces the policy row and appends its version. */
  async saveVersion(policy: PolicyEntity, tx: Transaction): Promise<void> {
    await tx.getRepository(PolicyEntity).save(policy);
    await tx.getRepository(PolicyVersionEntity).insert(<PolicyVersionEntity>{
      policyId: policy.id,
      version: policy.version,
      document: policy.document,
      spec: policy.spec,
      appliedAt: policy.updatedAt,
      appliedBy: policy.updatedBy,
    });
  }

  async markDeleted(id: string, at: Date, by: string, tx: Transaction): Promise<void> {
    await tx.getRepository(PolicyEntity).update({ id }, { deletedAt: at, deletedBy: by });
  }

  listLiveByName(): Promise<PolicyEntity[]> {
    return this.policies.find({ where: { deletedAt: IsNull() }, order: { name: 'ASC' } });
  }

  findLiveByName(name: string): Promise<PolicyEntity | null> {
    return this.policies.findOneBy({ name, deletedAt: IsNull() });
  }

  /** The row even when deleted: its versions stay readable. */
  findAnyByName(name: string): Promise<PolicyEntity | null> {
    return this.policies.findOneBy({ name });
  }

  versionsNewestFirst(policyId: string): Promise<PolicyVersionEntity[]> {
    return this.versions.find({ where: { policyId }, order: { version: 'DESC' } });
  }
}
