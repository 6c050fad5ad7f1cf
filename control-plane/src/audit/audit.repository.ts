import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Transaction } from '../database/transactions.js';
import { AuditEventEntity, type AuditKind } from './audit-event.entity.js';

export type NewAuditEvent = Omit<AuditEventEntity, 'id'>;

@Injectable()
export class AuditRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async append(event: NewAuditEvent, tx?: Transaction): Promise<void> {
    const repository = (tx ?? this.dataSource.manager).getRepository(AuditEventEntity);
    // save() takes the entity as it is; insert()'s deep-partial type cannot express a free-form jsonb object.
    await repository.save(repository.create(event));
  }

  /** Newest first. */
  listNewestFirst(limit: number, filter: { kind?: AuditKind; target?: string }): Promise<AuditEventEntity[]> {
    const where = {
      ...(filter.kind !== undefined ? { kind: filter.kind } : {}),
      ...(filter.target !== undefined ? { target: filter.target } : {}),
    };
    return this.dataSource.getRepository(AuditEventEntity).find({ where, order: { id: 'DESC' }, take: limit });
  }
}
