/**
 * The audit part of FakeControlPlane: a short hash chain kept in memory, read back through the same
 * routes, filters and JSON as the real control plane (control-plane/src/audit: audit.controller.ts,
 * audit.views.ts, audit.repository.ts filters, audit-chain.ts hashing, dto/audit-filter.query.ts).
 */
import { createHash } from 'node:crypto';

/** audit/audit.views.ts AuditEventView. */
export interface AuditEventView {
  id: number;
  at: string;
  actor: string;
  kind: string;
  target: string;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/** audit/audit-chain-verifier.ts ChainReport. */
export type AuditReport =
  | { ok: true; events: number; head: string }
  | { ok: false; firstBadEventId: number; problem: string; message: string };

type Reply = [number, unknown?];

/** A streamed `application/x-ndjson` body. */
export class JsonLines {
  constructor(readonly lines: unknown[]) {}
}

const GENESIS = '0'.repeat(64);
const MAX_LIMIT = 1000;

const SEED: Array<Omit<AuditEventView, 'id' | 'prevHash' | 'hash'>> = [
  { at: '2025-11-25T06:00:00.000Z', actor: 'airlock', kind: 'token.created', target: 'token/bootstrap-admin', details: { role: 'admin', tokenPrefix: 'alk_admin_AliceAli' } },
  { at: '2025-11-25T06:10:00.000Z', actor: 'alice@example.com', kind: 'policy.applied', target: 'policy/prod-postgres', details: { version: 1, outcome: 'created' } },
  { at: '2025-11-25T06:20:00.000Z', actor: 'alice@example.com', kind: 'connection.created', target: 'connection/pg-prod', details: { type: 'postgres', agent: 'east' } },
  { at: '2025-11-25T06:30:00.000Z', actor: 'user:carol', kind: 'review.created', target: 'review/7', details: { connection: 'pg-prod', kind: 'access' } },
  { at: '2025-11-25T06:40:00.000Z', actor: 'user:dora', kind: 'review.approval', target: 'review/7', details: { comment: null } },
  { at: '2025-11-25T06:50:00.000Z', actor: 'user:carol', kind: 'session.opened', target: `session/00000000-0000-4000-8000-000000000021`, details: { connection: 'pg-prod', mode: 'tunnel' } },
];

export class FakeAudit {
  readonly events: AuditEventView[] = [];
  /** Set to make `GET /v1/audit/verify` report a broken chain. */
  brokenChain: AuditReport | undefined;

  constructor() {
    for (const event of SEED) this.append(event);
  }

  append(event: Omit<AuditEventView, 'id' | 'prevHash' | 'hash'>): AuditEventView {
    const id = this.events.length + 1;
    const prevHash = this.events.at(-1)?.hash ?? GENESIS;
    const content = canonicalJson({ id, at: event.at, actor: event.actor, kind: event.kind, target: event.target, details: event.details });
    const chained = { id, ...event, prevHash, hash: createHash('sha256').update(prevHash + content).digest('hex') };
    this.events.push(chained);
    return chained;
  }

  list(url: URL): Reply {
    const invalid = this.invalidFilter(url);
    if (invalid) return invalid;
    const limit = Number(url.searchParams.get('limit') ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) return [400, problem(`limit must be an integer between 1 and ${MAX_LIMIT}`)];
    const cursor = url.searchParams.get('cursor');
    const newestFirst = this.matching(url).reverse().filter((e) => cursor === null || e.id < Number(cursor));
    const events = newestFirst.slice(0, limit);
    return [200, { events, nextCursor: events.length === limit ? String(events[events.length - 1].id) : null }];
  }

  verify(): Reply {
    return [200, this.brokenChain ?? { ok: true, events: this.events.length, head: this.events.at(-1)?.hash ?? GENESIS }];
  }

  export(url: URL): Reply {
    const invalid = this.invalidFilter(url);
    if (invalid) return invalid;
    const format = url.searchParams.get('format');
    if (format !== null && format !== 'jsonl') return [400, problem('format must be jsonl')];
    return [200, new JsonLines(this.matching(url))];
  }

  private invalidFilter(url: URL): Reply | undefined {
    for (const key of ['since', 'until']) {
      const value = url.searchParams.get(key);
      if (value !== null && Number.isNaN(Date.parse(value))) return [400, problem(`${key} must be an ISO-8601 time such as 2026-11-25T10:00:00Z`)];
    }
    const kind = url.searchParams.get('kind');
    if (kind !== null && !/^[a-z][a-z_]*(\.[a-z][a-z_]*)*\.?$/.test(kind)) return [400, problem('kind must be an event kind such as policy.applied')];
    return undefined;
  }

  /** Oldest first. */
  private matching(url: URL): AuditEventView[] {
    const q = (key: string) => url.searchParams.get(key) ?? undefined;
    const kind = q('kind')?.replace(/\.$/, '');
    const since = q('since');
    const until = q('until');
    return this.events.filter(
      (e) =>
        (q('actor') === undefined || e.actor === q('actor')) &&
        (kind === undefined || e.kind === kind || e.kind.startsWith(`${kind}.`)) &&
        (q('target') === undefined || e.target === q('target')) &&
        (q('connection') === undefined || e.target === `connection/${q('connection')}` || e.details.connection === q('connection')) &&
        (since === undefined || Date.parse(e.at) >= Date.parse(since)) &&
        (until === undefined || Date.parse(e.at) < Date.parse(until)),
    );
  }
}

function problem(message: string): { error: string; message: string } {
  return { error: 'invalid_request', message };
}

/** common/canonical-json.ts: keys sorted at every level. */
function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, x]) => [k, sort(x)]))
        : v;
  return JSON.stringify(sort(value));
}
