import { createHash } from 'node:crypto';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../common/canonical-json.js';
import { MIGRATIONS } from '../database/data-source-options.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { apiClient, ManualClock, startTestControlPlane, TEST_ADMIN_TOKEN, type TestControlPlane } from '../testing/test-control-plane.js';
import { AuditService } from './audit.service.js';

/**
 * The hash chain against a real Postgres: many concurrent appenders still form one chain, and each
 * way of tampering with rows behind the trigger's back (as the database superuser, trigger disabled)
 * is reported as the exact first bad event and problem.
 */

type Api = ReturnType<typeof apiClient>;

/** The chain rule written out again from its documentation, independent of audit-chain.ts. */
function expectedHash(prevHash: string, e: { id: number; at: string; actor: string; kind: string; target: string; details: unknown }): string {
  const content = canonicalJson({ id: e.id, at: e.at, actor: e.actor, kind: e.kind, target: e.target, details: e.details });
  return createHash('sha256').update(prevHash + content).digest('hex');
}

describe('the audit hash chain', () => {
  let db: TestDatabase;
  let cp: TestControlPlane;
  let admin: Api;
  let sql: pg.Client;
  const clock = new ManualClock();

  beforeAll(async () => {
    db = await createTestDatabase();
    cp = await startTestControlPlane({ databaseUrl: db.url, bootstrapToken: TEST_ADMIN_TOKEN }, clock);
    admin = apiClient(cp.url, TEST_ADMIN_TOKEN);
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await cp?.close();
    await db?.drop();
  });

  async function ids(): Promise<number[]> {
    return (await sql.query<{ id: string }>('SELECT id FROM audit_events ORDER BY id')).rows.map((r) => Number(r.id));
  }

  /** Tampers as the superuser would, asks the control plane to verify, then puts every row back. */
  async function verifyAfter(tamper: string, params: unknown[] = []): Promise<unknown> {
    await sql.query('CREATE TABLE audit_backup AS SELECT * FROM audit_events');
    await sql.query('ALTER TABLE audit_events DISABLE TRIGGER ALL');
    try {
      await sql.query(tamper, params);
      return (await admin('GET', '/v1/audit/verify')).body;
    } finally {
      await sql.query('DELETE FROM audit_events');
      await sql.query('INSERT INTO audit_events SELECT * FROM audit_backup');
      await sql.query('DROP TABLE audit_backup');
      await sql.query('ALTER TABLE audit_events ENABLE TRIGGER ALL');
    }
  }

  it('chains events appended concurrently, across more than one page of verification', async () => {
    const audit = cp.app.get(AuditService);
    await Promise.all([
      ...Array.from({ length: 600 }, (_, i) => audit.record({ actor: `user:load-${i % 7}`, kind: 'test.appended', target: `test/${i}`, details: { i, at: new Date(0) } })),
      ...Array.from({ length: 10 }, (_, i) => admin('POST', '/v1/users', { name: `concurrent-${i}` })),
    ]);

    const rows = (await sql.query('SELECT id, at, actor, kind, target, details, prev_hash, hash FROM audit_events ORDER BY id')).rows;
    let prev = '0'.repeat(64);
    for (const row of rows) {
      expect(row.prev_hash).toBe(prev);
      expect(row.hash).toBe(expectedHash(prev, { ...row, id: Number(row.id), at: row.at.toISOString() }));
      prev = row.hash;
    }
    expect(rows.length).toBeGreaterThan(610);
    // Dates in details are hashed as the strings jsonb keeps.
    expect(rows.find((r) => r.kind === 'test.appended').details.at).toBe('1970-01-01T00:00:00.000Z');

    expect(await admin('GET', '/v1/audit/verify')).toMatchObject({ status: 200, body: { ok: true, events: rows.length, head: prev } });
  });

  it('reports an event whose details were altered', async () => {
    const k = (await ids())[10];
    expect(await verifyAfter(`UPDATE audit_events SET details = details || '{"i": 9999}' WHERE id = $1`, [k])).toEqual({
      ok: false, firstBadEventId: k, problem: 'altered', message: `event ${k} was altered: its content no longer matches its hash`,
    });
  });

  it('reports an event that was rewritten with a recomputed hash, through the next link', async () => {
    const k = (await ids())[20];
    const { rows: [row] } = await sql.query('SELECT * FROM audit_events WHERE id = $1', [k]);
    const forged = { ...row, id: k, at: row.at.toISOString(), actor: 'user:nobody' };
    expect(await verifyAfter('UPDATE audit_events SET actor = $2, hash = $3 WHERE id = $1', [k, forged.actor, expectedHash(row.prev_hash, forged)])).toEqual({
      ok: false, firstBadEventId: k, problem: 'altered', message: `event ${k} was altered: its hash is not the one event ${k + 1} recorded for it`,
    });
  });

  it('reports a deleted event as removed', async () => {
    const all = await ids();
    const k = all[30];
    expect(all[31]).toBe(k + 1);
    expect(await verifyAfter('DELETE FROM audit_events WHERE id = $1', [k])).toEqual({
      ok: false, firstBadEventId: k, problem: 'removed', message: `event ${k} was removed: event ${k + 1} follows an event that is no longer in the log`,
    });
    expect(await verifyAfter('DELETE FROM audit_events WHERE id = $1', [all[0]])).toMatchObject({ firstBadEventId: all[0], problem: 'removed' });
    expect(await verifyAfter('DELETE FROM audit_events WHERE id BETWEEN $1 AND $2', [k, k + 2])).toEqual({
      ok: false, firstBadEventId: k, problem: 'removed', message: `the events between ${k - 1} and ${k + 3} were removed: event ${k + 3} follows an event that is no longer in the log`,
    });
  });

  it('reports two swapped events as reordered', async () => {
    const k = (await ids())[40];
    const swap = `
      UPDATE audit_events a
      SET at = b.at, actor = b.actor, kind = b.kind, target = b.target, details = b.details, prev_hash = b.prev_hash, hash = b.hash
      FROM audit_events b
      WHERE (a.id = $1 AND b.id = $1 + 1) OR (a.id = $1 + 1 AND b.id = $1)`;
    expect(await verifyAfter(swap, [k])).toEqual({
      ok: false, firstBadEventId: k, problem: 'reordered', message: `event ${k} is out of order: it follows event ${k + 1}, which comes after it`,
    });
  });

  it('reports a forged event, hashed by the published rule and backdated to follow an old one, as inserted', async () => {
    const all = await ids();
    const k = all[50];
    const { rows: [old] } = await sql.query('SELECT * FROM audit_events WHERE id = $1', [k]);
    const forgedId = all[all.length - 1] + 1;
    const forged = { id: forgedId, at: old.at.toISOString(), actor: 'user:alice', kind: 'policy.applied', target: 'policy/prod-postgres', details: { version: 1 } };
    const insert = `
      INSERT INTO audit_events (id, at, actor, kind, target, details, prev_hash, hash)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`;
    const params = [forgedId, forged.at, forged.actor, forged.kind, forged.target, forged.details, old.hash, expectedHash(old.hash, forged)];
    expect(await verifyAfter(insert, params)).toEqual({
      ok: false, firstBadEventId: forgedId, problem: 'inserted', message: `event ${forgedId} was inserted: it claims to follow event ${k}, not event ${forgedId - 1}`,
    });
  });

  it('verifies again once the rows are back as they were, and the trigger still refuses changes', async () => {
    expect((await admin('GET', '/v1/audit/verify')).body).toMatchObject({ ok: true });
    await expect(sql.query('DELETE FROM audit_events WHERE id = 1')).rejects.toThrow('audit_events is append-only');
  });
});

