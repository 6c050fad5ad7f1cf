/**
 * Hundreds of sessions, some ending abruptly mid-query: afterwards no gRPC call, agent session or
 * upstream Postgres backend may be left behind (STACK.md: a relay that never ended one side leaked a
 * call per session). Counts come from the control plane's /metrics and the target's pg_stat_activity.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, TEST_ROLES } from '../data-agent/src/protocols/postgres/test-support/pg-cluster.js';
import type { TestCluster } from '../data-agent/src/protocols/postgres/test-support/pg-cluster.js';
import { addPostgresConnection, startStack } from './harness/stack.js';
import type { Stack } from './harness/stack.js';

let stack: Stack;
let target: TestCluster;
let port: number;

beforeAll(async () => {
  target = await startTestCluster();
  stack = await startStack();
  await addPostgresConnection(stack, { agent: 'leaky', connection: 'pg', target, role: TEST_ROLES.scram });
  port = (await stack.connect('pg')).port;
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await target?.stop();
});

async function metric(name: string, labels: string): Promise<number | undefined> {
  const text = await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${stack.token}` } }).then((r) => r.text());
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

async function oneSession(abrupt: boolean): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'u', database: 'd' });
  client.on('error', () => undefined);
  await client.connect();
  if (!abrupt) {
    await client.query('select count(*) from generate_series(1, 2000)');
    await client.end();
    return;
  }
  // Vanish in the middle of a large result, as a killed laptop would.
  const running = client.query('select g, repeat(md5(g::text), 20) from generate_series(1, 200000) g').catch(() => undefined);
  await new Promise((r) => setTimeout(r, 20));
  (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
  await running;
}

describe('after many sessions', () => {
  it('leaves no open call, agent session or upstream backend behind', async () => {
    const workers = Array.from({ length: 10 }, async (_, w) => {
      for (let i = 0; i < 30; i++) await oneSession((w + i) % 5 === 0);
    });
    await Promise.all(workers);

    const deadline = Date.now() + 20_000;
    let state: Record<string, number | undefined> = {};
    while (Date.now() < deadline) {
      const [tunnel, session, control, agentSessions] = await Promise.all([
        metric('airlock_grpc_calls_open', 'method="/airlock.v1.ClientService/Tunnel"'),
        metric('airlock_grpc_calls_open', 'method="/airlock.v1.AgentService/Session"'),
        metric('airlock_grpc_calls_open', 'method="/airlock.v1.AgentService/Control"'),
        metric('airlock_agent_sessions_active', 'agent="leaky"'),
      ]);
      const backends = Number((await target.admin(`select count(*) as n from pg_stat_activity where usename = '${TEST_ROLES.scram.user}'`)).rows[0].n);
      state = { tunnel, session, control, agentSessions, backends };
      if (tunnel === 0 && session === 0 && control === 1 && agentSessions === 0 && backends === 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(state).toEqual({ tunnel: 0, session: 0, control: 1, agentSessions: 0, backends: 0 });
    expect(await metric('airlock_sessions_total', 'mode="tunnel",outcome="closed"')).toBeGreaterThanOrEqual(300);
  }, 180_000);
});
