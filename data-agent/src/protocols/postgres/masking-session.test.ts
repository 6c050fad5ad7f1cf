/**
 * Masking on a live Postgres session: node-postgres (text and binary), psql, COPY TO STDOUT and exec
 * read a table of realistic customer data through the agent with masking rules in the context.
 * Postgres, psql and node-postgres are real; expected values come from the same Masker.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Masker } from '../../masking/index.js';
import { PostgresEngine } from './engine.js';
import { findPostgresBin, startTestCluster, TEST_ROLES, type TestCluster } from './test-support/pg-cluster.js';
import { makeContext, makeTarget, startAgentListener, type AgentListener } from './test-support/session-harness.js';

const key = Buffer.from('masking-session-test-key');
const ALL_DETECTORS = ['email', 'card', 'iban', 'ssn', 'phone', 'ipv4', 'ipv6', 'jwt', 'api-key'] as const;
const masker = new Masker([
  { columns: ['*.email', 'customers.ssn'], mode: { kind: 'redact' } },
  { columns: ['customers.card_number'], mode: { kind: 'keep-last', keep: 4 } },
  { detect: [...ALL_DETECTORS], mode: { kind: 'hash' } },
  { pattern: /ACME-[0-9]{6}/gu, mode: { kind: 'redact' } },
], key);
const detectorsOnly = new Masker([{ detect: [...ALL_DETECTORS], mode: { kind: 'hash' } }], key);

const ROWS = [
  [1, 'Jane Doe', 'jane.doe@example.com', '4111111111111111', 'DE89370400440532013000', '123-45-6789',
    'Called from +1 415 555 0100, wrote from jane.doe@example.com; gave key sk_live_4eC39HqLyjWDarjtT1zdp7dc; ticket ACME-123456'],
  [2, 'John Roe', 'john@example.org', '4111111111111112', 'GB82WEST12345698765432', '078-05-1120',
    'Order 4111111111111112 shipped (not a card: fails Luhn). Server 10.1.2.3 timed out.'],
  [3, 'Ana Lima', 'ana@example.net', '5500 0000 0000 0004', 'DE89370400440532013000', '219-09-9999', 'No notes'],
] as const;
const SECRETS = ['jane.doe@example.com', 'john@example.org', 'ana@example.net', '4111111111111111', '5500 0000 0000 0004',
  'DE89370400440532013000', 'GB82WEST12345698765432', '123-45-6789', '078-05-1120', '219-09-9999', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc',
  '415 555 0100', '10.1.2.3', 'ACME-123456'];

/** What the client must see: id and name as they are, the rest masked. */
const EXPECTED = ROWS.map(([id, name, email, card, iban, ssn, notes]) => ({
  id, name, email: '****', card_number: masker.forColumn({ schema: 'public', table: 'customers', column: 'card_number' })!.mask(card),
  iban: masker.maskText(iban), ssn: '****', notes: masker.maskText(notes),
}));

let cluster: TestCluster;
let agent: AgentListener;
let detectAgent: AgentListener;
const engine = new PostgresEngine({ closeGraceMs: 1_000 });
let target: ReturnType<typeof makeTarget>;

beforeAll(async () => {
  cluster = await startTestCluster();
  await cluster.admin('CREATE TABLE customers (id int primary key, name text, email text, card_number text, iban text, ssn text, notes text)');
  for (const row of ROWS) await cluster.admin(`INSERT INTO customers VALUES (${row[0]}, ${row.slice(1).map((v) => `'${v}'`).join(', ')})`);
  await cluster.admin(`GRANT ALL ON customers TO ${TEST_ROLES.scram.user}`);
  await cluster.admin(`GRANT CREATE ON SCHEMA public TO ${TEST_ROLES.scram.user}`);
  target = makeTarget({ host: cluster.host, port: cluster.port, database: cluster.database, user: TEST_ROLES.scram.user });
  const withMasking = (m: Masker) => () => Object.assign(makeContext(target, TEST_ROLES.scram.password), { masking: m });
  agent = await startAgentListener(engine, withMasking(masker));
  detectAgent = await startAgentListener(engine, withMasking(detectorsOnly));
});

afterAll(async () => {
  await agent?.close();
  await detectAgent?.close();
  await cluster?.stop();
});

async function client(port: number, binary = false): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'x', database: 'y', binary } as pg.ClientConfig);
  c.on('error', () => undefined); // a failed test must not leave an unhandled error when the agent closes
  await c.connect();
  return c;
}

function psql(port: number, sql: string): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile(join(findPostgresBin(), 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'x', '-d', 'y', '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql],
      { timeout: 20_000, env: { ...process.env, PGCONNECT_TIMEOUT: '10' } },
      (err, stdout, stderr) => resolve({ stdout, stderr, code: err ? Number((err as { code?: number }).code ?? 1) : 0 }));
  });
}

const expectNoSecrets = (output: string) => {
  for (const secret of SECRETS) expect(output, secret).not.toContain(secret);
};

