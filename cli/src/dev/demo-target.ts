import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface DemoTarget {
  host: string;
  port: number;
  stop(): Promise<void>;
}

const SEED = `
CREATE TABLE IF NOT EXISTS customers (
  id serial PRIMARY KEY,
  name text NOT NULL,
  email text NOT NULL,
  country text NOT NULL,
  plan text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS orders (
  id serial PRIMARY KEY,
  customer_id integer NOT NULL REFERENCES customers(id),
  amount_cents integer NOT NULL,
  status text NOT NULL,
  placed_at timestamptz NOT NULL DEFAULT now()
);`;

const CUSTOMERS: [string, string, string, string][] = [
  ['Ada Lovelace', 'ada@example.com', 'GB', 'enterprise'],
  ['Grace Hopper', 'grace@example.com', 'US', 'team'],
  ['Alan Turing', 'alan@example.com', 'GB', 'free'],
  ['Katherine Johnson', 'katherine@example.com', 'US', 'enterprise'],
  ['Edsger Dijkstra', 'edsger@example.com', 'NL', 'team'],
  ['Barbara Liskov', 'barbara@example.com', 'US', 'team'],
  ['Donald Knuth', 'don@example.com', 'US', 'free'],
  ['Margaret Hamilton', 'margaret@example.com', 'US', 'enterprise'],
];

/**
 * The `airlock dev` target: PGlite (embedded Postgres) served over the wire protocol on loopback,
 * seeded once. Dev only: PGlite accepts any login, and all its connections share one session.
 */
export async function startDemoTarget(dataDir: string, port: number): Promise<DemoTarget> {
  mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  await db.exec(SEED);
  const { rows } = await db.query<{ count: number }>('SELECT count(*)::int AS count FROM customers');
  if (rows[0]!.count === 0) await seed(db);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: 32 });
  await server.start();
  return {
    host: '127.0.0.1',
    port,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

async function seed(db: PGlite): Promise<void> {
  for (const [name, email, country, plan] of CUSTOMERS) {
    await db.query('INSERT INTO customers (name, email, country, plan) VALUES ($1, $2, $3, $4)', [name, email, country, plan]);
  }
  await db.exec(`
    INSERT INTO orders (customer_id, amount_cents, status, placed_at)
    SELECT 1 + (g % ${CUSTOMERS.length}), 500 + (g * 737) % 25000,
           (ARRAY['paid','paid','refunded','pending'])[1 + g % 4], now() - (g || ' hours')::interval
    FROM generate_series(1, 40) AS g;`);
}
