import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { apiClient, startTestControlPlane, TEST_ADMIN_TOKEN } from '../testing/test-control-plane.js';

describe('identity over HTTP', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('prints a generated admin token once, in a login line, and that token works', async () => {
    const first = await startTestControlPlane({ databaseUrl: db.url });
    let token: string;
    try {
      expect(first.announced).toHaveLength(1);
      const banner = first.announced[0];
      const login = /airlock login --url (\S+) --token (alk_admin_[0-9A-Za-z]{32})\b/.exec(banner);
      expect(login, banner).not.toBeNull();
      expect(login![1]).toBe(first.url);
      token = login![2];
      // The token never reaches the structured log.
      expect(JSON.stringify(first.logs)).not.toContain(token);

      const whoami = await apiClient(first.url, token)('GET', '/v1/whoami');
      expect(whoami).toMatchObject({ status: 200, body: { subject: 'bootstrap-admin', role: 'admin' } });
    } finally {
      await first.close();
    }

    const second = await startTestControlPlane({ databaseUrl: db.url });
    try {
      expect(second.announced).toEqual([]);
      const whoami = await apiClient(second.url, token)('GET', '/v1/whoami');
      expect(whoami.status).toBe(200);
    } finally {
      await second.close();
    }
  });

  describe('with a configured bootstrap token', () => {
    let cp: Awaited<ReturnType<typeof startTestControlPlane>>;
    beforeAll(async () => {
      cp = await startTestControlPlane({ databaseUrl: db.url, bootstrapToken: TEST_ADMIN_TOKEN });
    });
    afterAll(async () => {
      await cp?.close();
    });

    it('accepts the configured token without printing it', async () => {
      expect(cp.announced).toEqual([]);
      const whoami = await apiClient(cp.url, TEST_ADMIN_TOKEN)('GET', '/v1/whoami');
      expect(whoami).toMatchObject({ status: 200, body: { subject: 'bootstrap-admin', role: 'admin' } });
    });

    it('refuses a request without a token, saying how to authenticate', async () => {
      const res = await apiClient(cp.url)('GET', '/v1/agents');
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(res.body).toEqual({
        error: 'unauthenticated',
        message: 'missing credentials: send "Authorization: Bearer <token>" (run `airlock login` first)',
      });
    });

    it('refuses a wrong token and a malformed header with readable messages', async () => {
      const wrong = await apiClient(cp.url, `${TEST_ADMIN_TOKEN.slice(0, -1)}X`)('GET', '/v1/whoami');
      expect(wrong.status).toBe(401);
      expect(wrong.body).toEqual({
        error: 'unauthenticated',
        message: 'the bearer token is not valid or has been revoked; log in again with `airlock login`',
      });
      const basic = await apiClient(cp.url)('GET', '/v1/whoami', undefined, { authorization: 'Basic abc' });
      expect(basic.body).toEqual({ error: 'unauthenticated', message: 'the Authorization header must have the form "Bearer <token>"' });
    });

    it('serves health and the OpenAPI document without a token', async () => {
      const client = apiClient(cp.url);
      expect(await client('GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
      const openapi = await client('GET', '/openapi.json');
      expect(openapi.status).toBe(200);
      expect(openapi.body.info.title).toBe('airlock control plane');
      expect(Object.keys(openapi.body.paths)).toEqual(
        expect.arrayContaining(['/v1/whoami', '/v1/agents', '/v1/agents/{name}', '/v1/connections', '/v1/connections/{name}', '/v1/sessions', '/v1/sessions/{id}']),
      );
      expect(openapi.body.components.schemas.CreateConnectionDto.required).toEqual(expect.arrayContaining(['name', 'type', 'agent', 'host', 'port']));
      const docs = await fetch(`${cp.url}/docs`);
      expect(docs.status).toBe(200);
      expect(await docs.text()).toContain('swagger');
    });

    it('answers an unknown route with the same error shape', async () => {
      const res = await apiClient(cp.url, TEST_ADMIN_TOKEN)('GET', '/v1/nope?x=1');
      expect(res).toMatchObject({ status: 404, body: { error: 'not_found', message: 'no such endpoint: GET /v1/nope' } });
    });
  });

  it('in dev mode, the configured token belongs to a local admin user clearly marked dev-only', async () => {
    const dev = await startTestControlPlane({ databaseUrl: db.url, bootstrapToken: 'alk_admin_dev_TestOnlyDevToken0123456789', identity: { devMode: 'true' } });
    try {
      const api = apiClient(dev.url, 'alk_admin_dev_TestOnlyDevToken0123456789');
      expect(await api('GET', '/v1/whoami')).toMatchObject({ status: 200, body: { subject: 'user:dev-admin', role: 'admin', devOnly: true, kind: 'user' } });
      expect((await api('GET', '/v1/users')).body.users).toContainEqual(expect.objectContaining({ name: 'dev-admin', role: 'admin', source: 'dev' }));
      expect(dev.logs).toContainEqual(expect.objectContaining({ level: 'warn', msg: expect.stringMatching(/^DEV MODE: .* Never run this in production$/) }));
      expect(await apiClient(dev.url)('GET', '/v1/auth/config')).toMatchObject({ body: { oidc: null, devMode: true } });
    } finally {
      await dev.close();
    }
  });
});
