/**
 * psql and node-postgres through the whole path: CLI tunnel → control plane → agent → a
 * password-protected Postgres whose password only the agent knows.
 */
import net from 'node:net';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, TEST_ROLES } from '../data-agent/src/protocols/postgres/test-support/pg-cluster.js';
import type { TestCluster } from '../data-agent/src/protocols/postgres/test-support/pg-cluster.js';
import { runPsql } from './support/index.js';
import { addPostgresConnection, startStack } from './harness/stack.js';
import type { Stack } from './harness/stack.js';

let stack: Stack;
let target: TestCluster;
let port: number;
let agentLog: () => string;
let connectLog: () => string;
const password = TEST_ROLES.scram.password;

function client(): pg.Client {
  // No password: the agent logs in upstream with its own credential.
  return new pg.Client({ host: '127.0.0.1', port, user: 'whoever', database: 'whatever', connectionTimeoutMillis: 20_000 });
}

beforeAll(async () => {
  target = await startTestCluster();
  await target.admin(`CREATE TABLE IF NOT EXISTS items (id int primary key, name text)`);
  await target.admin(`GRANT ALL ON items TO ${TEST_ROLES.scram.user}`);
  stack = await startStack();
  const agent = await addPostgresConnection(stack, { agent: 'vpc-1', connection: 'pg', target, role: TEST_ROLES.scram });
  agentLog = () => agent.process.output;
  const connect = await stack.connect('pg');
  port = connect.port;
  connectLog = () => connect.process.output;
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await target?.stop();
});

describe('psql through airlock', () => {
  it('runs queries as the agent-held role without the client knowing the password', async () => {
    const result = await runPsql({ port, user: 'someone', database: 'anything', command: 'select current_user, current_database()', env: { PGPASSWORD: '' } });
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(`${TEST_ROLES.scram.user}|${target.database}`);
  });

  it('copies data in and out with psql \\copy', async () => {
    const input = Array.from({ length: 500 }, (_, i) => `${i}\tname-${i}`).join('\n') + '\n';
    const load = await runPsql({ port, command: '\\copy items from stdin', input, args: [] });
    expect(load.stderr).toBe('');
    const out = await runPsql({ port, command: '\\copy (select * from items order by id) to stdout' });
    expect(out.stdout.split('\n').filter(Boolean)).toHaveLength(500);
    expect(out.stdout.startsWith('0\tname-0\n1\tname-1\n')).toBe(true);
  });
});

describe('node-postgres through airlock', () => {
  it('speaks the simple and the extended protocol, with prepared statements', async () => {
    const c = client();
    await c.connect();
    try {
      expect((await c.query('select 1 + 1 as two')).rows).toEqual([{ two: 2 }]);
      const named = { name: 'by-id', text: 'select name from items where id = $1', values: [7] };
      expect((await c.query(named)).rows).toEqual([{ name: 'name-7' }]);
      expect((await c.query({ ...named, values: [8] })).rows).toEqual([{ name: 'name-8' }]);
      const failed = await c.query('select * from no_such_table').catch((e: pg.DatabaseError) => e);
      expect((failed as pg.DatabaseError).code).toBe('42P01');
      expect((await c.query('select $1::text as echo', ['still fine'])).rows).toEqual([{ echo: 'still fine' }]);
    } finally {
      await c.end();
    }
  });

  it('streams a 100,000-row result', async () => {
    const c = client();
    await c.connect();
    try {
      const result = await c.query('select g as n, md5(g::text) as h from generate_series(1, 100000) g');
      expect(result.rowCount).toBe(100_000);
      expect(result.rows[99_999]).toEqual({ n: 100_000, h: expect.stringMatching(/^[0-9a-f]{32}$/) });
    } finally {
      await c.end();
    }
  });

  it('runs COPY FROM STDIN and COPY TO STDOUT', async () => {
    const c = client();
    await c.connect();
    try {
      await c.query('create temp table copy_in (n int, t text)');
      const rows = Array.from({ length: 20_000 }, (_, i) => `${i}\tvalue ${i}\n`);
      await pipeline(Readable.from(rows), c.query(copyFrom('copy copy_in from stdin')));
      expect((await c.query('select count(*)::int as n, sum(n)::bigint as s from copy_in')).rows).toEqual([{ n: 20_000, s: String((19_999 * 20_000) / 2) }]);
      let bytes = 0;
      await pipeline(c.query(copyTo('copy copy_in to stdout')), new Writable({ write(chunk: Buffer, _e, cb) { bytes += chunk.length; cb(); } }));
      expect(bytes).toBe(rows.join('').length);
    } finally {
      await c.end();
    }
  });

  it('serves 20 concurrent connections, each its own session', async () => {
    const clients = Array.from({ length: 20 }, client);
    await Promise.all(clients.map((c) => c.connect()));
    try {
      const pids = await Promise.all(clients.map(async (c, i) => {
        const r = await c.query('select pg_backend_pid() as pid, $1::int as i, pg_sleep(0.2)', [i]);
        expect(r.rows[0].i).toBe(i);
        return r.rows[0].pid as number;
      }));
      expect(new Set(pids).size).toBe(20);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it('forwards a cancel request to the right backend', async () => {
    const c = client();
    await c.connect();
    try {
      const slow = c.query('select pg_sleep(30)').catch((e: pg.DatabaseError) => e);
      await new Promise((r) => setTimeout(r, 500));
      // A CancelRequest on a new connection, with the key the session handed out (the agent's, not the server's).
      const { processID, secretKey } = c as unknown as { processID: number; secretKey: number };
      const cancel = Buffer.alloc(16);
      cancel.writeInt32BE(16, 0);
      cancel.writeInt32BE(80877102, 4);
      cancel.writeInt32BE(processID, 8);
      cancel.writeInt32BE(secretKey, 12);
      const socket = net.connect(port, '127.0.0.1');
      socket.end(cancel);
      await new Promise((r) => socket.once('close', r));
      const error = (await slow) as pg.DatabaseError;
      expect(error.code).toBe('57014');
      expect((await c.query('select 42 as still_usable')).rows).toEqual([{ still_usable: 42 }]);
    } finally {
      await c.end();
    }
  });

  it('answers malformed client bytes with an ErrorResponse and keeps other sessions going', async () => {
    const healthy = client();
    await healthy.connect();
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    // A startup packet claiming a 2 GiB length.
    socket.write(Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 3, 0, 0]));
    const reply = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.once('close', () => resolve(Buffer.concat(chunks)));
    });
    expect(String.fromCharCode(reply[0]!)).toBe('E');
    expect(reply.toString('latin1')).toContain('C08P01');
    expect((await healthy.query('select 1 as ok')).rows).toEqual([{ ok: 1 }]);
    await healthy.end();
  });
});

