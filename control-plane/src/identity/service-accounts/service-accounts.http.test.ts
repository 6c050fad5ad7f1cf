import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../testing/test-database.js';
import { apiClient, ManualClock, startTestControlPlane, TEST_ADMIN_TOKEN, type TestControlPlane } from '../../testing/test-control-plane.js';

const HOUR = 3_600_000;

describe('service accounts', () => {
  let db: TestDatabase;
  let cp: TestControlPlane;
  let key: string;
  const clock = new ManualClock();
  const admin = () => apiClient(cp.url, TEST_ADMIN_TOKEN);

  beforeAll(async () => {
    db = await createTestDatabase();
    cp = await startTestControlPlane({ databaseUrl: db.url, bootstrapToken: TEST_ADMIN_TOKEN }, clock);
  });
  afterAll(async () => {
    await cp?.close();
    await db?.drop();
  });

  it('creates an account whose key is shown once, with a visible prefix, and kept only as a hash', async () => {
    const res = await admin()('POST', '/v1/service-accounts', { name: 'nightly-ci', groups: ['ci', 'ci'], description: 'nightly checks', expiresIn: '2h' });
    expect(res.status).toBe(201);
    key = res.body.key;
    expect(key).toMatch(/^alk_sa_[0-9A-Za-z]{32}$/);
    expect(res.body.serviceAccount).toMatchObject({
      name: 'nightly-ci',
      subject: 'serviceaccount:nightly-ci',
      role: 'user',
      groups: ['ci'],
      description: 'nightly checks',
      keyPrefix: key.slice(0, 'alk_sa_'.length + 8),
      state: 'active',
      expiresAt: new Date(clock.now().getTime() + 2 * HOUR).toISOString(),
      lastUsedAt: null,
      createdBy: 'bootstrap-admin',
    });
    const list = await admin()('GET', '/v1/service-accounts');
    expect(list.body.serviceAccounts.map((a: { name: string; keyPrefix: string }) => [a.name, a.keyPrefix])).toEqual([['nightly-ci', res.body.serviceAccount.keyPrefix]]);
    const everything = JSON.stringify([list.body, cp.logs, (await admin()('GET', '/v1/audit')).body]);
    expect(everything).not.toContain(key);
    const [created] = (await admin()('GET', '/v1/audit?kind=serviceaccount.created')).body.events;
    expect(created).toMatchObject({ actor: 'bootstrap-admin', target: 'serviceaccount/nightly-ci', details: { role: 'user', groups: ['ci'], keyPrefix: res.body.serviceAccount.keyPrefix } });
  });

  it('authenticates with the key, and records when it was last used', async () => {
    expect(await apiClient(cp.url, key)('GET', '/v1/whoami')).toMatchObject({
      status: 200,
      body: { subject: 'serviceaccount:nightly-ci', role: 'user', groups: ['ci'], kind: 'service-account', credential: 'service-account-key', expiresAt: new Date(clock.now().getTime() + 2 * HOUR).toISOString() },
    });
    const [account] = (await admin()('GET', '/v1/service-accounts')).body.serviceAccounts;
    expect(account.lastUsedAt).toBe(clock.now().toISOString());
  });

  it('writes key use to the audit log: the first use, then at most once per 10 minutes', async () => {
    const used = async () => (await admin()('GET', '/v1/audit?kind=serviceaccount.key_used')).body.events as { actor: string; details: { keyPrefix: string } }[];
    const before = (await used()).length;
    await apiClient(cp.url, key)('GET', '/v1/whoami');
    expect((await used()).length).toBe(before); // used a moment ago, in the test above
    clock.advance(10 * 60_000);
    await apiClient(cp.url, key)('GET', '/v1/whoami');
    const events = await used();
    expect(events.length).toBe(before + 1);
    expect(events[0]).toMatchObject({ actor: 'serviceaccount:nightly-ci' });
    expect(JSON.stringify(events)).not.toContain(key);
  });

  it('refuses duplicates and bad input with readable errors', async () => {
    expect(await admin()('POST', '/v1/service-accounts', { name: 'nightly-ci' })).toMatchObject({
      status: 409,
      body: { message: 'service account "nightly-ci" already exists; revoke it first to make a new key' },
    });
    expect(await admin()('POST', '/v1/service-accounts', { name: 'Bad Name', role: 'root', expiresIn: 'soon' })).toMatchObject({
      status: 400,
      body: {
        message: "name must be 1-63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit; role must be one of admin, reviewer, user, auditor; expiresIn must be a duration such as 30d, 12h or 90m",
      },
    });
  });

  it('refuses an expired key, saying so', async () => {
    const short = await admin()('POST', '/v1/service-accounts', { name: 'short-lived', expiresIn: '1h' });
    clock.advance(HOUR);
    expect(await apiClient(cp.url, short.body.key)('GET', '/v1/whoami')).toMatchObject({
      status: 401,
      body: { message: `the API key of service account "short-lived" expired at ${clock.now().toISOString()}` },
    });
    const [refused] = (await admin()('GET', '/v1/audit?kind=auth.refused&limit=1')).body.events;
    expect(refused).toMatchObject({ target: `token/${short.body.serviceAccount.keyPrefix}`, details: { reason: 'expired', credential: 'service-account-key' } });
    expect((await admin()('GET', '/v1/service-accounts')).body.serviceAccounts.find((a: { name: string }) => a.name === 'short-lived').state).toBe('expired');
  });

  it('revokes an account: its key is refused at once, and the name can be used again', async () => {
    const revoked = await admin()('DELETE', '/v1/service-accounts/nightly-ci');
    expect(revoked).toMatchObject({ status: 200, body: { state: 'revoked', revokedBy: 'bootstrap-admin' } });
    expect(await apiClient(cp.url, key)('GET', '/v1/whoami')).toMatchObject({
      status: 401,
      body: { message: `the API key of service account "nightly-ci" was revoked at ${clock.now().toISOString()}` },
    });
    expect((await admin()('GET', '/v1/audit?kind=auth.refused&limit=1')).body.events[0].details).toMatchObject({ reason: 'revoked' });
    expect(await admin()('DELETE', '/v1/service-accounts/nightly-ci')).toMatchObject({ status: 404, body: { message: 'service account "nightly-ci" does not exist (or is already revoked)' } });
    expect((await admin()('GET', '/v1/service-accounts')).body.serviceAccounts.map((a: { name: string }) => a.name)).toEqual(['short-lived']);
    expect((await admin()('GET', '/v1/service-accounts?all=true')).body.serviceAccounts.map((a: { name: string; state: string }) => [a.name, a.state])).toEqual([
      ['nightly-ci', 'revoked'],
      ['short-lived', 'expired'],
    ]);
    const again = await admin()('POST', '/v1/service-accounts', { name: 'nightly-ci', role: 'auditor' });
    expect(again.status).toBe(201);
    expect(again.body.key).not.toBe(key);
    expect((await apiClient(cp.url, again.body.key)('GET', '/v1/whoami')).body.role).toBe('auditor');
    expect((await admin()('GET', '/v1/audit?kind=serviceaccount.revoked')).body.events).toEqual([expect.objectContaining({ target: 'serviceaccount/nightly-ci' })]);
  });
});
