import { execFile } from 'node:child_process';
import { Duplex } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionTarget } from '../engine.js';
import { BackendScanner } from './backend-scanner.js';
import { PostgresEngine } from './engine.js';
import * as ser from './serializer.js';
import { startTestCluster, TEST_ROLES, type TestCluster, type TestRole } from './test-support/pg-cluster.js';
import { rawConnect } from './test-support/raw-client.js';
import { makeContext, makeTarget, startAgentListener, waitFor, type AgentListener } from './test-support/session-harness.js';

let cluster: TestCluster;
const listeners: AgentListener[] = [];
const engine = new PostgresEngine({ closeGraceMs: 1_000 });

beforeAll(async () => {
  cluster = await startTestCluster();
});

afterAll(async () => {
  await Promise.all(listeners.map((l) => l.close()));
  await cluster?.stop();
});

function targetFor(role: TestRole, overrides: Partial<ConnectionTarget> = {}): ConnectionTarget {
  return makeTarget({ host: cluster.host, port: cluster.port, database: cluster.database, user: role.user, ...overrides });
}

/** An agent listener whose sessions log in as `role` with `secret` (the role's password unless given). */
async function agentFor(role: TestRole, opts: { secret?: string; target?: Partial<ConnectionTarget> } = {}): Promise<AgentListener> {
  const target = targetFor(role, opts.target);
  const listener = await startAgentListener(engine, () => makeContext(target, opts.secret ?? role.password));
  listeners.push(listener);
  return listener;
}

/** A real node-postgres client that names a user and database of its own: the agent must ignore them. */
async function connectPg(agent: AgentListener): Promise<pg.Client> {
  const client = new pg.Client({ host: '127.0.0.1', port: agent.port, user: 'mallory', database: 'elsewhere', application_name: 'session-test' });
  await client.connect();
  return client;
}

function psql(port: number, sql: string, input?: string): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    const child = execFile('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'mallory', '-d', 'x', '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql],
      { timeout: 20_000, env: { ...process.env, PGCONNECT_TIMEOUT: '10' } },
      (err, stdout, stderr) => resolve({ stdout, stderr, code: err ? Number((err as { code?: number }).code ?? 1) : 0 }));
    child.stdin!.end(input ?? '');
  });
}

describe('PostgresSession login', () => {
  it.each([
    ['scram-sha-256', TEST_ROLES.scram],
    ['md5', TEST_ROLES.md5],
    ['cleartext password', TEST_ROLES.cleartext],
  ])('logs in with %s using the agent-held secret, as the target user and database', async (_method, role) => {
    const agent = await agentFor(role);
    const client = await connectPg(agent);
    const res = await client.query('select current_user as u, current_database() as d, current_setting(\'application_name\') as app');
    expect(res.rows).toEqual([{ u: role.user, d: cluster.database, app: 'session-test' }]);
    await client.end();
    const summary = await agent.sessions[0]!.summary;
    expect(summary.error).toBeUndefined();
    expect(summary.bytesFromClient).toBeGreaterThan(0);
    expect(agent.sessions[0]!.ctx.secretReads).toBe(1);
  });

  it('uses TLS to the target when tlsMode is require (the role is only allowed over TLS)', async () => {
    const agent = await agentFor(TEST_ROLES.tls, { target: { tlsMode: 'require' } });
    const client = await connectPg(agent);
    const res = await client.query('select ssl from pg_stat_ssl where pid = pg_backend_pid()');
    expect(res.rows).toEqual([{ ssl: true }]);
    await client.end();
  });

  it('fails verify-full against a self-signed certificate with a readable error', async () => {
    const agent = await agentFor(TEST_ROLES.tls, { target: { tlsMode: 'verify-full' } });
    const client = new pg.Client({ host: '127.0.0.1', port: agent.port, user: 'x', database: 'x' });
    const err = await client.connect().then(() => undefined, (e: pg.DatabaseError) => e);
    expect(err?.code).toBe('08001');
    expect(err?.message).toMatch(/^airlock: login to target "demo" as user "airlock_tls" failed: TLS with target 127\.0\.0\.1:\d+ failed: self[- ]signed certificate/);
  });

  it('shows the server auth error when the secret holds the wrong password', async () => {
    const agent = await agentFor(TEST_ROLES.scram, { secret: 'not-the-password' });
    const client = new pg.Client({ host: '127.0.0.1', port: agent.port, user: 'x', database: 'x' });
    const err = await client.connect().then(() => undefined, (e: pg.DatabaseError) => e);
    expect(err?.code).toBe('28P01');
    expect(err?.message).toBe('airlock: login to target "demo" as user "airlock_scram" failed: password authentication failed for user "airlock_scram"');
    expect((await agent.sessions[0]!.summary).error?.code).toBe('target_unreachable');
  });

  it('tells the client the target is down with SQLSTATE 08001', async () => {
    const agent = await agentFor(TEST_ROLES.scram, { target: { port: 1 } });
    const client = new pg.Client({ host: '127.0.0.1', port: agent.port, user: 'x', database: 'x' });
    const err = await client.connect().then(() => undefined, (e: pg.DatabaseError) => e);
    expect(err?.code).toBe('08001');
    expect(err?.message).toBe('airlock: cannot reach target "demo" at 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1');
    const summary = await agent.sessions[0]!.summary;
    expect(summary.error).toEqual({ code: 'target_unreachable', message: err?.message });
  });
});

