import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../common/clock.js';
import type { Transaction } from '../database/transactions.js';
import type { AuditEventEntity, AuditKind } from './audit-event.entity.js';
import { AuditRepository } from './audit.repository.js';

export interface AuditRecord {
  actor: string;
  kind: AuditKind;
  target: string;
  details?: Record<string, unknown>;
}

export const MAX_AUDIT_LIST_LIMIT = 1000;

@Injectable()
export class AuditService {
  constructor(
    private readonly events: AuditRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Appends one event; pass the change's transaction so the change and its record commit together. */
  record(event: AuditRecord, tx?: Transaction): Promise<void> {
    return this.events.append({ at: this.clock.now(), details: {}, ...event }, tx);
  }

  list(options: { kind?: AuditKind; target?: string; limit?: number } = {}): Promise<AuditEventEntity[]> {
    const limit = Math.min(options.limit ?? 100, MAX_AUDIT_LIST_LIMIT);
    return this.events.listNewestFirst(limit, options);
  }
}