describe('what the client receives', () => {
  it('is a trust login from airlock: no password request, and the password is nowhere in the bytes', async () => {
    const params = Buffer.from('user\0someone\0database\0anything\0\0');
    const startup = Buffer.alloc(8);
    startup.writeInt32BE(8 + params.length, 0);
    startup.writeInt32BE(196608, 4);
    const query = Buffer.from('Q\0\0\0\x0dselect 1\0X\0\0\0\x04', 'latin1');
    const socket = net.connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (c: Buffer) => {
      received.push(c);
      if (received.length === 1) socket.write(query);
    });
    socket.write(Buffer.concat([startup, params]));
    await new Promise((r) => socket.once('close', r));
    const bytes = Buffer.concat(received);
    // AuthenticationOk (R, length 8, code 0) first: the client is never asked for a password.
    expect(bytes.subarray(0, 9)).toEqual(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]));
    expect(bytes.includes(Buffer.from(password))).toBe(false);
    expect(bytes.toString('latin1')).toContain('SELECT 1');
  });
});

describe('the session record', () => {
  it('lists each statement with duration, rows and errors', async () => {
    const r = await stack.cli(['exec', 'pg', '-c', 'select id from items where id < 3 order by id']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('id\n0\n1\n2\n(3 rows)\n');
    const sessions = await stack.cliJson<{ id: string; mode: string; connection: string }[]>(['sessions', 'list', '--connection', 'pg']);
    const exec = sessions.find((s) => s.mode === 'exec')!;
    expect(exec.connection).toBe('pg');
    const detail = await stack.cliJson<{ statements: { text: string; rows: number | null; error: unknown }[] }>(['sessions', 'show', exec.id]);
    expect(detail.statements).toEqual([expect.objectContaining({ text: 'select id from items where id < 3 order by id', rows: 3, error: null })]);
    const failing = sessions.filter((s) => s.mode === 'tunnel');
    let sawError = false;
    for (const s of failing) {
      // The REST API directly: one CLI process per session would only make the test slow.
      const d = (await fetch(`${stack.url}/v1/sessions/${s.id}`, { headers: { authorization: `Bearer ${stack.token}` } }).then((r) => r.json())) as {
        statements: { text: string; error: { sqlstate: string } | null }[];
      };
      if (d.statements.some((st) => st.text === 'select * from no_such_table' && st.error?.sqlstate === '42P01')) sawError = true;
    }
    expect(sawError).toBe(true);
  });

  it('never shows the target password to the client, the API or the logs', async () => {
    const outputs = [
      (await stack.cli(['connections', 'show', 'pg', '--json'])).stdout,
      (await stack.cli(['exec', 'pg', '-c', 'select 1'])).stdout,
      (await stack.cli(['sessions', 'list', '--json'])).stdout,
      stack.controlPlane.output,
      agentLog(),
      connectLog(),
      await fetch(`${stack.url}/v1/connections`, { headers: { authorization: `Bearer ${stack.token}` } }).then((r) => r.text()),
    ];
    for (const text of outputs) expect(text).not.toContain(password);
  });
});
