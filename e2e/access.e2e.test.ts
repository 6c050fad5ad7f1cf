/**
 * Just-in-time access through the whole path: alice asks with `airlock request`, bob approves, her
 * psql session works, and when the grant expires (or is revoked) her open session is ended at once.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, TEST_ROLES } from '../data-agent/src/protocols/postgres/test-support/pg-cluster.js';
import type { TestCluster } from '../data-agent/src/protocols/postgres/test-support/pg-cluster.js';
import { freePort, runCli, spawnCli } from './support/index.js';
import { addPostgresConnection, startStack } from './harness/stack.js';
import type { Stack } from './harness/stack.js';

const POLICY = `apiVersion: airlock/v1
kind: Policy
metadata:
  name: break-glass
spec:
  subjects: ["group:engineers"]
  connections: ["jit-*"]
  access: review
  accessDuration: 1h
  rules: []
  default: allow
  review:
    reviewers: ["group:dba"]
    approvals: 1
    timeout: 15m
`;

let stack: Stack;
let target: TestCluster;
const homes: Record<string, string> = {};
let port: number;

async function grantAccess(forDuration: string): Promise<void> {
  const request = await spawnCli(['request', 'jit-db', '--for', forDuration, '--reason', 'incident 4711'], {
    home: homes.alice,
    readyPattern: /waiting for approval of access review \d+/,
    name: 'request-alice',
  });
  const id = /access review (\d+)/.exec(request.stderr)![1]!;
  const approved = await runCli(['reviews', 'approve', id], { home: homes.bob });
  expect(approved.code, approved.stderr).toBe(0);
  expect((await request.exited).code).toBe(0);
  expect(request.stdout).toMatch(/^access to jit-db granted until .+/m);
}

function client(): pg.Client {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'alice', database: 'x' });
  c.on('error', () => undefined);
  return c;
}

beforeAll(async () => {
  target = await startTestCluster();
  stack = await startStack();
  await addPostgresConnection(stack, { agent: 'dc1', connection: 'jit-db', target, role: TEST_ROLES.scram });
  await stack.applyPolicy(POLICY);
  homes.alice = await stack.userHome('alice', ['engineers']);
  homes.bob = await stack.userHome('bob', ['dba'], 'reviewer');
  port = await freePort();
  await spawnCli(['connect', 'jit-db', '--port', String(port)], { home: homes.alice, readyPattern: /Listening on/, name: 'connect-jit' });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await target?.stop();
});

describe('just-in-time access', () => {
  it('refuses a session without a grant and says how to ask', async () => {
    const r = await runCli(['exec', 'jit-db', '-c', 'select 1'], { home: homes.alice });
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe('airlock: connection "jit-db" needs approved access: airlock request jit-db --for 30m --reason "..."');
  });

  it('lets the approved requester in, and ends her open session when the grant expires', async () => {
    await grantAccess('4s');
    const c = client();
    await c.connect();
    expect((await c.query('select current_user as who')).rows).toEqual([{ who: TEST_ROLES.scram.user }]);
    const ended = await c.query('select pg_sleep(30)').catch((e: pg.DatabaseError) => e);
    expect((ended as pg.DatabaseError).code).toBe('57P01');
    expect((ended as pg.DatabaseError).message).toMatch(/^airlock: the session was ended: /);
    const again = await runCli(['exec', 'jit-db', '-c', 'select 1'], { home: homes.alice });
    expect(again.stderr).toContain('needs approved access');
  }, 60_000);

  it('ends the session within a second of a revoke', async () => {
    await grantAccess('1h');
    const c = client();
    await c.connect();
    const running = c.query('select pg_sleep(30)').catch((e: pg.DatabaseError) => e);
    const grants = JSON.parse((await runCli(['grants', 'list', '--json'], { home: homes.alice })).stdout) as { id: string; state?: string }[];
    const active = grants.find((g) => g.state === undefined || g.state === 'active')!;
    const started = Date.now();
    const revoked = await runCli(['grants', 'revoke', String(active.id)], { home: homes.bob });
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(((await running) as pg.DatabaseError).code).toBe('57P01');
    expect(Date.now() - started).toBeLessThan(3000);
  }, 60_000);
});
