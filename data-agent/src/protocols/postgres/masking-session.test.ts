/**
 * Masking on a live Postgres session: node-postgres (text and binary), psql, COPY TO STDOUT and exec
 * read a table of realistic customer data through the agent with masking rules in the context and the
 * real policy gate (allowing everything) reading statements. Postgres, psql and node-postgres are
 * real; expected values come from the same Masker, COPY's expected bytes from Postgres's own output.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Masker } from '../../masking/index.js';
import { ParserPool, SessionJudge } from '../../policy/index.js';
import { policy, session } from '../../policy/test-support/rules.js';
import type { DecisionBroker } from '../../reviews/decision-broker.js';
import { PolicyGate } from '../../reviews/policy-gate.js';
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

const COLUMNS = ['id', 'name', 'email', 'card_number', 'iban', 'ssn', 'notes'] as const;
type Row = readonly [number, ...(string | null)[]];
const ROWS: readonly Row[] = [
  [1, 'Jane Doe', 'jane.doe@example.com', '4111111111111111', 'DE89370400440532013000', '123-45-6789',
    'Called from +1 415 555 0100, wrote from jane.doe@example.com; gave key sk_live_4eC39HqLyjWDarjtT1zdp7dc; ticket ACME-123456'],
  [2, 'John Roe', 'john@example.org', '4111111111111112', 'GB82WEST12345698765432', '078-05-1120',
    'Order 4111111111111112 shipped (not a card: fails Luhn). Server 10.1.2.3 timed out.'],
  [3, 'Ana Lima', 'ana@example.net', '5500 0000 0000 0004', 'DE89370400440532013000', '219-09-9999', 'No notes'],
  // Values COPY must escape or quote: tabs, newlines, backslashes, quotes, commas, pipes, NULLs, a literal \N.
  [4, "O'Brien, \"Bob\"\tJr.", 'bob.o\\brien@example.com', null, null, '536-90-4399',
    'line one\nline two\twith tab, comma "quote" | pipe and back\\slash; mail bob.o@example.com\r\nend'],
  [5, 'Zoë Ünïcödé', null, '4000 0566 5566 5556', 'FR1420041010050500013M02606', null, '\\N'],
  [6, '', '', '', '', '', null],
];
const SECRETS = ['jane.doe@example.com', 'john@example.org', 'ana@example.net', '4111111111111111', '5500 0000 0000 0004',
  'DE89370400440532013000', 'GB82WEST12345698765432', '123-45-6789', '078-05-1120', '219-09-9999', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc',
  '415 555 0100', '10.1.2.3', 'ACME-123456', 'bob.o@example.com', 'brien@example.com', '536-90-4399', '4000 0566 5566 5556', 'FR1420041010050500013M02606'];

/** How the client must see a value of a column: what a SELECT of it gives. */
const maskedValue = (column: string, value: string | null) =>
  value === null ? null : masker.forColumn({ schema: 'public', table: 'customers', column })?.mask(value) ?? value;

/** What the client must see: id and name as they are, the rest masked. */
const EXPECTED = ROWS.map((row) => Object.fromEntries(COLUMNS.map((c, i) => [c, i === 0 ? row[0] : maskedValue(c, row[i] as string | null)])));

let cluster: TestCluster;
let agent: AgentListener;
let detectAgent: AgentListener;
const engine = new PostgresEngine({ closeGraceMs: 1_000 });
const parsers = new ParserPool();
let target: ReturnType<typeof makeTarget>;

/** The policy gate sessions get in production, with a policy that allows everything (no review is ever held). */
function allowEverythingGate(): PolicyGate {
  const rules = session(policy('allow-all', [], 'allow'));
  return new PolicyGate('test', rules, new SessionJudge(rules, parsers), {} as DecisionBroker);
}

const literal = (v: string | number | null) => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : `$v$${v}$v$`);

beforeAll(async () => {
  cluster = await startTestCluster();
  await cluster.admin('CREATE TABLE customers (id int primary key, name text, email text, card_number text, iban text, ssn text, notes text)');
  for (const row of ROWS) await cluster.admin(`INSERT INTO customers VALUES (${row.map(literal).join(', ')})`);
  await cluster.admin(`GRANT ALL ON customers TO ${TEST_ROLES.scram.user}`);
  await cluster.admin(`GRANT CREATE ON SCHEMA public TO ${TEST_ROLES.scram.user}`);
  target = makeTarget({ host: cluster.host, port: cluster.port, database: cluster.database, user: TEST_ROLES.scram.user });
  const withMasking = (m: Masker) => () => Object.assign(makeContext(target, TEST_ROLES.scram.password), { masking: m, gate: allowEverythingGate() });
  agent = await startAgentListener(engine, withMasking(masker));
  detectAgent = await startAgentListener(engine, withMasking(detectorsOnly));
});

afterAll(async () => {
  await agent?.close();
  await detectAgent?.close();
  await parsers.close();
  await cluster?.stop();
});

