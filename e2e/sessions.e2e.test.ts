/**
 * Recording and replay through the whole path: real psql and node-postgres sessions through the
 * real control plane, agent and CLI binaries, then `airlock sessions export | tail | kill` on them.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, TEST_ROLES } from '../data-agent/src/protocols/postgres/test-support/pg-cluster.js';
import type { TestCluster } from '../data-agent/src/protocols/postgres/test-support/pg-cluster.js';
import { runPsql, spawnCli } from './support/index.js';
import { addPostgresConnection, startStack } from './harness/stack.js';
import type { Stack } from './harness/stack.js';

const CONNECTION = 'pg-rec';

interface SessionJson {
  id: string;
  status: string;
  error: { code: string; message: string } | null;
  statements: Array<{ sequence: number; text: string }>;
}

let stack: Stack;
let target: TestCluster;
let port: number;

function client(): pg.Client {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'whoever', database: 'whatever', connectionTimeoutMillis: 20_000 });
  c.on('error', () => undefined); // the kill test ends the connection from the server side
  return c;
}

async function session(id: string): Promise<SessionJson> {
  return stack.cliJson<SessionJson>(['sessions', 'show', id]);
}

/** The one live session of the connection (each test has at most one open at a time). */
async function liveSessionId(): Promise<string> {
  return waitFor('a live session', async () => {
    const sessions = await stack.cliJson<Array<{ id: string; status: string }>>(['sessions', 'list', '--connection', CONNECTION]);
    return sessions.find((s) => s.status === 'open')?.id;
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function which(command: string): Promise<string | undefined> {
  try {
    return (await promisify(execFile)('which', [command])).stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  target = await startTestCluster();
  stack = await startStack();
  await addPostgresConnection(stack, { agent: 'rec-1', connection: CONNECTION, target, role: TEST_ROLES.scram });
  port = (await stack.connect(CONNECTION)).port;
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await target?.stop();
});

describe('airlock sessions export', () => {
  it('turns a psql session into an asciicast that asciinema can play', async () => {
    const before = new Set((await stack.cliJson<Array<{ id: string }>>(['sessions', 'list', '--connection', CONNECTION])).map((s) => s.id));
    const psql = await runPsql({ port, user: 'someone', database: 'anything', input: "select 41 + 1 as answer;\nselect 'recorded' as word;\nselect * from no_such_table;\n", args: ['-v', 'ON_ERROR_STOP=0'] });
    expect(psql.stdout).toContain('42');
    const id = await waitFor('the psql session to be recorded and closed', async () => {
      const sessions = await stack.cliJson<Array<{ id: string; status: string }>>(['sessions', 'list', '--connection', CONNECTION]);
      const done = sessions.find((s) => !before.has(s.id) && s.status === 'closed');
      return done && (await session(done.id)).statements.length >= 3 ? done.id : undefined;
    });

    const exported = await stack.cli(['sessions', 'export', id, '--format', 'cast']);
    expect(exported.code, exported.stderr).toBe(0);
    const [headerLine, ...eventLines] = exported.stdout.trimEnd().split('\n');
    const header = JSON.parse(headerLine!) as Record<string, unknown>;
    expect(header).toMatchObject({ version: 2, height: 30, title: `airlock session ${id}` });
    expect(header.width).toEqual(expect.any(Number));
    expect(Math.abs((header.timestamp as number) - Date.now() / 1000)).toBeLessThan(120);
    const events = eventLines.map((line) => JSON.parse(line) as unknown[]);
    for (const event of events) expect(event).toEqual([expect.any(Number), 'o', expect.stringMatching(/\r\n$/)]);
    const screen = events.map((e) => e[2]).join('');
    for (const text of ['select 41 + 1 as answer', "select 'recorded' as word", 'select * from no_such_table', '42P01']) expect(screen).toContain(text);

    const [asciinema, script] = [await which('asciinema'), await which('script')];
    if (!asciinema || !script) {
      console.warn(`NOTE: ${asciinema ? 'script (util-linux)' : 'asciinema'} is not installed, so \`asciinema cat\` was not run on the export (apt-get install -y asciinema)`);
      return;
    }
    const file = join(mkdtempSync(join(tmpdir(), 'airlock-cast-')), 'session.cast');
    writeFileSync(file, exported.stdout);
    // asciinema 2 opens /dev/tty even for `cat`: give it a pseudo-terminal with script(1).
    const played = await promisify(execFile)(script, ['-qec', `${asciinema} cat '${file}'`, '/dev/null'], { env: { ...process.env, HOME: tmpdir() }, timeout: 30_000 });
    for (const text of ['select 41 + 1 as answer', "select 'recorded' as word", 'relation "no_such_table" does not exist']) expect(played.stdout).toContain(text);
  });
});

describe('airlock sessions tail', () => {
  it('prints a statement run after it started, and returns when the session ends', async () => {
    const c = client();
    await c.connect();
    await c.query('select 1');
    const id = await liveSessionId();
    const tail = await spawnCli(['sessions', 'tail', id], { home: stack.home, readyPattern: /Following session/, name: 'sessions-tail' });

    await c.query("select 'run after tail started' as marker");
    await tail.waitFor(/#\d+ {2}select 'run after tail started' as marker\n +SELECT 1 · 1 row/, 10_000);
    await c.end();
    const exit = await tail.exited;
    expect(exit.code).toBe(0);
    expect(tail.stdout).toMatch(/Session closed after \d+ statements\n$/);
  });
});

describe('airlock sessions kill', () => {
  it('ends a live node-postgres session within a second: 57P01 with the reason, and the session shows why', async () => {
    const c = client();
    await c.connect();
    const running = c.query('select pg_sleep(60)').then(
      () => undefined,
      (e: pg.DatabaseError) => ({ error: e, at: Date.now() }),
    );
    const id = await liveSessionId();

    const started = Date.now();
    const killed = await stack.cli(['sessions', 'kill', id, '--reason', 'e2e incident 4711']);
    expect(killed.code, killed.stderr).toBe(0);
    expect(killed.stdout).toBe(`Session ${id} ended (failed): killed by bootstrap-admin: e2e incident 4711\n`);

    const outcome = await running;
    expect(outcome?.error.code).toBe('57P01');
    expect(outcome?.error.message).toBe('airlock: the session was ended: killed by bootstrap-admin: e2e incident 4711');
    // Measured from starting the CLI process (about 0.3 s of it is Node starting up).
    expect(outcome!.at - started).toBeLessThan(1500);
    expect(await session(id)).toMatchObject({
      status: 'failed',
      error: { code: 'killed', message: 'airlock: the session was ended: killed by bootstrap-admin: e2e incident 4711' },
    });

    const again = await stack.cli(['sessions', 'kill', id]);
    expect(again).toMatchObject({ code: 1, stderr: `airlock: session ${id} has already ended (failed)\n` });
  });

  it('ends a live psql session, which reports the reason', async () => {
    const psql = runPsql({ port, command: 'select pg_sleep(60)' });
    const id = await liveSessionId();
    const killed = await stack.cli(['sessions', 'kill', id, '--no-wait']);
    expect(killed.stdout).toBe(`Told the agent to end session ${id}: killed by bootstrap-admin\n`);
    const result = await psql;
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('airlock: the session was ended: killed by bootstrap-admin');
  });
});
