/**
 * Human-in-the-loop on the data path, as users live it: alice's statements through `airlock connect`,
 * bob and carol deciding with `airlock reviews`, against a password-protected Postgres whose password
 * only the agent knows. Policy comes from `airlock apply -f`.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, TEST_ROLES } from '../data-agent/src/protocols/postgres/test-support/pg-cluster.js';
import type { TestCluster } from '../data-agent/src/protocols/postgres/test-support/pg-cluster.js';
import { runCli, spawnCli, freePort } from './support/index.js';
import { addPostgresConnection, startStack } from './harness/stack.js';
import type { AgentProcess, Stack } from './harness/stack.js';

const POLICY = `apiVersion: airlock/v1
kind: Policy
metadata:
  name: prod-postgres
spec:
  subjects: ["group:engineers"]
  connections: ["prod-*"]
  access: allow
  rules:
    - match: { statements: [drop, truncate] }
      action: deny
    - match: { statements: [delete, update], tables: ["public.*"] }
      action: review
    - match: { statements: [select, insert] }
      action: allow
  default: review
  review:
    reviewers: ["group:dba"]
    approvals: 2
    rejectOnAny: true
    timeout: 15m
    approveFor: 1h
`;

const AUTOMATION_POLICY = `apiVersion: airlock/v1
kind: Policy
metadata:
  name: automation
spec:
  subjects: ["group:engineers"]
  connections: ["auto-*"]
  access: allow
  reviewMode: fail-fast
  rules:
    - match: { statements: [select] }
      action: allow
  default: review
  review:
    reviewers: ["group:dba"]
    approvals: 1
    timeout: 15m
`;

const QUICK_POLICY = `apiVersion: airlock/v1
kind: Policy
metadata:
  name: quick-expiry
spec:
  subjects: ["group:engineers"]
  connections: ["quick-*"]
  access: allow
  rules: []
  default: review
  review:
    reviewers: ["group:dba"]
    approvals: 1
    timeout: 2s
`;

let stack: Stack;
let target: TestCluster;
const homes: Record<string, string> = {};
let alicePort: number;
let autoPort: number;
let agent: AgentProcess;

const as = (user: string, args: string[]) => runCli(args, { home: homes[user] });

async function aliceClient(): Promise<{ c: pg.Client; notices: string[] }> {
  const c = new pg.Client({ host: '127.0.0.1', port: alicePort, user: 'alice', database: 'prod' });
  const notices: string[] = [];
  c.on('notice', (n) => notices.push(n.message ?? ''));
  await c.connect();
  return { c, notices };
}

async function until<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function pendingReviewId(): Promise<number> {
  return until('a pending review', async () => {
    const r = await as('bob', ['reviews', 'list', '--pending', '--json']);
    const list = JSON.parse(r.stdout) as { id: number }[];
    return list[0]?.id;
  });
}

beforeAll(async () => {
  target = await startTestCluster();
  await target.admin('CREATE TABLE accounts (id int primary key, owner text)');
  await target.admin("INSERT INTO accounts SELECT g, 'owner ' || g FROM generate_series(1, 10) g");
  await target.admin(`GRANT ALL ON accounts TO ${TEST_ROLES.scram.user}`);
  stack = await startStack();
  agent = await addPostgresConnection(stack, { agent: 'vpc', connection: 'prod-db', target, role: TEST_ROLES.scram });
  await stack.applyPolicy(POLICY);
  await addPostgresConnection(stack, { agent: 'ci-runner', connection: 'auto-db', target, role: TEST_ROLES.scram });
  await stack.applyPolicy(AUTOMATION_POLICY);
  await addPostgresConnection(stack, { agent: 'quick-runner', connection: 'quick-db', target, role: TEST_ROLES.scram });
  await stack.applyPolicy(QUICK_POLICY);
  homes.alice = await stack.userHome('alice', ['engineers']);
  homes.bob = await stack.userHome('bob', ['dba'], 'reviewer');
  homes.carol = await stack.userHome('carol', ['dba'], 'reviewer');
  alicePort = await freePort();
  autoPort = await freePort();
  await spawnCli(['connect', 'auto-db', '--port', String(autoPort)], { home: homes.alice, readyPattern: /Listening on/, name: 'connect-alice-auto' });
  await spawnCli(['connect', 'prod-db', '--port', String(alicePort)], { home: homes.alice, readyPattern: /Listening on/, name: 'connect-alice' });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await target?.stop();
});

describe('policies on the data path', () => {
  it('allows reads, denies a drop with 42501, and hides nothing the client did not ask for', async () => {
    const { c } = await aliceClient();
    expect((await c.query('select count(*)::int as n from accounts')).rows).toEqual([{ n: 10 }]);
    const denied = (await c.query('drop table accounts').catch((e: pg.DatabaseError) => e)) as pg.DatabaseError;
    expect(denied.code).toBe('42501');
    expect(denied.message).toMatch(/^airlock: /);
    const smuggled = (await c.query('select 1; /* */ DROP TABLE "accounts"').catch((e: pg.DatabaseError) => e)) as pg.DatabaseError;
    expect(smuggled.code).toBe('42501');
    expect((await target.admin('select count(*)::int as n from accounts')).rows[0].n).toBe(10);
    await c.end();
  });

  it('binds admins too: the bootstrap admin is not in the policy, so the connection is refused', async () => {
    const r = await stack.cli(['exec', 'prod-db', '-c', 'select 1']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe('airlock: no policy lets bootstrap-admin use connection "prod-db"');
  });
});