async function client(port: number, binary = false): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'x', database: 'y', binary } as pg.ClientConfig);
  c.on('error', () => undefined); // a failed test must not leave an unhandled error when the agent closes
  await c.connect();
  return c;
}

function psql(port: number, sql: string): Promise<{ stdout: string; stderr: string; code: number }> {
  return psqlCommands(port, [sql]);
}

/** Each command in turn on one session; with `stopOnError` false, psql goes on after an error as people use it. */
function psqlCommands(port: number, commands: string[], { stopOnError = true, user = 'x', database = 'y' } = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', database, '-X', '-A', '-t', '-v', `ON_ERROR_STOP=${stopOnError ? 1 : 0}`];
  return new Promise((resolve) => {
    execFile(join(findPostgresBin(), 'psql'), [...args, ...commands.flatMap((c) => ['-c', c])],
      { timeout: 20_000, env: { ...process.env, PGCONNECT_TIMEOUT: '10' } },
      (err, stdout, stderr) => resolve({ stdout, stderr, code: err ? Number((err as { code?: number }).code ?? 1) : 0 }));
  });
}

/** The same command straight to the database as its superuser: what Postgres itself sends. */
const direct = (sql: string) => psqlCommands(cluster.port, [sql], { user: 'postgres', database: cluster.database });

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
    // Rows 1-3: the others hold newlines, which psql's unaligned output does not delimit.
    const out = await psql(agent.port, 'select id, name, email, card_number, iban, ssn, notes from customers where id <= 3 order by id');
    expect(out.code).toBe(0);
    expect(out.stdout.trim().split('\n')).toEqual(EXPECTED.slice(0, 3).map((r) => [r.id, r.name, r.email, r.card_number, r.iban, r.ssn, r.notes].join('|')));
    expectNoSecrets(out.stdout);
  });

  it('masks COPY lines of any query with the detectors when there are no column rules', async () => {
    const copied = await psql(detectAgent.port, 'copy (select id, name, email, iban, ssn, notes from customers where id <= 3 order by id) to stdout');
    expect(copied.code).toBe(0);
    expect(copied.stdout.trim().split('\n')).toEqual(ROWS.slice(0, 3).map(([id, name, email, , iban, ssn, notes]) =>
      [id, name, email, iban, ssn, notes].map((v) => detectorsOnly.maskText(String(v))).join('\t')));
    for (const secret of SECRETS.filter((s) => s !== 'ACME-123456')) expect(copied.stdout).not.toContain(secret);
    const csv = await psql(detectAgent.port, "copy (select name, email from customers where id = 1) to stdout with (format csv)");
    expect(csv.stdout.trim()).toBe(`Jane Doe,${detectorsOnly.maskText('jane.doe@example.com')}`);
  });
});

/** A text-format COPY row, escaped here independently of the agent's codec (and checked against Postgres). */
const textRow = (values: (string | null)[], delimiter = '\t') => `${values.map((v) => (v === null ? '\\N'
  : v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t').split(delimiter).join(`\\${delimiter}`))).join(delimiter)}\n`;
/** A CSV row with Postgres's default quoting. */
const csvRow = (values: (string | null)[]) =>
  `${values.map((v) => (v === null ? '' : v === '' || /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)).join(',')}\n`;

