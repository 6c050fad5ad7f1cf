import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionsService } from '../connections/connections.service.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { PROD_POSTGRES } from '../testing/policy-fixtures.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { apiClient, startTestControlPlane, TEST_ADMIN_TOKEN, type TestControlPlane } from '../testing/test-control-plane.js';

describe('users and roles over HTTP', () => {
  let db: TestDatabase;
  let cp: TestControlPlane;
  let admin: ReturnType<typeof apiClient>;
  let erinToken: string;
  let erin: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    db = await createTestDatabase();
    cp = await startTestControlPlane({ databaseUrl: db.url, bootstrapToken: TEST_ADMIN_TOKEN });
    admin = apiClient(cp.url, TEST_ADMIN_TOKEN);
    await admin('POST', '/v1/agents', { name: 'eu' });
    await admin('POST', '/v1/connections', { name: 'prod-eu', type: 'postgres', agent: 'eu', host: 'db', port: 5432 });
    await admin('POST', '/v1/policies:apply', { document: PROD_POSTGRES });
  });
  afterAll(async () => {
    await cp?.close();
    await db?.drop();
  });

  it('creates a user with groups and prints their token once, in a login line', async () => {
    const res = await admin('POST', '/v1/users', { name: 'erin@example.com', groups: ['engineers', 'oncall', 'engineers'] });
    expect(res.status).toBe(201);
    expect(res.body.user).toMatchObject({
      name: 'erin@example.com',
      subject: 'user:erin@example.com',
      role: 'user',
      groups: ['engineers', 'oncall'],
      createdBy: 'bootstrap-admin',
    });
    expect(res.body.token).toMatch(/^alk_user_[0-9A-Za-z]{32}$/);
    expect(res.body.login).toBe(`airlock login --url ${cp.publicUrl} --token ${res.body.token}`);
    expect(JSON.stringify(cp.logs)).not.toContain(res.body.token);
    erinToken = res.body.token;
    erin = apiClient(cp.url, erinToken);

    expect(await erin('GET', '/v1/whoami')).toMatchObject({
      status: 200,
      body: { subject: 'user:erin@example.com', role: 'user', groups: ['engineers', 'oncall'] },
    });
  });

  it('lists users by name, and refuses duplicates and bad input', async () => {
    await admin('POST', '/v1/users', { name: 'ada', groups: ['platform'], role: 'admin' });
    const list = await admin('GET', '/v1/users');
    expect(list.body.users.map((u: { name: string; role: string; groups: string[] }) => [u.name, u.role, u.groups])).toEqual([
      ['ada', 'admin', ['platform']],
      ['erin@example.com', 'user', ['engineers', 'oncall']],
    ]);
    expect(await admin('POST', '/v1/users', { name: 'ada' })).toMatchObject({ status: 409, body: { error: 'conflict', message: 'user "ada" already exists' } });
    expect(await admin('POST', '/v1/users', { name: 'Bad Name', groups: ['ok', 'Not OK'], role: 'root', extra: 1 })).toMatchObject({
      status: 400,
      body: {
        error: 'invalid_request',
        message:
          'unknown field "extra"; ' +
          "name must be 1-128 lowercase letters, digits, '.', '_', '@', '+' or '-', starting with a letter or digit; " +
          "each group name must be 1-63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit; " +
          'role must be one of admin, reviewer, user, auditor',
      },
    });
  });

  it('lets a named admin do admin work, under their own subject', async () => {
    const created = await admin('POST', '/v1/users', { name: 'ada2', role: 'admin' });
    const ada2 = apiClient(cp.url, created.body.token);
    expect(await ada2('POST', '/v1/users', { name: 'frank' })).toMatchObject({ status: 201, body: { user: { createdBy: 'user:ada2' } } });
    expect((await ada2('DELETE', '/v1/users/frank')).status).toBe(204);
  });

  // One call per admin endpoint family; each must refuse a plain user with a sentence saying why.
  it.each<[string, string, unknown, string]>([
    ['POST', '/v1/agents', { name: 'x' }, 'only admins may manage agents; you are signed in as user:erin@example.com'],
    ['GET', '/v1/agents', undefined, 'only admins may manage agents; you are signed in as user:erin@example.com'],
    ['DELETE', '/v1/agents/eu', undefined, 'only admins may manage agents; you are signed in as user:erin@example.com'],
    ['POST', '/v1/connections', { name: 'x', type: 'tcp', agent: 'eu', host: 'h', port: 1 }, 'only admins may create connections; you are signed in as user:erin@example.com'],
    ['DELETE', '/v1/connections/prod-eu', undefined, 'only admins may delete connections; you are signed in as user:erin@example.com'],
    ['POST', '/v1/users', { name: 'mallory', role: 'admin' }, 'only admins may manage users; you are signed in as user:erin@example.com'],
    ['GET', '/v1/users', undefined, 'only admins may manage users; you are signed in as user:erin@example.com'],
    ['DELETE', '/v1/users/ada', undefined, 'only admins may manage users; you are signed in as user:erin@example.com'],
    ['POST', '/v1/policies:apply', { document: PROD_POSTGRES.replace('approvals: 2', 'approvals: 1') }, 'only admins may apply policies; you are signed in as user:erin@example.com'],
    ['DELETE', '/v1/policies/prod-postgres', undefined, 'only admins may delete policies; you are signed in as user:erin@example.com'],
    ['GET', '/v1/audit', undefined, 'only admins and auditors may read the audit log; you are signed in as user:erin@example.com'],
  ])('refuses a non-admin %s %s with 403', async (method, path, body, message) => {
    expect(await erin(method, path, body)).toMatchObject({ status: 403, body: { error: 'forbidden', message } });
  });

  it('changed nothing while refusing', async () => {
    expect((await admin('GET', '/v1/connections')).body.connections.map((c: { name: string }) => c.name)).toEqual(['prod-eu']);
    expect((await admin('GET', '/v1/policies/prod-postgres')).body.version).toBe(1);
    expect((await admin('GET', '/v1/users')).body.users.map((u: { name: string }) => u.name)).not.toContain('mallory');
  });

  it('lets every user read connections (with their policies) and policies', async () => {
    const connections = await erin('GET', '/v1/connections');
    expect(connections.status).toBe(200);
    expect(connections.body.connections.map((c: { name: string; policies: string[] }) => [c.name, c.policies])).toEqual([['prod-eu', ['prod-postgres']]]);
    expect((await erin('GET', '/v1/connections/prod-eu')).status).toBe(200);
    expect((await erin('GET', '/v1/policies')).body.policies.map((p: { name: string }) => p.name)).toEqual(['prod-postgres']);
    expect((await erin('GET', '/v1/policies/prod-postgres')).body.document).toBe(PROD_POSTGRES);
    expect((await erin('GET', '/v1/policies/prod-postgres/versions')).status).toBe(200);
  });

  it('shows a user only their own sessions; admins see all', async () => {
    const connection = await cp.app.get(ConnectionsService).findByName('prod-eu');
    const sessions = cp.app.get(SessionsService);
    const own = await sessions.open({ connection, agentId: connection.agentId, subject: 'user:erin@example.com', mode: 'exec' });
    const other = await sessions.open({ connection, agentId: connection.agentId, subject: 'bootstrap-admin', mode: 'tunnel' });

    expect((await erin('GET', '/v1/sessions')).body.sessions.map((s: { id: string }) => s.id)).toEqual([own.id]);
    expect((await erin('GET', `/v1/sessions/${own.id}`)).status).toBe(200);
    expect(await erin('GET', `/v1/sessions/${other.id}`)).toMatchObject({ status: 404, body: { message: `session "${other.id}" does not exist` } });
    expect((await admin('GET', '/v1/sessions')).body.sessions.map((s: { id: string }) => s.id).sort()).toEqual([own.id, other.id].sort());
  });

  it('deletes a user: their token stops working at once, and the name can be reused', async () => {
    expect((await admin('DELETE', '/v1/users/erin@example.com')).status).toBe(204);
    expect(await erin('GET', '/v1/whoami')).toMatchObject({
      status: 401,
      body: { error: 'unauthenticated', message: 'the bearer token is not valid or has been revoked; log in again with `airlock login`' },
    });
    expect(await admin('DELETE', '/v1/users/erin@example.com')).toMatchObject({ status: 404, body: { message: 'user "erin@example.com" does not exist' } });
    const again = await admin('POST', '/v1/users', { name: 'erin@example.com' });
    expect(again.status).toBe(201);
    expect(again.body.token).not.toBe(erinToken);
    expect((await admin('GET', '/v1/users')).body.users.map((u: { name: string }) => u.name)).toContain('erin@example.com');
  });

  it('audits every user change with who made it', async () => {
    const created = await admin('GET', '/v1/audit?kind=user.created');
    expect(created.body.events.map((e: { actor: string; target: string }) => [e.actor, e.target])).toEqual([
      ['bootstrap-admin', 'user/erin@example.com'],
      ['user:ada2', 'user/frank'],
      ['bootstrap-admin', 'user/ada2'],
      ['bootstrap-admin', 'user/ada'],
      ['bootstrap-admin', 'user/erin@example.com'],
    ]);
    expect(created.body.events.at(-1).details).toEqual({ role: 'user', groups: ['engineers', 'oncall'] });
    const deleted = await admin('GET', '/v1/audit?kind=user.deleted');
    expect(deleted.body.events.map((e: { actor: string; target: string; details: unknown }) => [e.actor, e.target, e.details])).toEqual([
      ['bootstrap-admin', 'user/erin@example.com', { revokedTokens: 1 }],
      ['user:ada2', 'user/frank', { revokedTokens: 1 }],
    ]);
  });
});
