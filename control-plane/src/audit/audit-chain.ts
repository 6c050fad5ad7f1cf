import { createHash } from 'node:crypto';
import { canonicalJson } from '../common/canonical-json.js';

/**
 * The audit log's hash chain. This format is frozen: old rows were hashed with it (the migration that
 * added the chain backfilled them with this same function), and exports let others re-check it.
 *
 *   content = canonical JSON of { id, at, actor, kind, target, details }
 *             (keys sorted at every level, no whitespace; id a JSON number, at an ISO-8601 UTC string
 *             with milliseconds, details as stored in jsonb)
 *   hash    = lowercase hex SHA-256 of the UTF-8 bytes of (prev_hash + content)
 *   prev_hash of the first event = GENESIS_HASH; of every other event, the previous event's hash.
 *
 * The id is part of the content, so an event cannot be moved to another position without its
 * hash changing; prev_hash links it to its predecessor, so removing or inserting an event breaks
 * the next link.
 */
export const GENESIS_HASH = '0'.repeat(64);

export interface ChainedContent {
  id: string | number;
  at: Date;
  actor: string;
  kind: string;
  target: string;
  details: Record<string, unknown>;
}

export function auditEventHash(prevHash: string, event: ChainedContent): string {
  const content = canonicalJson({
    id: Number(event.id),
    at: event.at.toISOString(),
    actor: event.actor,
    kind: event.kind,
    target: event.target,
    details: event.details,
  });
  return createHash('sha256').update(prevHash + content, 'utf8').digest('hex');
}

/**
 * Details exactly as jsonb will give them back (Dates become strings, undefined fields vanish), so
 * the hash computed before the insert is the hash a verifier computes from the stored row.
 */
export function storedFormOf(details: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(details)) as Record<string, unknown>;
}