describe('PostgresSession relay', () => {
  it('relays simple and extended queries and records each statement with rows and errors', async () => {
    const agent = await agentFor(TEST_ROLES.scram);
    const client = await connectPg(agent);
    await client.query('create temp table t (n int)');
    await client.query('insert into t select generate_series(1, 5)');
    expect((await client.query({ text: 'select $1::int + 1 as n', values: [41] })).rows).toEqual([{ n: 42 }]);
    const named = { name: 'count_t', text: 'select count(*)::int as c from t where n > $1' };
    expect((await client.query({ ...named, values: [2] })).rows).toEqual([{ c: 3 }]);
    expect((await client.query({ ...named, values: [4] })).rows).toEqual([{ c: 1 }]);
    await expect(client.query({ text: 'select 1 / $1::int', values: [0] })).rejects.toMatchObject({ code: '22012' });
    await expect(client.query('select * from no_such_table')).rejects.toMatchObject({ code: '42P01' });
    expect((await client.query('select 2 as two')).rows).toEqual([{ two: 2 }]);
    await client.end();
    await agent.sessions[0]!.summary;
    const seen = agent.sessions[0]!.ctx.records.map((r) => [r.sequence, r.protocol, r.text, r.commandTag, r.rows, r.errorSqlstate]);
    expect(seen).toEqual([
      [1, 'simple', 'create temp table t (n int)', 'CREATE TABLE', undefined, ''],
      [2, 'simple', 'insert into t select generate_series(1, 5)', 'INSERT 0 5', 5, ''],
      [3, 'extended', 'select $1::int + 1 as n', 'SELECT 1', 1, ''],
      [4, 'extended', named.text, 'SELECT 1', 1, ''],
      [5, 'extended', named.text, 'SELECT 1', 1, ''],
      [6, 'extended', 'select 1 / $1::int', '', undefined, '22012'],
      [7, 'simple', 'select * from no_such_table', '', undefined, '42P01'],
      [8, 'simple', 'select 2 as two', 'SELECT 1', 1, ''],
    ]);
    const failed = agent.sessions[0]!.ctx.records[6]!;
    expect(failed.errorMessage).toBe('relation "no_such_table" does not exist');
    expect(failed.durationUs).toBeGreaterThanOrEqual(0);
    expect(failed.startedAt).toBeInstanceOf(Date);
  });

  it('relays a 100,000-row result', async () => {
    const agent = await agentFor(TEST_ROLES.md5);
    const client = await connectPg(agent);
    const res = await client.query('select g, md5(g::text) as h from generate_series(1, 100000) g');
    expect(res.rows.length).toBe(100_000);
    expect(res.rows[99_999]).toEqual({ g: 100_000, h: expect.stringMatching(/^[0-9a-f]{32}$/) });
    await client.end();
    const summary = await agent.sessions[0]!.summary;
    expect(summary.bytesToClient).toBeGreaterThan(100_000 * 40);
    expect(agent.sessions[0]!.ctx.records[0]).toMatchObject({ commandTag: 'SELECT 100000', rows: 100_000 });
  });

  it('supports COPY FROM STDIN and COPY TO STDOUT (psql)', async () => {
    const agent = await agentFor(TEST_ROLES.scram);
    await cluster.admin('create table if not exists copy_t (n int, s text); grant all on copy_t to public; truncate copy_t');
    const lines = Array.from({ length: 10 }, (_, i) => `${i + 1}\trow ${i + 1}`).join('\n') + '\n';
    const into = await psql(agent.port, 'COPY copy_t FROM STDIN', lines);
    expect(into.stderr).toBe('');
    expect(into.stdout.trim()).toBe('COPY 10');
    const out = await psql(agent.port, 'COPY (select * from copy_t order by n) TO STDOUT');
    expect(out.stdout).toBe(lines);
    await waitFor(() => agent.sessions.length === 2);
    const records = await Promise.all(agent.sessions.map(async (s) => (await s.summary, s.ctx.records[0])));
    expect(records.map((r) => [r?.commandTag, r?.rows])).toEqual([['COPY 10', 10], ['COPY 10', 10]]);
  });

  it('cancels a running query through the agent-issued key, never exposing the server key', async () => {
    const agent = await agentFor(TEST_ROLES.scram);
    const client = await connectPg(agent);
    const realPid = (await client.query('select pg_backend_pid() as pid')).rows[0].pid as number;
    const issued = client as unknown as { processID: number; secretKey: number };
    expect(issued.processID).not.toBe(realPid);
    const sleeping = client.query('select pg_sleep(30)').then(() => undefined, (e: pg.DatabaseError) => e);
    await waitFor(async () => (await cluster.admin(`select 1 from pg_stat_activity where pid = ${realPid} and query like 'select pg_sleep%'`)).rowCount === 1);
    const canceller = new pg.Client({ host: '127.0.0.1', port: agent.port });
    // node-postgres sends the CancelRequest with the key the agent gave `client`, over a new connection.
    (canceller as unknown as { cancel(c: pg.Client, q: unknown): void }).cancel(client, (client as unknown as { activeQuery: unknown }).activeQuery);
    const err = await sleeping;
    expect(err?.code).toBe('57014');
    expect(err?.message).toBe('canceling statement due to user request');
    expect((await client.query('select 1 as still_alive')).rows).toEqual([{ still_alive: 1 }]);
    await client.end();
  });

  it('ends only the session that sends malformed bytes, with SQLSTATE 08P01', async () => {
    const agent = await agentFor(TEST_ROLES.scram);
    const healthy = await connectPg(agent);
    const raw = await rawConnect(agent.port);
    const from = raw.messages.length;
    raw.socket.write(Buffer.from([0x51, 0, 0, 0, 2])); // 'Q' with length 2
    const err = await raw.next('ErrorResponse', from);
    expect(err.fields).toMatchObject({ severity: 'FATAL', code: '08P01' });
    expect(err.fields.message).toBe("airlock: invalid message from the client: invalid length 2 for message type 'Q' (0x51)");
    await waitFor(() => raw.closed(), 5_000, 'the malformed session to close');
    expect((await agent.sessions[1]!.summary).error?.code).toBe('protocol');
    expect((await healthy.query('select 1 as ok')).rows).toEqual([{ ok: 1 }]);
    await healthy.end();
  });

  it('ends the session when the control plane kills it, telling the client why', async () => {
    const agent = await agentFor(TEST_ROLES.scram);
    const client = await connectPg(agent);
    client.on('error', () => {});
    const realPid = (await client.query('select pg_backend_pid() as pid')).rows[0].pid as number;
    const sleeping = client.query('select pg_sleep(30)').then(() => undefined, (e: Error & { code?: string }) => e);
    await waitFor(async () => (await cluster.admin(`select 1 from pg_stat_activity where pid = ${realPid} and query like 'select pg_sleep%'`)).rowCount === 1);
    agent.sessions[0]!.ctx.abort.abort();
    const err = await sleeping;
    expect(err?.code).toBe('57P01');
    expect(err?.message).toBe('airlock: the session was ended (killed by airlock)');
    const summary = await agent.sessions[0]!.summary;
    expect(summary.error).toEqual({ code: 'killed', message: 'airlock: the session was ended (killed by airlock)' });
    expect(agent.sessions[0]!.ctx.records.at(-1)).toMatchObject({ text: 'select pg_sleep(30)', errorMessage: 'the session ended before the statement completed' });
  });

  it('stops reading the database while the client does not read: buffered bytes stay bounded', async () => {
    const ctx = makeContext(targetFor(TEST_ROLES.scram), TEST_ROLES.scram.password);
    const scanner = new BackendScanner();
    const seen: string[] = [];
    let reading = false;
    const held: (() => void)[] = [];
    // The client side of the tunnel: it sees what the agent writes but does not acknowledge it until `reading`.
    const tunnel = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        for (const m of scanner.push(chunk)) seen.push(m.type === 'CommandComplete' ? m.tag : m.type);
        if (reading) cb();
        else held.push(cb);
      },
    });
    const summary = engine.serveTunnel(tunnel, ctx);
    tunnel.push(ser.startupMessage({ user: 'x', database: 'y' }));
    await waitFor(() => seen.includes('ReadyForQuery'), 10_000, 'login');
    const realPid = Number(await firstValue(`select pid from pg_stat_activity where usename = 'airlock_scram' and application_name = '' order by backend_start desc limit 1`));
    tunnel.push(ser.query("select repeat('x', 1000) from generate_series(1, 100000)"));
    await waitFor(async () => (await firstValue(`select wait_event from pg_stat_activity where pid = ${realPid}`)) === 'ClientWrite', 10_000, 'the server to block on the socket');
    await new Promise((r) => setTimeout(r, 300));
    expect(tunnel.writableLength).toBeLessThan(256 * 1024); // ~100 MB result, yet only a few chunks are held
    expect(ctx.records).toEqual([]);
    reading = true;
    held.splice(0).forEach((cb) => cb());
    await waitFor(() => seen.includes('SELECT 100000'), 20_000, 'the whole result');
    tunnel.push(ser.terminate());
    tunnel.push(null);
    const result = await summary;
    expect(result.error).toBeUndefined();
    expect(result.bytesToClient).toBeGreaterThan(100_000 * 1000);
    expect(ctx.records[0]).toMatchObject({ commandTag: 'SELECT 100000', rows: 100_000 });
  });
});

async function firstValue(sql: string): Promise<unknown> {
  const res = await cluster.admin(sql);
  return res.rows[0] ? Object.values(res.rows[0])[0] : undefined;
}
