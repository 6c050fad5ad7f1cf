import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { apiClient, startTestControlPlane, TEST_ADMIN_TOKEN, type TestControlPlane } from '../testing/test-control-plane.js';
import { ConnectionsService } from './connections.service.js';

const PG_PROD = {
  name: 'pg-prod',
  type: 'postgres',
  agent: 'eu-west-db',
  host: 'db.internal',
  port: 5432,
  database: 'app',
  user: 'readonly',
  secret: 'env:PG_PASSWORD',
};

describe('connections over HTTP', () => {
  let db: TestDatabase;
  let cp: TestControlPlane;
  let api: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    db = await createTestDatabase();
    cp = await startTestControlPlane({ databaseUrl: db.url, bootstrapToken: TEST_ADMIN_TOKEN });
    api = apiClient(cp.url, TEST_ADMIN_TOKEN);
    await api('POST', '/v1/agents', { name: 'eu-west-db' });
  });
  afterAll(async () => {
    await cp?.close();
    await db?.drop();
  });

  it('creates a connection that names its agent and stores only a secret reference', async () => {
    const res = await api('POST', '/v1/connections', PG_PROD);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: 'pg-prod',
      type: 'postgres',
      agent: 'eu-west-db',
      agentConnected: false,
      host: 'db.internal',
      port: 5432,
      database: 'app',
      user: 'readonly',
      secret: 'env:PG_PASSWORD',
      tlsMode: 'prefer',
    });
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('lists and gets connections with their agent', async () => {
    await api('POST', '/v1/connections', { name: 'ssh-bastion', type: 'tcp', agent: 'eu-west-db', host: '10.0.0.7', port: 22, secret: 'file:/run/secrets/key' });
    const list = await api('GET', '/v1/connections');
    expect(list.status).toBe(200);
    expect(list.body.connections.map((c: { name: string; agent: string }) => [c.name, c.agent])).toEqual([
      ['pg-prod', 'eu-west-db'],
      ['ssh-bastion', 'eu-west-db'],
    ]);
    const one = await api('GET', '/v1/connections/ssh-bastion');
    expect(one.body).toMatchObject({ name: 'ssh-bastion', type: 'tcp', secret: 'file:/run/secrets/key', database: null });
    expect((await cp.app.get(ConnectionsService).findByName('pg-prod')).secretRef).toBe('env:PG_PASSWORD');
  });

  it('refuses duplicates and unknown agents', async () => {
    expect(await api('POST', '/v1/connections', PG_PROD)).toMatchObject({
      status: 409,
      body: { error: 'conflict', message: 'connection "pg-prod" already exists' },
    });
    expect(await api('POST', '/v1/connections', { ...PG_PROD, name: 'other', agent: 'nowhere' })).toMatchObject({
      status: 404,
      body: { error: 'not_found', message: 'agent "nowhere" does not exist' },
    });
  });

  it.each(['hunter2', 'env:', 'env:PG PASSWORD', 'file:relative/path', 'postgres://u:p@h/db'])(
    'refuses the literal secret %j, saying the control plane never stores secret values',
    async (secret) => {
      const res = await api('POST', '/v1/connections', { ...PG_PROD, name: 'leaky', secret });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        error: 'invalid_request',
        message:
          'secret must be a reference such as env:PG_PASSWORD or file:/run/secrets/pg-password; the control plane never stores secret values',
      });
    },
  );

  it('names every invalid field in one line', async () => {
    const res = await api('POST', '/v1/connections', { ...PG_PROD, name: 'bad', port: 70000, tlsMode: 'sometimes', pasword: 'x' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.message).toContain('port must be an integer between 1 and 65535');
    expect(res.body.message).toContain('tlsMode must be one of disable, prefer, require, verify-full');
    expect(res.body.message).toContain('unknown field "pasword"');
    expect(res.body.message).not.toContain('\n');
  });

  it('names missing required fields', async () => {
    const res = await api('POST', '/v1/connections', { name: 'half', type: 'tcp' });
    expect(res).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', message: 'agent is required; host is required; port is required' },
    });
  });

  it('answers malformed JSON with the same error shape', async () => {
    const res = await fetch(`${cp.url}/v1/connections`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: '{"name": ',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: 'invalid_request',
      message: 'the request body is not valid JSON (Unexpected end of JSON input)',
    });
  });

  it('hides unexpected errors behind a generic 500 and logs them', async () => {
    const spy = vi.spyOn(cp.app.get(ConnectionsService), 'list').mockRejectedValueOnce(new Error('socket hang up'));
    const res = await api('GET', '/v1/connections');
    spy.mockRestore();
    expect(res).toMatchObject({
      status: 500,
      body: { error: 'internal', message: 'the control plane hit an unexpected error; details are in its log' },
    });
    expect(cp.logs).toContainEqual(
      expect.objectContaining({ level: 'error', msg: 'unhandled error', method: 'GET', path: '/v1/connections', errorMessage: 'socket hang up' }),
    );
  });

  it('deletes a connection, and says so when it does not exist', async () => {
    expect((await api('DELETE', '/v1/connections/ssh-bastion')).status).toBe(204);
    expect(await api('GET', '/v1/connections/ssh-bastion')).toMatchObject({
      status: 404,
      body: { error: 'not_found', message: 'connection "ssh-bastion" does not exist' },
    });
    expect(await api('DELETE', '/v1/connections/ssh-bastion')).toMatchObject({
      status: 404,
      body: { error: 'not_found', message: 'connection "ssh-bastion" does not exist' },
    });
  });

  it('keeps tags, refuses bad ones by name, and lets a policy select the connection by tag', async () => {
    const created = await api('POST', '/v1/connections', { ...PG_PROD, name: 'pg-tagged', tags: { env: 'prod', team: 'payments' } });
    expect(created.status).toBe(201);
    expect(created.body.tags).toEqual({ env: 'prod', team: 'payments' });
    const bad = await api('POST', '/v1/connections', { ...PG_PROD, name: 'pg-bad-tags', tags: { 'Bad Key': 'x', env: 'has space' } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('tags.Bad Key: a tag key is lower-case letters');
    expect(bad.body.message).toContain('tags.env: a tag value is up to 128');
    const policy = `apiVersion: airlock/v1
kind: Policy
metadata: { name: prod-by-tag }
spec:
  subjects: ["*"]
  connections: ["tag:env=prod"]
  access: allow
  rules: []
  default: allow
`;
    const applied = await fetch(`${cp.url}/v1/policies:apply`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/yaml' },
      body: policy,
    });
    expect(applied.status).toBe(200);
    const shown = await api('GET', '/v1/connections/pg-tagged');
    expect(shown.body.policies).toEqual(['prod-by-tag']);
  });
});
