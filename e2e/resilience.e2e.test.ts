/**
 * What a user sees when things go wrong: a wrong name, a bad token, no control plane, an agent
 * that is down or restarted, a control plane that restarts under a running agent.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, TEST_ROLES } from '../data-agent/src/protocols/postgres/test-support/pg-cluster.js';
import type { TestCluster } from '../data-agent/src/protocols/postgres/test-support/pg-cluster.js';
import { freePort, runCli } from './support/index.js';
import { addPostgresConnection, startStack } from './harness/stack.js';
import type { AgentProcess, Stack } from './harness/stack.js';

let stack: Stack;
let target: TestCluster;
let agent: AgentProcess;

beforeAll(async () => {
  target = await startTestCluster();
  stack = await startStack();
  agent = await addPostgresConnection(stack, { agent: 'edge', connection: 'db', target, role: TEST_ROLES.md5 });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await target?.stop();
});

async function execOk(): Promise<void> {
  const r = await stack.cli(['exec', 'db', '-c', 'select current_user as who', '--json']);
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout).results[0].rows).toEqual([[TEST_ROLES.md5.user]]);
}

async function eventually(check: () => Promise<void>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

describe('clear errors', () => {
  it('names an unknown connection', async () => {
    for (const args of [['exec', 'nope', '-c', 'select 1'], ['connect', 'nope']]) {
      const r = await stack.cli(args);
      expect(r.code).toBe(4);
      expect(r.stderr.trim()).toMatch(/^airlock: connection "nope" does not exist/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('refuses a bad token in one line', async () => {
    const r = await runCli(['exec', 'db', '-c', 'select 1'], { env: { AIRLOCK_URL: stack.url, AIRLOCK_TOKEN: 'alk_admin_wrong' } });
    expect(r.code).toBe(3);
    expect(r.stderr.trim()).toMatch(/^airlock: .*refused your token/);
    const list = await runCli(['connections', 'list'], { env: { AIRLOCK_URL: stack.url, AIRLOCK_TOKEN: 'alk_admin_wrong' } });
    expect(list.code).toBe(3);
  });

  it('says when the control plane cannot be reached', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    for (const args of [['exec', 'db', '-c', 'select 1'], ['connections', 'list']]) {
      const r = await runCli(args, { env: { AIRLOCK_URL: dead, AIRLOCK_TOKEN: stack.token } });
      expect(r.code).toBe(5);
      expect(r.stderr.trim()).toMatch(new RegExp(`^airlock: cannot reach the control plane at ${dead}`));
    }
  });

  it('reports a target that is down as a Postgres error', async () => {
    const created = await stack.cli(['connections', 'create', 'down', '--type', 'postgres', '--agent', 'edge', '--host', '127.0.0.1', '--port', String(await freePort()), '--database', 'x', '--user', 'x', '--tls-mode', 'disable']);
    expect(created.code, created.stderr).toBe(0);
    const r = await stack.cli(['exec', 'down', '-c', 'select 1']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/cannot reach target "down"/);
  });
});

describe('agents coming and going', () => {
  it('reports an agent that is down, then serves new sessions once it is back', async () => {
    await execOk();
    await agent.process.stop();
    await eventually(async () => {
      const agents = await stack.cliJson<{ name: string; connected: boolean }[]>(['agents', 'list']);
      expect(agents.find((a) => a.name === 'edge')?.connected).toBe(false);
    });
    const r = await stack.cli(['exec', 'db', '-c', 'select 1']);
    expect(r.code).toBe(5);
    expect(r.stderr.trim()).toBe('airlock: agent "edge" that serves connection "db" is offline');
    const connect = await stack.cli(['connect', 'db']);
    expect(connect.code).toBe(5);
    expect(connect.stderr).toMatch(/agent "edge" that serves connection "db" is offline/);

    await agent.restart(); // same state dir: no join token needed any more
    await eventually(execOk);
  });

  it('reconnects the agent by itself when the control plane restarts, with tunnels working again', async () => {
    await stack.restartControlPlane();
    await eventually(execOk, 60_000);
    const { port, process: connect } = await stack.connect('db');
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'x', database: 'y' });
    await c.connect();
    expect((await c.query('select 7 as seven')).rows).toEqual([{ seven: 7 }]);
    await c.end();
    await connect.stop();
  });

  it('loses no recorded statement when the control plane crashes right after it ran', async () => {
    const { port, process: connect } = await stack.connect('db');
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'x', database: 'y' });
    c.on('error', () => undefined);
    await c.connect();
    await c.query("select 'ran before the crash' as marker");
    // Killed within the agent's batching window: the statement has not reached the store yet.
    await stack.restartControlPlane('SIGKILL');
    expect((await c.query("select 'ran after the restart' as marker")).rows).toEqual([{ marker: 'ran after the restart' }]);
    await c.end();
    await connect.stop();
    const [latest] = await stack.cliJson<{ id: string }[]>(['sessions', 'list', '--connection', 'db', '--limit', '1']);
    await eventually(async () => {
      const shown = await stack.cliJson<{ statements: { statement?: string; text?: string }[] }>(['sessions', 'show', latest!.id]);
      const texts = shown.statements.map((s) => s.statement ?? s.text ?? '');
      expect(texts).toEqual(expect.arrayContaining([expect.stringContaining('ran before the crash'), expect.stringContaining('ran after the restart')]));
    }, 30_000);
  }, 120_000);
});