describe('COPY TO STDOUT under column rules', () => {
  /** The rows in the order COPY reads the table, as [column, value] pairs. */
  async function tableOrder(columns: readonly string[]): Promise<{ raw: (string | null)[]; masked: (string | null)[] }[]> {
    const ids = (await cluster.admin('select id from customers order by ctid')).rows.map((r: { id: number }) => r.id);
    return ids.map((id) => {
      const row = ROWS.find((r) => r[0] === id)!;
      const raw = columns.map((c) => { const v = row[COLUMNS.indexOf(c as (typeof COLUMNS)[number])]; return v === null || v === undefined ? null : String(v); });
      return { raw, masked: raw.map((v, i) => maskedValue(columns[i]!, v)) };
    });
  }

  it('masks every column a rule selects in COPY customers TO STDOUT, and leaves every other byte as Postgres wrote it', async () => {
    const rows = await tableOrder(COLUMNS);
    const original = rows.map((r) => textRow(r.raw)).join('');
    expect((await direct('COPY customers TO STDOUT')).stdout).toBe(original);
    const expected = rows.map((r) => textRow(r.masked)).join('');
    expect(expected).not.toBe(original);
    for (const command of ['COPY customers TO STDOUT', '\\copy customers to stdout']) {
      const out = await psql(agent.port, command);
      expect(out.code, out.stderr).toBe(0);
      expect(out.stdout, command).toBe(expected);
      expectNoSecrets(out.stdout);
    }
    // What no rule selects is byte for byte what Postgres sent: names with tabs and quotes, a literal \N, NULLs.
    expect(expected).toContain('4\tO\'Brien, "Bob"\\tJr.\t****\t\\N\t\\N\t****\t');
    expect(expected).toContain('5\tZoë Ünïcödé\t\\N\t***************5556\t');
    expect(expected).toContain('\t\\\\N\n');
    expect(expected).toContain('6\t\t****\t****\t\t****\t\\N\n');
  });

  it('masks COPY customers (name, email) TO STDOUT WITH (FORMAT csv, HEADER)', async () => {
    const rows = await tableOrder(['name', 'email']);
    const sql = 'COPY customers (name, email) TO STDOUT WITH (FORMAT csv, HEADER)';
    expect((await direct(sql)).stdout).toBe(`name,email\n${rows.map((r) => csvRow(r.raw)).join('')}`);
    const out = await psql(agent.port, sql);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toBe(`name,email\n${rows.map((r) => csvRow(r.masked)).join('')}`);
    expect(out.stdout).toContain('"O\'Brien, ""Bob""\tJr.",****\n');
    expectNoSecrets(out.stdout);
  });

  it('quotes a masked CSV value the way Postgres would have: FORCE_QUOTE columns always, the others when needed', async () => {
    const rows = await tableOrder(['id', 'email', 'notes']);
    const forced = (values: (string | null)[]) => csvRow(values).replace(/^([^,]*),([^,"\n]+),/, '$1,"$2",');
    const sql = 'COPY customers (id, email, notes) TO STDOUT (FORMAT csv, FORCE_QUOTE (email))';
    expect((await direct(sql)).stdout).toBe(rows.map((r) => forced(r.raw)).join(''));
    const out = await psql(agent.port, sql);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toBe(rows.map((r) => forced(r.masked)).join(''));
    expect(out.stdout).toContain('6,"****",\n');
    expectNoSecrets(out.stdout);
  });

  it("masks COPY public.customers TO STDOUT (DELIMITER '|')", async () => {
    const rows = await tableOrder(COLUMNS);
    const sql = "COPY public.customers TO STDOUT (DELIMITER '|')";
    expect((await direct(sql)).stdout).toBe(rows.map((r) => textRow(r.raw, '|')).join(''));
    const out = await psql(agent.port, sql);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toBe(rows.map((r) => textRow(r.masked, '|')).join(''));
    expect(out.stdout).toContain('\\| pipe');
    expectNoSecrets(out.stdout);
  });

  it.each([
    ['COPY (SELECT name, email FROM customers) TO STDOUT',
      'airlock: COPY (query) TO STDOUT cannot be masked by column, as its columns cannot be named from the statement; run the query as a SELECT instead'],
    ['COPY customers TO STDOUT (FORMAT binary)', 'airlock: binary COPY cannot be masked; use COPY ... TO STDOUT in text or CSV format'],
  ])('refuses %s with 42501, and the session serves the next query', async (sql, message) => {
    const out = await psqlCommands(agent.port, [sql, "select 'next query'"], { stopOnError: false });
    expect(out.stderr).toContain(`ERROR:  ${message}`);
    expect(out.stdout).toBe('next query\n');
    expectNoSecrets(out.stdout);
  });

  it('refuses a table a temporary one may hide, or that the catalog connection cannot see yet', async () => {
    const out = await psqlCommands(agent.port, [
      'create temp table customers (id int, email text)', "insert into customers values (1, 'temp@example.com')",
      'copy customers to stdout', 'copy public.customers (id, email) to stdout',
      'begin', "create table fresh (id int, email text)", "insert into fresh values (1, 'fresh@example.com')", 'copy fresh to stdout', 'rollback',
    ], { stopOnError: false });
    expect(out.stderr).toContain('ERROR:  airlock: COPY TO STDOUT of "customers" cannot be masked by column: a temporary table of that name exists and may hide it; name it as schema.table; use SELECT to read masked tables');
    expect(out.stderr).toContain('ERROR:  airlock: COPY TO STDOUT of "fresh" cannot be masked by column: airlock\'s catalog connection does not see that table (temporary, or not committed yet); use SELECT to read masked tables');
    const rows = await tableOrder(['id', 'email']);
    expect(out.stdout).toBe(`CREATE TABLE\nINSERT 0 1\n${rows.map((r) => textRow(r.masked)).join('')}BEGIN\nCREATE TABLE\nINSERT 0 1\nROLLBACK\n`);
    expect(out.stdout + out.stderr).not.toContain('temp@example.com');
    expect(out.stdout + out.stderr).not.toContain('fresh@example.com');
  });

  it('refuses an unqualified table once the session changed search_path, and still masks a qualified one', async () => {
    const out = await psqlCommands(agent.port, ['set search_path = public', 'copy customers to stdout', 'copy public.customers (id, ssn) to stdout'], { stopOnError: false });
    expect(out.stderr).toContain('ERROR:  airlock: COPY TO STDOUT of "customers" cannot be masked by column: the session changed search_path, so which table the unqualified name means is not known; name it as schema.table; use SELECT to read masked tables');
    const rows = await tableOrder(['id', 'ssn']);
    expect(out.stdout).toBe(`SET\n${rows.map((r) => textRow(r.masked)).join('')}`);
    expectNoSecrets(out.stdout);
  });
});

describe('masking on a Postgres session (exec and errors)', () => {
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