describe('a held statement', () => {
  it('waits for two distinct reviewers, refuses self-approval, then runs and returns its result', async () => {
    const { c, notices } = await aliceClient();
    const running = c.query('delete from accounts where id = 1');
    const id = await pendingReviewId();
    await until('the held notice', async () => (notices.length > 0 ? true : undefined));
    expect(notices[0]).toBe(`airlock: statement held for review ${id} (0 of 2 approvals) — airlock reviews approve ${id}`);

    const self = await as('alice', ['reviews', 'approve', String(id)]);
    expect(self.code).toBe(3);
    expect(self.stderr).toContain('you sent the statement');

    const first = await as('bob', ['reviews', 'approve', String(id), '--comment', 'looks right']);
    expect(first.stdout.trim()).toBe(`review ${id}: pending (1 of 2 approvals)`);
    const again = await as('bob', ['reviews', 'approve', String(id)]);
    expect(again.stderr).toContain(`you already decided review ${id}`);
    await until('the second notice', async () => (notices.length > 1 ? true : undefined));
    expect(notices[1]).toContain('(1 of 2 approvals)');

    const second = await as('carol', ['reviews', 'approve', String(id)]);
    expect(second.stdout.trim()).toBe(`review ${id}: approved (2 of 2 approvals)`);
    expect((await running).rowCount).toBe(1);
    expect((await target.admin('select count(*)::int as n from accounts where id = 1')).rows[0].n).toBe(0);
    await c.end();
  });

  it('refuses a rejected statement with the reviewer reason', async () => {
    const { c } = await aliceClient();
    const running = c.query('delete from accounts where id = 2').catch((e: pg.DatabaseError) => e);
    const id = await pendingReviewId();
    const rejected = await as('carol', ['reviews', 'reject', String(id), '--reason', 'not during business hours']);
    expect(rejected.code, rejected.stderr).toBe(0);
    const error = (await running) as pg.DatabaseError;
    expect(error.code).toBe('42501');
    expect(error.message).toBe(`airlock: review ${id} rejected by user:carol: not during business hours`);
    expect((await target.admin('select count(*)::int as n from accounts where id = 2')).rows[0].n).toBe(1);
    const show = await as('bob', ['reviews', 'show', String(id), '--json']);
    expect(JSON.parse(show.stdout)).toMatchObject({ state: 'rejected', requester: 'user:alice', connection: 'prod-db', statement: 'delete from accounts where id = 2' });
    await c.end();
  });

  it('airlock exec waits with a live status line, and runs once approved', async () => {
    const exec = await spawnCli(['exec', 'prod-db', '-c', 'delete from accounts where id = 4', '--json'], {
      home: homes.alice,
      readyPattern: /held for review \d+/,
      name: 'exec-alice',
    });
    const id = Number(/held for review (\d+)/.exec(exec.stderr)![1]);
    expect(exec.stderr).toContain(`airlock: statement held for review ${id} (0 of 2 approvals) — airlock reviews approve ${id}`);
    await as('bob', ['reviews', 'approve', String(id)]);
    await as('carol', ['reviews', 'approve', String(id)]);
    const exit = await exec.exited;
    expect(exit.code).toBe(0);
    expect(JSON.parse(exec.stdout).results[0]).toMatchObject({ commandTag: 'DELETE 1', rowsAffected: 1 });
  });

  it('Ctrl-C on a waiting airlock exec withdraws the statement and cancels its review', async () => {
    const exec = await spawnCli(['exec', 'prod-db', '-c', 'delete from accounts where id = 5'], {
      home: homes.alice,
      readyPattern: /held for review \d+/,
      name: 'exec-alice-cancel',
    });
    const id = Number(/held for review (\d+)/.exec(exec.stderr)![1]);
    const exit = await exec.stop('SIGINT');
    expect(exit.code).toBe(1);
    expect(exec.stderr).toContain('airlock: cancelled: the statement was withdrawn and its review cancelled');
    const review = await until('the review to be cancelled', async () => {
      const r = JSON.parse((await as('bob', ['reviews', 'show', String(id), '--json'])).stdout) as { state: string };
      return r.state === 'cancelled' ? r : undefined;
    });
    expect(review.state).toBe('cancelled');
    expect((await target.admin('select count(*)::int as n from accounts where id = 5')).rows[0].n).toBe(1);
  });

  it('survives a control-plane restart while held: the tunnel resumes, the same review continues, approving releases it', async () => {
    const { c } = await aliceClient();
    const running = c.query('update accounts set owner = $1 where id = 3', ['restarted']);
    const id = await pendingReviewId();
    await stack.restartControlPlane();
    // The agent reconnects and asks again with the same request id; the CLI resumes the tunnel.
    await until('the review to be pending after the restart', async () => {
      const r = await as('bob', ['reviews', 'show', String(id), '--json']);
      return r.code === 0 && JSON.parse(r.stdout).state === 'pending' ? true : undefined;
    }, 30_000);
    const first = await until('bob to approve', async () => {
      const r = await as('bob', ['reviews', 'approve', String(id)]);
      return r.code === 0 ? r : undefined;
    });
    expect(first.stdout.trim()).toBe(`review ${id}: pending (1 of 2 approvals)`);
    await as('carol', ['reviews', 'approve', String(id)]);
    expect((await running).rowCount).toBe(1);
    expect((await target.admin('select owner from accounts where id = 3')).rows[0].owner).toBe('restarted');
    // The same connection carries on as if nothing happened.
    expect((await c.query('select count(*)::int as n from accounts')).rows[0].n).toBe(8);
    await c.end();
  }, 120_000);

  it('on an agent restart while held: the client gets a clear error and the review is cancelled', async () => {
    const { c } = await aliceClient();
    c.on('error', () => undefined);
    const running = c.query('delete from accounts where id = 6').catch((e: Error) => e);
    const id = await pendingReviewId();
    await agent.restart();
    expect(((await running) as pg.DatabaseError).message).toBe('airlock: the session was ended: the agent is stopping');
    const review = await until('the review to be cancelled', async () => {
      const r = JSON.parse((await as('bob', ['reviews', 'show', String(id), '--json'])).stdout) as { state: string; stateReason: string };
      return r.state === 'cancelled' ? r : undefined;
    }, 30_000);
    expect(review.stateReason).toMatch(/session ended/);
    expect((await target.admin('select count(*)::int as n from accounts where id = 6')).rows[0].n).toBe(1);
  }, 60_000);

  it('fail-fast mode: automation gets the review id at once, and the identical statement runs exactly once after approval', async () => {
    const sql = "insert into accounts values (100, 'from ci')";
    const first = await as('alice', ['exec', 'auto-db', '-c', sql]);
    expect(first.code).toBe(1);
    const id = Number(/needs review (\d+)/.exec(first.stderr)![1]);
    expect(first.stderr).toContain(`airlock: statement needs review ${id}; send it again once approved and it runs once`);
    const early = await as('alice', ['exec', 'auto-db', '-c', sql]);
    expect(early.stderr).toContain(`needs review ${id};`);
    expect((await as('bob', ['reviews', 'approve', String(id)])).code).toBe(0);
    const second = await as('alice', ['exec', 'auto-db', '-c', sql, '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout).results[0].commandTag).toBe('INSERT 0 1');
    const third = await as('alice', ['exec', 'auto-db', '-c', sql]);
    expect(third.code).toBe(1);
    expect(Number(/needs review (\d+)/.exec(third.stderr)![1])).not.toBe(id);
    expect((await target.admin('select count(*)::int as n from accounts where id = 100')).rows[0].n).toBe(1);
  });

  it('lets nothing smuggle a write past a select-only rule (real psql and node-postgres)', async () => {
    const attempts = [
      'with gone as (delete from accounts returning *) select count(*) from gone',
      'explain analyze delete from accounts',
      'select 1; delete from accounts',
      '/* harmless */ DeLeTe /* really */ FROM "accounts"',
      "prepare wipe as delete from accounts; execute wipe",
      "copy accounts to program 'id'",
      'do $$ begin delete from accounts; end $$',
      "select dblink_exec('dbname=x', 'delete from accounts')",
    ];
    for (const sql of attempts) {
      const r = await as('alice', ['exec', 'auto-db', '-c', sql]);
      expect(r.code, sql).toBe(1);
      expect(r.stderr, sql).toMatch(/airlock: /);
    }
    const c = new pg.Client({ host: '127.0.0.1', port: autoPort, user: 'alice', database: 'x' });
    await c.connect();
    const extended = (await c.query('delete from accounts where id = $1', [7]).catch((e: pg.DatabaseError) => e)) as pg.DatabaseError;
    expect(extended.code).toBe('42501');
    expect((await c.query('select count(*)::int as n from accounts')).rows[0].n).toBeGreaterThan(0);
    await c.end();
    expect((await target.admin('select count(*)::int as n from accounts where id = 7')).rows[0].n).toBe(1);
  });

  it('expires a review nobody decided, and the client is told so', async () => {
    const r = await as('alice', ['exec', 'quick-db', '-c', 'select 1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/airlock: review \d+ expired: nobody decided in time/);
  });

  it('approve --for lets the identical statement by the same person pass until the window ends', async () => {
    const sql = "update accounts set owner = 'window' where id = 9";
    const first = await spawnCli(['exec', 'prod-db', '-c', sql], { home: homes.alice, readyPattern: /held for review \d+/, name: 'exec-window' });
    const id = /held for review (\d+)/.exec(first.stderr)![1]!;
    await as('bob', ['reviews', 'approve', id, '--for', '30m']);
    await as('carol', ['reviews', 'approve', id, '--for', '30m']);
    expect((await first.exited).code).toBe(0);
    // Same text, same person, same connection: no new review.
    const again = await as('alice', ['exec', 'prod-db', '-c', sql, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).results[0].commandTag).toBe('UPDATE 1');
  });

  it('records every verdict in the session', async () => {
    const sessions = await stack.cliJson<{ id: string; subject: string }[]>(['sessions', 'list', '--connection', 'prod-db']);
    const verdicts = new Set<string>();
    for (const s of sessions.filter((x) => x.subject === 'user:alice')) {
      const detail = (await fetch(`${stack.url}/v1/sessions/${s.id}`, { headers: { authorization: `Bearer ${stack.token}` } }).then((r) => r.json())) as {
        statements: { verdict: string | null }[];
      };
      for (const st of detail.statements) if (st.verdict) verdicts.add(st.verdict);
    }
    expect([...verdicts].sort()).toEqual(['allowed', 'approved', 'denied', 'rejected']);
  });
});
