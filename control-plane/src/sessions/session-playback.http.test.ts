import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentRegistry } from '../agents/agent-registry.js';
import { AuditService } from '../audit/audit.service.js';
import { ConnectionsService } from '../connections/connections.service.js';
import { RecordingAgentLink } from '../testing/recording-agent-link.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { apiClient, startTestControlPlane, TEST_ADMIN_TOKEN, type TestControlPlane } from '../testing/test-control-plane.js';
import { type RecordedStatement, SessionsService } from './sessions.service.js';

/**
 * What `airlock sessions tail` and `airlock sessions kill` call: a real control plane over HTTP on a
 * real Postgres. No agent runs: a RecordingAgentLink registered in the AgentRegistry stands in for
 * the connected agent's control stream and records the kill orders pushed down it.
 */
describe('following and killing sessions over HTTP', () => {
  let db: TestDatabase;
  let cp: TestControlPlane;
  let admin: ReturnType<typeof apiClient>;
  let carol: ReturnType<typeof apiClient>;
  let agentId: string;
  let link: RecordingAgentLink;

  beforeAll(async () => {
    db = await createTestDatabase();
    cp = await startTestControlPlane({ databaseUrl: db.url, bootstrapToken: TEST_ADMIN_TOKEN });
    admin = apiClient(cp.url, TEST_ADMIN_TOKEN);
    agentId = (await admin('POST', '/v1/agents', { name: 'agent-1' })).body.agent.id;
    await admin('POST', '/v1/agents', { name: 'agent-2' });
    await admin('POST', '/v1/connections', { name: 'pg-prod', type: 'postgres', agent: 'agent-1', host: 'db', port: 5432 });
    carol = apiClient(cp.url, (await admin('POST', '/v1/users', { name: 'carol' })).body.token);
    link = new RecordingAgentLink(agentId, 'agent-1', new Date());
    cp.app.get(AgentRegistry).register(link);
  });
  afterAll(async () => {
    await cp?.close();
    await db?.drop();
  });

  async function openSession(options: { subject?: string; agent?: string } = {}) {
    const connection = await cp.app.get(ConnectionsService).findByName('pg-prod');
    const sessions = cp.app.get(SessionsService);
    const session = await sessions.open({ connection, agentId: options.agent ?? agentId, subject: options.subject ?? 'user:dave', mode: 'tunnel' });
    await sessions.markOpen(session.id);
    return session;
  }

  function statement(sequence: number, text: string): RecordedStatement {
    return { sequence, text, startedAt: new Date(Date.UTC(2026, 10, 25, 10, 0, sequence)), durationUs: 1000, rows: 1, commandTag: 'SELECT 1', protocol: 'postgres', verdict: 'allowed' };
  }

  describe('GET /v1/sessions/:id/statements', () => {
    it('returns only the statements after the given sequence, with the session status', async () => {
      const sessions = cp.app.get(SessionsService);
      const session = await openSession();
      await sessions.recordStatements(session.id, [statement(1, 'select 1'), statement(2, 'select 2'), statement(3, 'select 3')]);

      const all = await admin('GET', `/v1/sessions/${session.id}/statements`);
      expect(all.status).toBe(200);
      expect(all.body).toMatchObject({ session: { id: session.id, connection: 'pg-prod', subject: 'user:dave', status: 'open', endedAt: null, error: null }, more: false });
      expect(all.body.statements.map((s: { text: string }) => s.text)).toEqual(['select 1', 'select 2', 'select 3']);
      expect(all.body.statements[0]).toEqual({
        sequence: 1, protocol: 'postgres', text: 'select 1', startedAt: '2026-11-25T10:00:01.000Z', durationMs: 1, rows: 1,
        commandTag: 'SELECT 1', error: null, verdict: 'allowed', reviewId: null,
      });

      const after2 = await admin('GET', `/v1/sessions/${session.id}/statements?after=2`);
      expect(after2.body.statements.map((s: { sequence: number }) => s.sequence)).toEqual([3]);

      await sessions.recordStatements(session.id, [statement(4, 'select 4')]);
      await sessions.end(session.id, { endedAt: new Date(), bytesFromClient: 1, bytesToClient: 2 });
      const last = await admin('GET', `/v1/sessions/${session.id}/statements?after=3`);
      expect(last.body).toMatchObject({ session: { status: 'closed', error: null }, more: false, statements: [{ sequence: 4, text: 'select 4' }] });
      expect(last.body.session.endedAt).not.toBeNull();
    });

    it('pages with limit and says when more follow', async () => {
      const session = await openSession();
      await cp.app.get(SessionsService).recordStatements(session.id, [1, 2, 3, 4, 5].map((n) => statement(n, `select ${n}`)));
      const first = await admin('GET', `/v1/sessions/${session.id}/statements?after=0&limit=2`);
      expect(first.body.more).toBe(true);
      expect(first.body.statements.map((s: { sequence: number }) => s.sequence)).toEqual([1, 2]);
      const rest = await admin('GET', `/v1/sessions/${session.id}/statements?after=4&limit=2`);
      expect(rest.body.more).toBe(false);
      expect(rest.body.statements.map((s: { sequence: number }) => s.sequence)).toEqual([5]);
    });

    it('refuses a bad `after`, and hides other people\'s sessions from non-admins', async () => {
      const session = await openSession();
      expect(await admin('GET', `/v1/sessions/${session.id}/statements?after=-1`)).toMatchObject({
        status: 400,
        body: { error: 'invalid_request', message: 'after must be a sequence number (a whole number of 0 or more)' },
      });
      expect(await carol('GET', `/v1/sessions/${session.id}/statements`)).toMatchObject({
        status: 404,
        body: { error: 'not_found', message: `session "${session.id}" does not exist` },
      });
      const own = await openSession({ subject: 'user:carol' });
      expect((await carol('GET', `/v1/sessions/${own.id}/statements`)).status).toBe(200);
      expect((await admin('GET', '/v1/sessions/not-a-session/statements')).status).toBe(404);
    });
  });

  describe('POST /v1/sessions/:id/kill', () => {
    it('pushes a kill order with the admin\'s reason to the session\'s agent and records it in the audit log', async () => {
      const session = await openSession();
      const res = await admin('POST', `/v1/sessions/${session.id}/kill`, { reason: 'incident 4711' });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ session: { id: session.id, status: 'open' }, reason: 'killed by bootstrap-admin: incident 4711' });
      expect(link.kills.at(-1)).toEqual({ sessionId: session.id, reason: 'killed by bootstrap-admin: incident 4711' });

      const audit = (await cp.app.get(AuditService).list({ kind: 'session.killed' })).events;
      expect(audit[0]).toMatchObject({
        actor: 'bootstrap-admin',
        kind: 'session.killed',
        target: `session/${session.id}`,
        details: { reason: 'killed by bootstrap-admin: incident 4711', connection: 'pg-prod', subject: 'user:dave', agentId },
      });
    });

    it('names the admin when no reason is given', async () => {
      const session = await openSession();
      const res = await admin('POST', `/v1/sessions/${session.id}/kill`);
      expect(res).toMatchObject({ status: 202, body: { reason: 'killed by bootstrap-admin' } });
      expect(link.kills.at(-1)).toEqual({ sessionId: session.id, reason: 'killed by bootstrap-admin' });
    });

    it('answers 404 for an unknown session, 409 for an ended one, 403 for non-admins', async () => {
      const kills = link.kills.length;
      expect(await admin('POST', '/v1/sessions/00000000-0000-4000-8000-000000000099/kill', {})).toMatchObject({
        status: 404,
        body: { error: 'not_found', message: 'session "00000000-0000-4000-8000-000000000099" does not exist' },
      });
      const ended = await openSession();
      await cp.app.get(SessionsService).end(ended.id, { endedAt: new Date(), bytesFromClient: 0, bytesToClient: 0 });
      expect(await admin('POST', `/v1/sessions/${ended.id}/kill`, {})).toMatchObject({
        status: 409,
        body: { error: 'conflict', message: `session ${ended.id} has already ended (closed)` },
      });
      const own = await openSession({ subject: 'user:carol' });
      expect(await carol('POST', `/v1/sessions/${own.id}/kill`, {})).toMatchObject({
        status: 403,
        body: { error: 'forbidden', message: 'only admins may kill sessions; you are signed in as user:carol' },
      });
      expect(await admin('POST', `/v1/sessions/${own.id}/kill`, { reason: 'x'.repeat(501) })).toMatchObject({
        status: 400,
        body: { message: 'reason must be at most 500 characters' },
      });
      expect(link.kills.length).toBe(kills);
    });

    it('answers 503 agent_offline when the session\'s agent is not connected, and records nothing', async () => {
      const offlineAgent = (await admin('GET', '/v1/agents')).body.agents.find((a: { name: string }) => a.name === 'agent-2').id;
      const session = await openSession({ agent: offlineAgent });
      const before = (await cp.app.get(AuditService).list({ kind: 'session.killed' })).events.length;
      expect(await admin('POST', `/v1/sessions/${session.id}/kill`, {})).toMatchObject({
        status: 503,
        body: {
          error: 'agent_offline',
          message: `cannot kill session ${session.id}: its agent "agent-2" is not connected to the control plane; try again once it reconnects`,
        },
      });
      expect((await cp.app.get(AuditService).list({ kind: 'session.killed' })).events.length).toBe(before);
    });
  });
});