describe('masking on a Postgres session', () => {
  it('masks every sensitive value for node-postgres in text mode and leaves the rest byte-identical', async () => {
    const c = await client(agent.port);
    const { rows } = await c.query('select * from customers order by id');
    expect(rows).toEqual(EXPECTED);
    expectNoSecrets(JSON.stringify(rows));
    expect(rows[0].email).toBe('****');
    expect(rows[0].card_number).toBe('************1111');
    expect(rows[1].card_number).toBe('************1112');
    expect(rows[0].iban).toMatch(/^h:[0-9a-f]{12}$/);
    // Deterministic: the same IBAN gives the same token, so joins and group-bys still line up.
    expect(rows[2].iban).toBe(rows[0].iban);
    expect(rows[1].notes).toBe('Order 4111111111111112 shipped (not a card: fails Luhn). Server ' + masker.maskText('10.1.2.3') + ' timed out.');
    // Unmasked columns are the very bytes the database sends.
    const direct = await cluster.admin('select id, name from customers order by id');
    expect((await c.query('select id, name from customers order by id')).rows).toEqual(direct.rows);
    // A column read under another name is still that column; an expression gets the detectors.
    expect((await c.query('select email as contact, upper(email) as shout from customers where id = 1')).rows)
      .toEqual([{ contact: '****', shout: masker.maskText('JANE.DOE@EXAMPLE.COM') }]);
    // Extended protocol with parameters.
    expect((await c.query('select ssn, name from customers where id = $1', [2])).rows).toEqual([{ ssn: '****', name: 'John Roe' }]);
    await c.end();
  });

  it('masks values whose table the catalog connection cannot see: every column rule is taken to match', async () => {
    const c = await client(agent.port);
    await c.query('begin');
    await c.query("create table uncommitted as select 'plain'::text as other, 'ana@example.net'::text as contact");
    expect((await c.query('select * from uncommitted')).rows).toEqual([{ other: '****', contact: '****' }]);
    await c.query('rollback');
    await c.end();
  });

  it('fails closed with 42501 when node-postgres asks for a masked column in binary, and the session goes on', async () => {
    const c = await client(agent.port, true);
    // node-postgres uses the extended protocol (where binary results are asked for) only with parameters.
    const error = (await c.query('select id, email from customers where id > $1 order by id', [0]).catch((e: pg.DatabaseError) => e)) as pg.DatabaseError;
    expect(error.code).toBe('42501');
    expect(error.message).toBe('airlock: column "email" is masked by policy and cannot be sent in binary format; request it as text');
    // Binary columns no rule masks still work: text values get the detectors, other types pass.
    const { rows } = await c.query('select id, name, notes from customers where id > $1 order by id', [0]);
    expect(rows.map((r) => [r.id, r.name, r.notes])).toEqual(EXPECTED.map((r) => [r.id, r.name, r.notes]));
    await c.end();
  });

  it('masks psql output', async () => {
    const out = await psql(agent.port, 'select id, name, email, card_number, iban, ssn, notes from customers order by id');
    expect(out.code).toBe(0);
    expect(out.stdout.trim().split('\n')).toEqual(EXPECTED.map((r) => [r.id, r.name, r.email, r.card_number, r.iban, r.ssn, r.notes].join('|')));
    expectNoSecrets(out.stdout);
  });

  it('refuses COPY TO STDOUT while column rules apply, and masks COPY lines with the detectors otherwise', async () => {
    const refused = await psql(agent.port, 'copy customers to stdout');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('airlock: COPY TO STDOUT cannot be masked by column; use SELECT to read masked tables');
    expectNoSecrets(refused.stdout);

    const copied = await psql(detectAgent.port, 'copy (select id, name, email, iban, ssn, notes from customers order by id) to stdout');
    expect(copied.code).toBe(0);
    expect(copied.stdout.trim().split('\n')).toEqual(ROWS.map(([id, name, email, , iban, ssn, notes]) =>
      [id, name, email, iban, ssn, notes].map((v) => detectorsOnly.maskText(String(v))).join('\t')));
    for (const secret of SECRETS.filter((s) => s !== 'ACME-123456')) expect(copied.stdout).not.toContain(secret);
    const csv = await psql(detectAgent.port, "copy (select name, email from customers where id = 1) to stdout with (format csv)");
    expect(csv.stdout.trim()).toBe(`Jane Doe,${detectorsOnly.maskText('jane.doe@example.com')}`);
  });

  it('masks airlock exec results with the same rules', async () => {
    const ctx = Object.assign(makeContext(target, TEST_ROLES.scram.password), { masking: masker });
    const outcome = await engine.exec('select * from customers order by id', 100, ctx);
    expect(outcome.results[0]!.rows).toEqual(EXPECTED.map((r) => [String(r.id), r.name, r.email, r.card_number, r.iban, r.ssn, r.notes]));
    const plain = await engine.exec('select id, name from customers order by id', 100, makeContext(target, TEST_ROLES.scram.password));
    expect(plain.results[0]!.rows).toEqual(ROWS.map((r) => [String(r[0]), r[1]]));
    // A value quoted back in an error detail is masked too.
    const dup = await engine.exec("insert into customers (id, email) values (1, 'x@example.com')", 10, ctx);
    expect(dup.databaseError?.sqlstate).toBe('23505');
    expect(dup.databaseError?.detail).not.toContain('jane');
  });

  it('masks a value quoted in an error detail on the wire', async () => {
    await cluster.admin('CREATE UNIQUE INDEX IF NOT EXISTS customers_email ON customers (email)');
    const c = await client(agent.port);
    const error = (await c.query("insert into customers (id, email) values (9, 'jane.doe@example.com')").catch((e: pg.DatabaseError) => e)) as pg.DatabaseError;
    expect(error.code).toBe('23505');
    expect(error.detail).toBe(`Key (email)=(${masker.maskText('jane.doe@example.com')}) already exists.`);
    await c.end();
  });
});
