import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionsService } from '../connections/connections.service.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { apiClient, startTestControlPlane, TEST_ADMIN_TOKEN, type TestControlPlane } from '../testing/test-control-plane.js';
import { SessionsService } from './sessions.service.js';

describe('sessions over HTTP', () => {
  let db: TestDatabase;
  let cp: TestControlPlane;
  let api: ReturnType<typeof apiClient>;
  let agentId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    cp = await startTestControlPlane({ databaseUrl: db.url, bootstrapToken: TEST_ADMIN_TOKEN });
    api = apiClient(cp.url, TEST_ADMIN_TOKEN);
    agentId = (await api('POST', '/v1/agents', { name: 'agent-1' })).body.agent.id;
    await api('POST', '/v1/connections', { name: 'pg-prod', type: 'postgres', agent: 'agent-1', host: 'db', port: 5432 });
    await api('POST', '/v1/connections', { name: 'pg-stage', type: 'postgres', agent: 'agent-1', host: 'db2', port: 5432 });
  });
  afterAll(async () => {
    await cp?.close();
    await db?.drop();
  });

  async function openSession(connectionName: string) {
    const connection = await cp.app.get(ConnectionsService).findByName(connectionName);
    return cp.app.get(SessionsService).open({ connection, agentId, subject: 'alice@example.com', mode: 'tunnel', clientAddress: '127.0.0.1:50000' });
  }

  it('records a session from opening to closed, with its statements in order', async () => {
    const sessions = cp.app.get(SessionsService);
    const session = await openSession('pg-prod');
    expect(session.status).toBe('opening');
    await sessions.markOpen(session.id);
    await sessions.recordStatements(session.id, [
      { sequence: 2, text: 'select * from nope', startedAt: new Date('2026-11-25T10:00:01Z'), durationUs: 250, commandTag: null, errorSqlstate: '42P01', errorMessage: 'relation "nope" does not exist', protocol: 'postgres' },
      { sequence: 1, text: 'select 1', startedAt: new Date('2026-11-25T10:00:00Z'), durationUs: 1500, rows: 1, commandTag: 'SELECT 1', errorSqlstate: null, errorMessage: null, protocol: 'postgres' },
    ]);
    await sessions.end(session.id, { endedAt: new Date('2026-11-25T10:00:05Z'), bytesFromClient: 120, bytesToClient: 4096 });

    const res = await api('GET', `/v1/sessions/${session.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: session.id,
      connection: 'pg-prod',
      subject: 'alice@example.com',
      mode: 'tunnel',
      status: 'closed',
      endedAt: '2026-11-25T10:00:05.000Z',
      bytesFromClient: 120,
      bytesToClient: 4096,
      error: null,
    });
    expect(res.body.statements).toEqual([
      { sequence: 1, protocol: 'postgres', text: 'select 1', startedAt: '2026-11-25T10:00:00.000Z', durationMs: 1.5, rows: 1, commandTag: 'SELECT 1', error: null, verdict: null, reviewId: null },
      { sequence: 2, protocol: 'postgres', text: 'select * from nope', startedAt: '2026-11-25T10:00:01.000Z', durationMs: 0.25, rows: null, commandTag: null, error: { sqlstate: '42P01', message: 'relation "nope" does not exist' }, verdict: null, reviewId: null },
    ]);
  });

  it('refuses to end a session twice and reports unknown sessions', async () => {
    const sessions = cp.app.get(SessionsService);
    const session = await openSession('pg-prod');
    await sessions.fail(session.id, 'agent_unreachable', 'agent "agent-1" is not connected');
    await expect(sessions.end(session.id, { endedAt: new Date(), bytesFromClient: 0, bytesToClient: 0 })).rejects.toThrow(
      `session ${session.id} has already ended (failed)`,
    );
    const failed = await api('GET', `/v1/sessions/${session.id}`);
    expect(failed.body).toMatchObject({ status: 'failed', error: { code: 'agent_unreachable', message: 'agent "agent-1" is not connected' } });
    expect(await api('GET', '/v1/sessions/not-a-session')).toMatchObject({
      status: 404,
      body: { error: 'not_found', message: 'session "not-a-session" does not exist' },
    });
  });

  it('lists sessions newest first, by connection and with a limit', async () => {
    const stage = await openSession('pg-stage');
    const all = await api('GET', '/v1/sessions');
    expect(all.body.sessions[0].id).toBe(stage.id);
    expect(all.body.sessions.length).toBeGreaterThanOrEqual(3);
    const onlyStage = await api('GET', '/v1/sessions?connection=pg-stage');
    expect(onlyStage.body.sessions.map((s: { id: string }) => s.id)).toEqual([stage.id]);
    expect((await api('GET', '/v1/sessions?limit=1')).body.sessions).toHaveLength(1);
    expect(await api('GET', '/v1/sessions?limit=0')).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', message: 'limit must be an integer between 1 and 500' },
    });
  });

  it('closes sessions a previous process left open when it starts again', async () => {
    const live = await openSession('pg-stage');
    await cp.close();
    cp = await startTestControlPlane({ databaseUrl: db.url, bootstrapToken: TEST_ADMIN_TOKEN });
    api = apiClient(cp.url, TEST_ADMIN_TOKEN);
    const res = await api('GET', `/v1/sessions/${live.id}`);
    expect(res.body).toMatchObject({ status: 'closed', error: { code: 'control_plane_restarted', message: 'control plane restarted' } });
    expect(res.body.endedAt).not.toBeNull();
  });
});