describe('the migration that adds the chain', () => {
  it('chains the events an older database already holds, so it verifies', async () => {
    const db = await createTestDatabase();
    try {
      const timestampOf = (m: (typeof MIGRATIONS)[number]) => Number(/(\d+)$/.exec(m.name)![1]);
      const before = new DataSource({ type: 'postgres', url: db.url, migrations: MIGRATIONS.filter((m) => timestampOf(m) < 1764400000000), migrationsTransactionMode: 'each' });
      await before.initialize();
      await before.runMigrations();
      for (let i = 0; i < 1200; i += 1) {
        await before.query(`INSERT INTO audit_events (at, actor, kind, target, details) VALUES (now(), 'bootstrap-admin', 'policy.applied', $1, $2)`, [`policy/p${i}`, { version: i, note: 'é ✓' }]);
      }
      await before.destroy();

      const cp = await startTestControlPlane({ databaseUrl: db.url, bootstrapToken: TEST_ADMIN_TOKEN });
      try {
        const verify = await apiClient(cp.url, TEST_ADMIN_TOKEN)('GET', '/v1/audit/verify');
        // The 1200 old events, then the bootstrap token's, appended to the backfilled chain.
        expect(verify.body).toMatchObject({ ok: true, events: 1201 });
      } finally {
        await cp.close();
      }
    } finally {
      await db.drop();
    }
  });
});
