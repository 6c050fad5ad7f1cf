import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../common/clock.js';
import type { Transaction } from '../database/transactions.js';
import { type ChainReport, verifyChain } from './audit-chain-verifier.js';
import type { AuditEventEntity, AuditKind } from './audit-event.entity.js';
import { type AuditFilter, AuditRepository } from './audit.repository.js';

export interface AuditRecord {
  actor: string;
  kind: AuditKind;
  target: string;
  details?: Record<string, unknown>;
}

export interface AuditPage {
  events: AuditEventEntity[];
  /** Pass back as `cursor` for the next (older) page; null when this page is the last. */
  nextCursor: string | null;
}

export const MAX_AUDIT_LIST_LIMIT = 1000;
/** Rows held in memory at once while verifying or exporting. */
export const AUDIT_PAGE_SIZE = 500;

@Injectable()
export class AuditService {
  constructor(
    private readonly events: AuditRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * Appends one event to the hash chain; pass the change's transaction so the change and its record
   * commit together (appends are serialized, so keep that transaction short after this call).
   */
  record(event: AuditRecord, tx?: Transaction): Promise<void> {
    return this.events.append({ at: this.clock.now(), details: {}, ...event }, tx);
  }

  /** Newest first; `cursor` continues from a previous page's `nextCursor`. */
  async list(options: AuditFilter & { limit?: number; cursor?: string } = {}): Promise<AuditPage> {
    const limit = Math.min(options.limit ?? 100, MAX_AUDIT_LIST_LIMIT);
    const events = await this.events.listNewestFirst(limit, options, options.cursor);
    return { events, nextCursor: events.length === limit ? events[events.length - 1].id : null };
  }

  /** Oldest first, a page at a time, for SIEM export. */
  async *export(filter: AuditFilter): AsyncGenerator<AuditEventEntity> {
    for await (const page of this.events.inIdOrder(filter, AUDIT_PAGE_SIZE)) yield* page;
  }

  /** Re-computes the whole chain, holding one page in memory at a time. */
  verify(): Promise<ChainReport> {
    return verifyChain(this.events.inIdOrder({}, AUDIT_PAGE_SIZE), this.events);
  }
}
