import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { apiClient, ManualClock, startTestControlPlane, TEST_ADMIN_TOKEN, type TestControlPlane } from '../testing/test-control-plane.js';
import { AgentEnrollmentError } from './agent-enrollment.error.js';
import type { AgentLink } from './agent-link.js';
import { AgentRegistry } from './agent-registry.js';
import { AgentsService } from './agents.service.js';

describe('agents over HTTP', () => {
  let db: TestDatabase;
  let cp: TestControlPlane;
  let api: ReturnType<typeof apiClient>;
  const clock = new ManualClock();

  beforeAll(async () => {
    db = await createTestDatabase();
    cp = await startTestControlPlane({ databaseUrl: db.url, bootstrapToken: TEST_ADMIN_TOKEN }, clock);
    api = apiClient(cp.url, TEST_ADMIN_TOKEN);
  });
  afterAll(async () => {
    await cp?.close();
    await db?.drop();
  });

  it('creates an agent and hands back a one-time join token and the command to run', async () => {
    const res = await api('POST', '/v1/agents', { name: 'eu-west-db' });
    expect(res.status).toBe(201);
    expect(res.body.joinToken).toMatch(/^alk_join_[0-9A-Za-z]{32}$/);
    expect(res.body.command).toBe(`airlock-agent --url ${cp.publicUrl} --join-token ${res.body.joinToken}`);
    expect(res.body.joinTokenExpiresAt).toBe(new Date(clock.now().getTime() + 3600_000).toISOString());
    expect(res.body.agent).toMatchObject({ name: 'eu-west-db', enrolled: false, connected: false, hostname: null });
  });

  it('refuses a second agent with the same name, and invalid names', async () => {
    const duplicate = await api('POST', '/v1/agents', { name: 'eu-west-db' });
    expect(duplicate).toMatchObject({ status: 409, body: { error: 'conflict', message: 'agent "eu-west-db" already exists' } });
    const invalid = await api('POST', '/v1/agents', { name: 'Bad Name!' });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toEqual({
      error: 'invalid_request',
      message: "name must be 1-63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit",
    });
  });

  it('enrols with the join token exactly once; a replay is refused with a precise message', async () => {
    const { body } = await api('POST', '/v1/agents', { name: 'enrol-once' });
    const agents = cp.app.get(AgentsService);

    const enrolled = await agents.enroll(body.joinToken, { hostname: 'db-host-1', version: '0.1.0' });
    expect(enrolled).toMatchObject({ agentId: body.agent.id, agentName: 'enrol-once' });
    expect(enrolled.agentKey).toMatch(/^alk_agent_[0-9A-Za-z]{32}$/);

    const replay = agents.enroll(body.joinToken, { hostname: 'attacker' });
    await expect(replay).rejects.toBeInstanceOf(AgentEnrollmentError);
    await expect(replay).rejects.toMatchObject({
      reason: 'already_used',
      message: 'the join token for agent "enrol-once" was already used; a join token enrols one agent only once',
    });

    expect((await agents.authenticateKey(enrolled.agentKey))?.name).toBe('enrol-once');
    expect(await agents.authenticateKey(`${enrolled.agentKey.slice(0, -1)}x`)).toBeNull();
    expect(await agents.authenticateKey(body.joinToken)).toBeNull();

    const listed = (await api('GET', '/v1/agents')).body.agents.find((a: { name: string }) => a.name === 'enrol-once');
    expect(listed).toMatchObject({ enrolled: true, hostname: 'db-host-1', version: '0.1.0', connected: false, joinTokenExpiresAt: null });
    expect(listed.keyPrefix).toBe(enrolled.agentKey.slice(0, 18));
  });

  it('refuses an expired or unknown join token', async () => {
    const { body } = await api('POST', '/v1/agents', { name: 'too-late', joinTokenTtlSeconds: 60 });
    clock.advance(61_000);
    const agents = cp.app.get(AgentsService);
    await expect(agents.enroll(body.joinToken, {})).rejects.toMatchObject({
      reason: 'expired',
      message: `the join token for agent "too-late" expired at ${body.joinTokenExpiresAt}`,
    });
    await expect(agents.enroll('alk_join_doesnotexist0000000000000000000', {})).rejects.toMatchObject({
      reason: 'unknown_token',
      message: 'the join token is not valid; ask an admin for a new one',
    });
  });

  it('shows which agents are connected, and a newer link replaces an older one', async () => {
    const { body } = await api('POST', '/v1/agents', { name: 'linked' });
    const registry = cp.app.get(AgentRegistry);
    const closed: string[] = [];
    const link = (connectedAt: Date): AgentLink => ({
      agentId: body.agent.id,
      agentName: 'linked',
      connectedAt,
      openSession: () => undefined,
      kill: () => undefined,
      close: (reason) => closed.push(reason),
    });
    const older = link(new Date('2026-11-25T10:00:00Z'));
    const newer = link(new Date('2026-11-25T10:05:00Z'));
    registry.register(older);
    registry.register(newer);
    expect(closed).toEqual(['replaced by a newer connection of the same agent']);
    registry.unregister(older); // a late cleanup of the old stream must not evict the new one

    const listed = (await api('GET', '/v1/agents')).body.agents.find((a: { name: string }) => a.name === 'linked');
    expect(listed).toMatchObject({ connected: true, connectedAt: '2026-11-25T10:05:00.000Z' });

    registry.unregister(newer);
    const after = (await api('GET', '/v1/agents')).body.agents.find((a: { name: string }) => a.name === 'linked');
    expect(after).toMatchObject({ connected: false, connectedAt: null });
  });

  it('deletes an agent, refusing while a connection still uses it', async () => {
    await api('POST', '/v1/agents', { name: 'doomed' });
    await api('POST', '/v1/connections', { name: 'doomed-db', type: 'tcp', agent: 'doomed', host: 'db', port: 5432 });
    const blocked = await api('DELETE', '/v1/agents/doomed');
    expect(blocked).toMatchObject({
      status: 409,
      body: { error: 'conflict', message: 'agent "doomed" still serves connections "doomed-db"; delete them first' },
    });
    expect((await api('DELETE', '/v1/connections/doomed-db')).status).toBe(204);
    expect((await api('DELETE', '/v1/agents/doomed')).status).toBe(204);
    const names = (await api('GET', '/v1/agents')).body.agents.map((a: { name: string }) => a.name);
    expect(names).not.toContain('doomed');
    expect(await api('DELETE', '/v1/agents/doomed')).toMatchObject({
      status: 404,
      body: { error: 'not_found', message: 'agent "doomed" does not exist' },
    });
  });
});
