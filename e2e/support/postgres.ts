import pg from 'pg';
import { randomBytes } from 'node:crypto';

/** The machine's PostgreSQL (trust auth, superuser), as exported by scripts/run.mjs. */
export function testPgUrl(): string {
  return process.env.AIRLOCK_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
}

export interface TestDatabase {
  name: string;
  url: string;
  /** Drops the database, terminating its connections. Safe to call twice. */
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testPgUrl(), connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const quoteIdent = (s: string) => '"' + s.replace(/"/g, '""') + '"';

/** Creates a fresh, uniquely named database on the machine's PostgreSQL. */
export async function createTestDatabase(prefix = 'airlock_e2e'): Promise<TestDatabase> {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9_]+/g, '_').slice(0, 40);
  const name = `${clean}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
  const u = new URL(testPgUrl());
  u.pathname = '/' + encodeURIComponent(name);
  let dropped = false;
  return {
    name,
    url: u.toString(),
    async drop() {
      if (dropped) return;
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
      dropped = true;
    },
  };
}
