import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, SelectQueryBuilder } from 'typeorm';
import { CONFIG } from '../common/config.token.js';
import type { ControlPlaneConfig } from '../config/config.js';
import type { Transaction } from '../database/transactions.js';
import { auditEventHash, GENESIS_HASH, storedFormOf } from './audit-chain.js';
import type { ChainLookup } from './audit-chain-verifier.js';
import { AuditEventEntity } from './audit-event.entity.js';

export type NewAuditEvent = Omit<AuditEventEntity, 'id' | 'prevHash' | 'hash'>;

export interface AuditFilter {
  actor?: string;
  /** A kind, or a domain (`review` / `review.`) matching all of its kinds. */
  kind?: string;
  target?: string;
  /** Events about a connection: its own (`connection/NAME`) and those whose details name it. */
  connection?: string;
  /** Inclusive. */
  since?: Date;
  /** Exclusive. */
  until?: Date;
}

/**
 * One appender at a time, across processes: taken with the transaction that appends, released when
 * it commits, so the next appender reads a head that is already committed.
 */
const AUDIT_APPEND_LOCK = 0x6175646974; // "audit"

const APPEND = `
  INSERT INTO audit_events (id, at, actor, kind, target, details, prev_hash, hash)
  VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)`;

@Injectable()
export class AuditRepository implements ChainLookup {
  /**
   * Embedded PGlite runs every transaction in its one session, where an advisory lock serializes
   * nothing (a session may take it again): there, appends also queue up in this process.
   */
  private readonly sharedSession: boolean;
  private appending: Promise<unknown> = Promise.resolve();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(CONFIG) config: ControlPlaneConfig,
  ) {
    this.sharedSession = config.database.kind === 'pglite';
  }

  /**
   * Appends one event to the chain. Inside the caller's transaction when given (the lock is then held
   * until it commits; it must be READ COMMITTED, TypeORM's default), otherwise in one of its own.
   */
  async append(event: NewAuditEvent, tx?: Transaction): Promise<void> {
    if (!tx) return this.dataSource.transaction((own) => this.append(event, own));
    if (!this.sharedSession) return this.appendLocked(event, tx);
    const turn = this.appending.then(() => this.appendLocked(event, tx));
    this.appending = turn.catch(() => undefined);
    return turn;
  }

  private async appendLocked(event: NewAuditEvent, tx: Transaction): Promise<void> {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_APPEND_LOCK]);
    const [head] = (await tx.query('SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1')) as Array<{ hash: string }>;
    const [{ id }] = (await tx.query(`SELECT nextval(pg_get_serial_sequence('audit_events', 'id'))::text AS id`)) as Array<{ id: string }>;
    const details = storedFormOf(event.details);
    const prevHash = head?.hash ?? GENESIS_HASH;
    const hash = auditEventHash(prevHash, { ...event, id, details });
    await tx.query(APPEND, [id, event.at, event.actor, event.kind, event.target, JSON.stringify(details), prevHash, hash]);
  }

  /** Newest first, strictly older than the event `beforeId` when given. */
  listNewestFirst(limit: number, filter: AuditFilter, beforeId?: string): Promise<AuditEventEntity[]> {
    const query = this.filtered(filter).orderBy('e.id', 'DESC').limit(limit);
    if (beforeId !== undefined) query.andWhere('e.id < :beforeId', { beforeId });
    return query.getMany();
  }

  /** Oldest first, in pages of `pageSize` held one at a time: for export and verification. */
  /** Up to `limit` events after `afterId`, oldest first (the audit log read in order, as sinks deliver it). */
  pageAfter(afterId: string, limit: number, filter: AuditFilter = {}): Promise<AuditEventEntity[]> {
    return this.filtered(filter).andWhere('e.id > :afterId', { afterId }).orderBy('e.id', 'ASC').limit(limit).getMany();
  }

  async *inIdOrder(filter: AuditFilter, pageSize: number): AsyncGenerator<AuditEventEntity[]> {
    let afterId = '0';
    for (;;) {
      const page = await this.pageAfter(afterId, pageSize, filter);
      if (page.length === 0) return;
      yield page;
      afterId = page[page.length - 1].id;
      if (page.length < pageSize) return;
    }
  }

  async idOfHash(hash: string): Promise<string | null> {
    const [row] = (await this.dataSource.query('SELECT id::text AS text_id FROM audit_events WHERE hash = $1 ORDER BY audit_events.id LIMIT 1', [hash])) as Array<{ text_id: string }>;
    return row?.text_id ?? null;
  }

  async isFollowed(hash: string): Promise<boolean> {
    const rows = (await this.dataSource.query('SELECT 1 FROM audit_events WHERE prev_hash = $1 LIMIT 1', [hash])) as unknown[];
    return rows.length > 0;
  }

  private filtered(filter: AuditFilter): SelectQueryBuilder<AuditEventEntity> {
    const query = this.dataSource.getRepository(AuditEventEntity).createQueryBuilder('e').where('TRUE');
    if (filter.actor !== undefined) query.andWhere('e.actor = :actor', { actor: filter.actor });
    if (filter.kind !== undefined) {
      const kind = filter.kind.replace(/\.$/, '');
      query.andWhere('(e.kind = :kind OR starts_with(e.kind, :kindPrefix))', { kind, kindPrefix: `${kind}.` });
    }
    if (filter.target !== undefined) query.andWhere('e.target = :target', { target: filter.target });
    if (filter.connection !== undefined) {
      query.andWhere(`(e.target = :connectionTarget OR e.details->>'connection' = :connection)`, {
        connectionTarget: `connection/${filter.connection}`,
        connection: filter.connection,
      });
    }
    if (filter.since !== undefined) query.andWhere('e.at >= :since', { since: filter.since });
    if (filter.until !== undefined) query.andWhere('e.at < :until', { until: filter.until });
    return query;
  }
}
