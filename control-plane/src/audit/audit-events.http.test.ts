import { createHash, generateKeyPairSync } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentsService } from '../agents/agents.service.js';
import { canonicalJson } from '../common/canonical-json.js';
import { ConnectionsService } from '../connections/connections.service.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { apiClient, ManualClock, startTestControlPlane, TEST_ADMIN_TOKEN, type TestControlPlane } from '../testing/test-control-plane.js';
import { AuditService } from './audit.service.js';
import { digestStatements } from './session-digest.js';

/**
 * What the audit log records for agents, connections, sessions and logins, and how it is read back:
 * filters, cursor paging and the JSON-lines export, over real HTTP on a fresh Postgres database.
 */

type Api = ReturnType<typeof apiClient>;
type Event = { id: number; at: string; actor: string; kind: string; target: string; details: Record<string, unknown>; prevHash: string; hash: string };

const MINUTE = 60_000;
const WRONG_TOKEN = 'alk_user_WrongWrongWrongWrongWrongWrong12';

describe('audit events over HTTP', () => {
  let db: TestDatabase;
  let cp: TestControlPlane;
  let admin: Api;
  let sql: pg.Client;
  const clock = new ManualClock();

  beforeAll(async () => {
    db = await createTestDatabase();
    cp = await startTestControlPlane({ databaseUrl: db.url, bootstrapToken: TEST_ADMIN_TOKEN }, clock);
    admin = apiClient(cp.url, TEST_ADMIN_TOKEN);
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await cp?.close();
    await db?.drop();
  });

  async function events(query: string): Promise<Event[]> {
    const res = await admin('GET', `/v1/audit?${query}`);
    expect(res.status).toBe(200);
    return res.body.events as Event[];
  }

  const summary = (list: Event[]) => list.map((e) => [e.actor, e.kind, e.target]);

  it('records the bootstrap admin token, by its prefix only', async () => {
    expect(await events('kind=token.created')).toEqual([
      expect.objectContaining({ actor: 'airlock', target: 'token/bootstrap-admin', details: { role: 'admin', tokenPrefix: 'alk_admin_TestOnly' } }),
    ]);
  });

  it('records agents created, enrolled and deleted, with who did it', async () => {
    const created = await admin('POST', '/v1/agents', { name: 'east' });
    expect(created.status).toBe(201);
    const publicKey = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await cp.app.get(AgentsService).enroll(created.body.joinToken, publicKey, { hostname: 'gw-1', version: '1.2.3' });
    expect((await admin('DELETE', '/v1/agents/east')).status).toBe(204);

    const list = await events('target=agent/east');
    expect(summary(list)).toEqual([
      ['bootstrap-admin', 'agent.deleted', 'agent/east'],
      ['agent:east', 'agent.enrolled', 'agent/east'],
      ['bootstrap-admin', 'agent.created', 'agent/east'],
    ]);
    expect(list[1].details).toEqual({ agentId: created.body.agent.id, keyFingerprint: expect.stringMatching(/^SHA256:[A-Za-z0-9+/]{43}$/), hostname: 'gw-1', version: '1.2.3' });
    expect(JSON.stringify(list)).not.toContain(created.body.joinToken);
  });

  it('records connections created and deleted', async () => {
    expect((await admin('POST', '/v1/agents', { name: 'west' })).status).toBe(201);
    const body = { name: 'pg-audit', type: 'postgres', agent: 'west', host: 'db', port: 5432, database: 'shop', secret: 'env:PG_PASSWORD' };
    expect((await admin('POST', '/v1/connections', body)).status).toBe(201);
    expect((await admin('DELETE', '/v1/connections/pg-audit')).status).toBe(204);

    const list = await events('kind=connection');
    expect(summary(list)).toEqual([
      ['bootstrap-admin', 'connection.deleted', 'connection/pg-audit'],
      ['bootstrap-admin', 'connection.created', 'connection/pg-audit'],
    ]);
    expect(list[1].details).toMatchObject({ type: 'postgres', agent: 'west', host: 'db', port: 5432, database: 'shop', secret: 'env:PG_PASSWORD' });
  });

  it('records sessions opened and ended, the end carrying a digest of their statements', async () => {
    await admin('POST', '/v1/connections', { name: 'pg-sessions', type: 'postgres', agent: 'west', host: 'db', port: 5432 });
    const sessions = cp.app.get(SessionsService);
    const connection = await cp.app.get(ConnectionsService).findByName('pg-sessions');
    const agentId = connection.agentId;
    const session = await sessions.open({ connection, agentId, subject: 'user:alice', mode: 'tunnel', clientAddress: '10.0.0.9:5000' });
    await sessions.markOpen(session.id);
    const statement = (sequence: number, text: string, verdict: string | null) => ({
      sequence, text, verdict, startedAt: clock.now(), durationUs: 1200, rows: 1, commandTag: 'SELECT 1', protocol: 'simple',
    });
    await sessions.recordStatements(session.id, [statement(1, 'select 1', 'allowed'), statement(2, 'select 2', 'allowed'), statement(3, 'drop table t', 'denied')]);
    await sessions.end(session.id, { endedAt: clock.now(), bytesFromClient: 10, bytesToClient: 20 });

    const list = await events(`target=session/${session.id}`);
    expect(summary(list)).toEqual([
      ['user:alice', 'session.ended', `session/${session.id}`],
      ['user:alice', 'session.opened', `session/${session.id}`],
    ]);
    expect(list[1].details).toEqual({ connection: 'pg-sessions', agentId, mode: 'tunnel', clientAddress: '10.0.0.9:5000', grantId: null });
    const digest = list[0].details.statements as { count: number; verdicts: Record<string, number>; sha256: string };
    expect(digest).toEqual({ count: 3, verdicts: { allowed: 2, denied: 1 }, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(list[0].details).toMatchObject({ connection: 'pg-sessions', status: 'closed', bytesFromClient: 10, bytesToClient: 20, error: null });

    // The statement rows are covered: recomputed from the table they match, and a changed row does not.
    const recompute = async () => (await digestStatements((async function* () { yield (await sessions.getWithStatements(session.id)).statements; })())).sha256;
    expect(await recompute()).toBe(digest.sha256);
    await sql.query(`UPDATE session_events SET statement = 'select 3' WHERE session_id = $1 AND sequence = 3`, [session.id]);
    expect(await recompute()).not.toBe(digest.sha256);

    const failed = await sessions.open({ connection, agentId, subject: 'user:bob', mode: 'exec' });
    await sessions.fail(failed.id, 'agent_disconnected', 'the agent went away');
    const [end] = await events(`target=session/${failed.id}&kind=session.failed`);
    expect(end).toMatchObject({
      actor: 'user:bob',
      details: { status: 'failed', error: { code: 'agent_disconnected', message: 'the agent went away' }, statements: { count: 0, verdicts: {}, sha256: createHash('sha256').digest('hex') } },
    });
    // By connection: the connection's own events and its sessions'.
    expect(summary(await events('connection=pg-sessions')).map(([, kind]) => kind)).toEqual([
      'session.failed', 'session.opened', 'session.ended', 'session.opened', 'connection.created',
    ]);
  });

  it('records every refused login with its reason, by token prefix only', async () => {
    for (let i = 0; i < 3; i += 1) expect((await apiClient(cp.url, WRONG_TOKEN)('GET', '/v1/whoami')).status).toBe(401);
    clock.advance(MINUTE);
    expect((await apiClient(cp.url, 'hunter2')('GET', '/v1/whoami')).status).toBe(401);

    const refused = await events('kind=auth.refused');
    expect(refused.map((e) => [e.target, e.details.tokenPrefix, e.details.reason, e.details.credential])).toEqual([
      ['token/unrecognized', null, 'unknown_token', 'api-token'],
      ['token/alk_user_WrongWro', 'alk_user_WrongWro', 'unknown_token', 'api-token'],
      ['token/alk_user_WrongWro', 'alk_user_WrongWro', 'unknown_token', 'api-token'],
      ['token/alk_user_WrongWro', 'alk_user_WrongWro', 'unknown_token', 'api-token'],
    ]);
    expect(refused[0].details.message).toBe('the bearer token is not valid or has been revoked; log in again with `airlock login`');
    expect(refused[0].actor).toMatch(/^anonymous:.*127\.0\.0\.1$/);
    expect(refused[0].details.source).toBe(refused[0].actor.replace(/^anonymous:/, ''));
    const exported = await fetch(`${cp.url}/v1/audit/export`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    expect(exported.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const text = await exported.text();
    expect(text).not.toContain(WRONG_TOKEN);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain(TEST_ADMIN_TOKEN);
  });

  it('filters by actor, kind prefix, target and time, and pages with a cursor', async () => {
    const audit = cp.app.get(AuditService);
    clock.advance(60 * MINUTE);
    const start = clock.now();
    for (const [actor, kind] of [['user:x', 'widget.made'], ['user:y', 'widget.broken'], ['user:x', 'widgets.sold'], ['user:x', 'widget.made']]) {
      clock.advance(MINUTE);
      await audit.record({ actor, kind, target: 'widget/1' });
    }
    const at = (minutes: number) => new Date(start.getTime() + minutes * MINUTE).toISOString();

    expect(summary(await events('actor=user:x')).map(([, kind]) => kind)).toEqual(['widget.made', 'widgets.sold', 'widget.made']);
    expect(summary(await events('kind=widget.')).map(([a, k]) => `${a} ${k}`)).toEqual(['user:x widget.made', 'user:y widget.broken', 'user:x widget.made']);
    expect(await events('kind=widget')).toHaveLength(3);
    expect(await events('kind=widget.made&actor=user:x')).toHaveLength(2);
    expect(await events(`target=widget/1&since=${at(2)}&until=${at(4)}`)).toEqual([
      expect.objectContaining({ kind: 'widgets.sold', at: at(3) }),
      expect.objectContaining({ kind: 'widget.broken', at: at(2) }),
    ]);

    const first = await admin('GET', '/v1/audit?target=widget/1&limit=3');
    expect(first.body.events).toHaveLength(3);
    const second = await admin('GET', `/v1/audit?target=widget/1&limit=3&cursor=${first.body.nextCursor}`);
    expect(second.body).toEqual({ events: [expect.objectContaining({ actor: 'user:x', kind: 'widget.made', at: at(1) })], nextCursor: null });

    expect(await admin('GET', '/v1/audit?since=yesterday')).toMatchObject({ status: 400, body: { message: 'since must be an ISO-8601 time such as 2026-11-25T10:00:00Z' } });
    expect(await admin('GET', '/v1/audit?cursor=abc')).toMatchObject({ status: 400, body: { message: "cursor must be a previous page's nextCursor" } });
  });

  it('exports JSON lines oldest first, each re-verifiable from its own fields', async () => {
    const since = new Date(clock.now().getTime() - MINUTE).toISOString();
    const res = await fetch(`${cp.url}/v1/audit/export?since=${since}&format=jsonl`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    const lines = (await res.text()).trimEnd().split('\n').map((line) => JSON.parse(line) as Event);
    expect(lines.map((e) => e.kind)).toEqual(['widgets.sold', 'widget.made']);
    for (const e of lines) {
      const content = canonicalJson({ id: e.id, at: e.at, actor: e.actor, kind: e.kind, target: e.target, details: e.details });
      expect(createHash('sha256').update(e.prevHash + content).digest('hex')).toBe(e.hash);
    }
    expect(lines[1].prevHash).toBe(lines[0].hash);

    const all = (await (await fetch(`${cp.url}/v1/audit/export`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).text()).trimEnd().split('\n');
    expect(all.length).toBe((await admin('GET', '/v1/audit/verify')).body.events);
    expect(await admin('GET', '/v1/audit/export?format=csv')).toMatchObject({ status: 400, body: { message: 'format must be jsonl' } });
  });

  it('is for admins and auditors only', async () => {
    const created = await admin('POST', '/v1/users', { name: 'erin' });
    const erin = apiClient(cp.url, created.body.token);
    for (const path of ['/v1/audit', '/v1/audit/verify', '/v1/audit/export']) {
      expect(await erin('GET', path)).toMatchObject({ status: 403, body: { message: 'only admins and auditors may read the audit log; you are signed in as user:erin' } });
    }
  });
});
