import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { apiClient, ManualClock, startTestControlPlane, TEST_ADMIN_TOKEN, type TestControlPlane } from '../testing/test-control-plane.js';
import { AgentEnrollmentError } from './agent-enrollment.error.js';
import { keyFingerprint } from './agent-public-key.js';
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

  it('enrols with the join token exactly once, keeping only the public key; a replay is refused and audited', async () => {
    const { body } = await api('POST', '/v1/agents', { name: 'enrol-once' });
    const agents = cp.app.get(AgentsService);
    const key = newPublicKey();

    const enrolled = await agents.enroll(body.joinToken, key.pem, { hostname: 'db-host-1', version: '0.1.0' }, '10.0.0.7');
    expect(enrolled).toMatchObject({ agentId: body.agent.id, agentName: 'enrol-once', keyFingerprint: key.fingerprint });
    expect(enrolled.audience).toMatch(/^urn:airlock:control-plane:[0-9a-f-]{36}$/);

    const replay = agents.enroll(body.joinToken, newPublicKey().pem, { hostname: 'attacker' }, '10.0.0.66');
    await expect(replay).rejects.toBeInstanceOf(AgentEnrollmentError);
    await expect(replay).rejects.toMatchObject({
      reason: 'already_used',
      message: 'the join token for agent "enrol-once" was already used; a join token enrols one agent only once',
    });
    const refused = (await api('GET', '/v1/audit?kind=agent.enrollment_refused&target=agent/enrol-once')).body.events;
    expect(refused).toEqual([
      expect.objectContaining({
        actor: 'anonymous:10.0.0.66',
        details: expect.objectContaining({ reason: 'already_used', source: '10.0.0.66' }),
      }),
    ]);

    const listed = (await api('GET', '/v1/agents')).body.agents.find((a: { name: string }) => a.name === 'enrol-once');
    expect(listed).toMatchObject({ enrolled: true, hostname: 'db-host-1', version: '0.1.0', connected: false, joinTokenExpiresAt: null, revoked: false });
    expect(listed.keyFingerprint).toBe(key.fingerprint);
    // The key that authenticates the agent is its public key: nothing secret is stored.
    const row = await agents.findById(body.agent.id);
    expect(row?.publicKey).toBe(key.pem);
  });

  it('refuses a key that is not Ed25519', async () => {
    const { body } = await api('POST', '/v1/agents', { name: 'rsa-agent' });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await expect(cp.app.get(AgentsService).enroll(body.joinToken, rsa, {})).rejects.toMatchObject({
      reason: 'invalid_key',
      message: "the agent's public key must be Ed25519, not rsa",
    });
    await expect(cp.app.get(AgentsService).enroll(body.joinToken, 'not a key', {})).rejects.toMatchObject({ reason: 'invalid_key' });
  });

  it('refuses an expired or unknown join token', async () => {
    const { body } = await api('POST', '/v1/agents', { name: 'too-late', joinTokenTtlSeconds: 60 });
    clock.advance(61_000);
    const agents = cp.app.get(AgentsService);
    await expect(agents.enroll(body.joinToken, newPublicKey().pem, {})).rejects.toMatchObject({
      reason: 'expired',
      message: `the join token for agent "too-late" expired at ${body.joinTokenExpiresAt}`,
    });
    await expect(agents.enroll('alk_join_doesnotexist0000000000000000000', newPublicKey().pem, {})).rejects.toMatchObject({
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

  it('revokes an agent: its control link and session streams close at once, and it is refused from then on', async () => {
    const { body } = await api('POST', '/v1/agents', { name: 'doomed-key' });
    const registry = cp.app.get(AgentRegistry);
    const closed: Array<[string, string, boolean]> = [];
    registry.register({
      agentId: body.agent.id,
      agentName: 'doomed-key',
      connectedAt: clock.now(),
      openSession: () => undefined,
      kill: () => undefined,
      notifyDecision: () => undefined,
      close: (reason, options) => closed.push(['control', reason, options?.revoked ?? false]),
    });
    registry.trackStream(body.agent.id, { close: (reason) => closed.push(['session-1', reason, true]) });
    const finished = registry.trackStream(body.agent.id, { close: (reason) => closed.push(['session-2', reason, true]) });
    finished(); // a session that already ended is not closed again

    const revoked = await api('POST', '/v1/agents/doomed-key/revoke');
    expect(revoked).toMatchObject({ status: 200, body: { name: 'doomed-key', revoked: true, revokedBy: 'bootstrap-admin', revokedAt: clock.now().toISOString(), connected: false } });
    const reason = 'agent "doomed-key" was revoked by bootstrap-admin';
    expect(closed).toEqual([['control', reason, true], ['session-1', reason, true]]);
    expect(registry.isConnected(body.agent.id)).toBe(false);

    expect(await api('POST', '/v1/agents/doomed-key/revoke')).toMatchObject({
      status: 409,
      body: { error: 'conflict', message: `agent "doomed-key" is already revoked (at ${clock.now().toISOString()} by bootstrap-admin)` },
    });
    // Its join token was never spent, and now it never can be.
    await expect(cp.app.get(AgentsService).enroll(body.joinToken, newPublicKey().pem, {})).rejects.toMatchObject({
      reason: 'revoked',
      message: 'agent "doomed-key" was revoked; its join token can no longer enrol it',
    });
    const audit = (await api('GET', '/v1/audit?kind=agent.revoked&target=agent/doomed-key')).body.events;
    expect(audit).toEqual([expect.objectContaining({ actor: 'bootstrap-admin', details: { agentId: body.agent.id, keyFingerprint: null, closedStreams: 2 } })]);
    expect((await api('GET', '/v1/agents')).body.agents.find((a: { name: string }) => a.name === 'doomed-key')).toMatchObject({ revoked: true });
    expect(await api('POST', '/v1/agents/nobody/revoke')).toMatchObject({ status: 404, body: { message: 'agent "nobody" does not exist' } });
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

function newPublicKey(): { pem: string; fingerprint: string } {
  const { publicKey } = generateKeyPairSync('ed25519');
  return { pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), fingerprint: keyFingerprint(publicKey) };
}
