import type { MigrationInterface, QueryRunner } from 'typeorm';
import { auditEventHash, GENESIS_HASH } from '../../audit/audit-chain.js';

const BACKFILL_PAGE = 500;

interface StoredEvent {
  text_id: string;
  at: Date;
  actor: string;
  kind: string;
  target: string;
  details: Record<string, unknown>;
}

/**
 * Tamper-evident audit log: every event carries the previous event's hash and its own
 * (audit/audit-chain.ts). Events recorded before this migration are chained here, in id order,
 * so an old database verifies like a new one.
 */
export class AuditHashChain1764400000000 implements MigrationInterface {
  name = 'AuditHashChain1764400000000';

  async up(db: QueryRunner): Promise<void> {
    // No one appends while the chain is being computed.
    await db.query('LOCK TABLE audit_events IN EXCLUSIVE MODE');
    await db.query('ALTER TABLE audit_events ADD COLUMN prev_hash text, ADD COLUMN hash text');
    await db.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only');
    let prevHash = GENESIS_HASH;
    let afterId = '0';
    for (;;) {
      const page = (await db.query(
        // Ordered by the bigint column: an output column named id (the text) would sort as text.
        'SELECT id::text AS text_id, at, actor, kind, target, details FROM audit_events WHERE id > $1 ORDER BY audit_events.id LIMIT $2',
        [afterId, BACKFILL_PAGE],
      )) as StoredEvent[];
      for (const event of page) {
        const hash = auditEventHash(prevHash, { ...event, id: event.text_id });
        await db.query('UPDATE audit_events SET prev_hash = $2, hash = $3 WHERE id = $1', [event.text_id, prevHash, hash]);
        prevHash = hash;
      }
      if (page.length < BACKFILL_PAGE) break;
      afterId = page[page.length - 1].text_id;
    }
    await db.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only');
    await db.query('ALTER TABLE audit_events ALTER COLUMN prev_hash SET NOT NULL, ALTER COLUMN hash SET NOT NULL');
    // The verifier looks an event up by its hash only once it has found a broken link.
    await db.query('CREATE INDEX audit_events_hash_idx ON audit_events (hash)');
    await db.query('CREATE INDEX audit_events_at_idx ON audit_events (at)');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP INDEX IF EXISTS audit_events_at_idx');
    await db.query('DROP INDEX IF EXISTS audit_events_hash_idx');
    await db.query('ALTER TABLE audit_events DROP COLUMN IF EXISTS hash, DROP COLUMN IF EXISTS prev_hash');
  }
}
