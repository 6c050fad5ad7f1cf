/**
 * Holding, denying and releasing statements on a live Postgres session. The gate here is scripted
 * (a stand-in for policy, which has its own tests): text containing "drop" is denied, "delete" needs
 * review, and the test decides each review. Postgres, psql and node-postgres are real.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GateVerdict, HoldOutcome, HoldRequest, StatementGate } from '../engine.js';
import { PostgresEngine } from './engine.js';
import { startTestCluster, TEST_ROLES, type TestCluster } from './test-support/pg-cluster.js';
import { makeContext, makeTarget, startAgentListener, waitFor, type AgentListener, type TestContext } from './test-support/session-harness.js';

class ScriptedGate implements StatementGate {
  readonly held: { request: HoldRequest; decide: (outcome: HoldOutcome) => void; withdrawn: boolean }[] = [];
  private readonly prepared = new Map<string, GateVerdict>();
  private nextReview = 1;

  private verdictFor(sql: string): GateVerdict {
    if (/drop/i.test(sql)) return { action: 'deny', reason: 'drop is not allowed on this connection' };
    if (/delete/i.test(sql)) return { action: 'review', hold: { statement: sql, kinds: ['delete'], tables: [], policyName: 'p', policyVersion: 1, reason: 'deletes need review', fingerprint: sql } };
    return { action: 'allow' };
  }

  async judgeQuery(sql: string): Promise<GateVerdict> {
    return this.verdictFor(sql);
  }

  async judgeParse(name: string, sql: string): Promise<GateVerdict> {
    const verdict = this.verdictFor(sql);
    this.prepared.set(name, verdict);
    return verdict;
  }

  private readonly portals = new Map<string, string>();

  bind(portal: string, name: string): void {
    this.portals.set(portal, name);
  }

  judgeExecute(portal: string): GateVerdict {
    return this.prepared.get(this.portals.get(portal) ?? '') ?? { action: 'allow' };
  }

  onParameterStatus(): void {}

  hold(request: HoldRequest, notify: (message: string) => void, signal: AbortSignal): Promise<HoldOutcome> {
    const reviewId = this.nextReview++;
    notify(`airlock: statement held for review ${reviewId} (0 of 1 approvals) — airlock reviews approve ${reviewId}`);
    return new Promise((resolve) => {
      const entry = { request, decide: resolve, withdrawn: false };
      this.held.push(entry);
      signal.addEventListener('abort', () => {
        entry.withdrawn = true;
        resolve({ released: false, reviewId, message: 'withdrawn' });
      }, { once: true });
    });
  }
}

let cluster: TestCluster;
let agent: AgentListener;
let gate: ScriptedGate;
let contexts: TestContext[];

beforeAll(async () => {
  cluster = await startTestCluster();
  await cluster.admin('CREATE TABLE held (id int primary key)');
  await cluster.admin(`GRANT ALL ON held TO ${TEST_ROLES.scram.user}`);
  const target = makeTarget({ host: cluster.host, port: cluster.port, database: cluster.database, user: TEST_ROLES.scram.user });
  gate = new ScriptedGate();
  contexts = [];
  agent = await startAgentListener(new PostgresEngine({ closeGraceMs: 1_000 }), () => {
    const ctx = makeContext(target, TEST_ROLES.scram.password);
    ctx.gate = gate;
    contexts.push(ctx);
    return ctx;
  });
});

afterAll(async () => {
  await agent?.close();
  await cluster?.stop();
});

async function client(): Promise<{ c: pg.Client; notices: string[] }> {
  const c = new pg.Client({ host: '127.0.0.1', port: agent.port, user: 'x', database: 'y' });
  const notices: string[] = [];
  c.on('notice', (n) => notices.push(n.message ?? ''));
  await c.connect();
  return { c, notices };
}

describe('a gated Postgres session', () => {
  it('runs allowed statements untouched and refuses denied ones with 42501, the session going on', async () => {
    const { c } = await client();
    await c.query('insert into held values (1), (2), (3)');
    const denied = (await c.query('drop table held').catch((e: pg.DatabaseError) => e)) as pg.DatabaseError;
    expect(denied.code).toBe('42501');
    expect(denied.message).toBe('airlock: drop is not allowed on this connection');
    const extended = (await c.query('drop table held /* $1 */', []).catch((e: pg.DatabaseError) => e)) as pg.DatabaseError;
    expect(extended.code).toBe('42501');
    expect((await c.query('select count(*)::int as n from held')).rows).toEqual([{ n: 3 }]);
    await c.end();
    const records = contexts.at(-1)!.records;
    expect(records.filter((r) => r.verdict === 'denied').map((r) => r.errorSqlstate)).toEqual(['42501', '42501']);
  });

  it('holds a statement that needs review, tells the client, and runs it once approved', async () => {
    const { c, notices } = await client();
    const other = await client();
    const running = c.query('delete from held where id = 1');
    await waitFor(() => gate.held.length === 1, 5_000, 'the hold');
    await waitFor(() => notices.length === 1, 5_000, 'the notice');
    expect(notices[0]).toBe('airlock: statement held for review 1 (0 of 1 approvals) — airlock reviews approve 1');
    // Other sessions are not affected while one statement is held.
    expect((await other.c.query('select count(*)::int as n from held')).rows).toEqual([{ n: 3 }]);
    gate.held[0]!.decide({ released: true, reviewId: 1 });
    expect((await running).rowCount).toBe(1);
    expect((await c.query('select count(*)::int as n from held')).rows).toEqual([{ n: 2 }]);
    await c.end();
    await other.c.end();
  });

  it('refuses a rejected statement with the reviewer reason, and the row is still there', async () => {
    const { c } = await client();
    const running = c.query('delete from held where id = $1', [2]).catch((e: pg.DatabaseError) => e);
    await waitFor(() => gate.held.length === 2, 5_000, 'the hold');
    gate.held[1]!.decide({ released: false, reviewId: 2, message: 'airlock: review 2 rejected by user:bob: not during business hours' });
    const error = (await running) as pg.DatabaseError;
    expect(error.code).toBe('42501');
    expect(error.message).toBe('airlock: review 2 rejected by user:bob: not during business hours');
    expect((await c.query('select array_agg(id order by id) as ids from held')).rows).toEqual([{ ids: [2, 3] }]);
    await c.end();
  });

  it('withdraws the hold when the client goes away', async () => {
    const { c } = await client();
    c.on('error', () => undefined);
    void c.query('delete from held').catch(() => undefined);
    await waitFor(() => gate.held.length === 3, 5_000, 'the hold');
    (c as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    await waitFor(() => gate.held[2]!.withdrawn, 5_000, 'the hold to be withdrawn');
    expect((await cluster.admin('select count(*)::int as n from held')).rows[0].n).toBe(2);
  });
});
