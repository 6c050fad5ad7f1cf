/**
 * OIDC logins against a real OpenID provider (oidc-provider, in this process, over HTTP): the
 * device flow and authorization code + PKCE produce real ID tokens; the control plane verifies them
 * against the issuer's JWKS, provisions the person with their groups and role, and issues its own
 * session and refresh tokens. Forged ID tokens are refused one reason at a time.
 */
import { generateKeyPairSync } from 'node:crypto';
import { base64url, decodeJwt, type JWTPayload, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIssuer, type TestIssuer } from '../../testing/oidc-issuer.js';
import { createTestDatabase, type TestDatabase } from '../../testing/test-database.js';
import { apiClient, ManualClock, startTestControlPlane, TEST_ADMIN_TOKEN, type TestControlPlane } from '../../testing/test-control-plane.js';

const MINUTE = 60_000;

describe('OIDC logins', () => {
  let db: TestDatabase;
  let idp: TestIssuer;
  let cp: TestControlPlane;
  // The issuer stamps real time into its tokens, so the control plane's clock starts there.
  const clock = new ManualClock(new Date());
  const anonymous = () => apiClient(cp.url);
  const admin = () => apiClient(cp.url, TEST_ADMIN_TOKEN);

  beforeAll(async () => {
    [db, idp] = await Promise.all([createTestDatabase(), startTestIssuer()]);
    idp.setAccount('alice', { email: 'Alice@Example.com', groups: ['Engineering', '/dba'] });
    idp.setAccount('pat', { email: 'pat@example.com', groups: ['platform'] });
    idp.setAccount('eve', { email: 'eve@example.com', groups: [], emailVerified: false });
    cp = await startTestControlPlane(
      {
        databaseUrl: db.url,
        bootstrapToken: TEST_ADMIN_TOKEN,
        identity: {
          oidcIssuer: idp.issuer,
          oidcClientId: idp.clientId,
          oidcAdminGroups: 'platform',
          oidcReviewerGroups: 'dba',
          oidcAuditorGroups: 'security',
          authFailureBurst: '100',
          loginBurst: '1000',
        },
      },
      clock,
    );
  });
  afterAll(async () => {
    await cp?.close();
    await idp?.close();
    await db?.drop();
  });

  async function exchange(idToken: string, extra: Record<string, unknown> = {}) {
    return anonymous()('POST', '/v1/auth/oidc', { idToken, ...extra });
  }

  async function lastRefusal(): Promise<{ details: Record<string, unknown> }> {
    return (await admin()('GET', '/v1/audit?kind=auth.refused&limit=1')).body.events[0];
  }

  it('tells the CLI how to log in', async () => {
    expect(await anonymous()('GET', '/v1/auth/config')).toMatchObject({
      status: 200,
      body: { oidc: { issuer: idp.issuer, clientId: idp.clientId, scopes: ['openid', 'email', 'profile', 'groups'] }, sessionTokenTtlSeconds: 900, devMode: false },
    });
  });

  it('logs in with the device flow: provisions the person with mapped groups and role, and issues its own tokens', async () => {
    const res = await exchange(await idp.obtainIdToken('alice', { flow: 'device' }), { flow: 'device' });
    expect(res).toMatchObject({
      status: 200,
      body: { tokenType: 'Bearer', expiresIn: 900, refreshToken: expect.stringMatching(/^alk_refresh_/), user: { subject: 'user:alice@example.com', role: 'reviewer', groups: ['dba', 'engineering'] } },
    });
    const session = decodeJwt(res.body.accessToken);
    expect(session).toMatchObject({ iss: cp.publicUrl, aud: cp.publicUrl, sub: 'user:alice@example.com' });
    expect(await apiClient(cp.url, res.body.accessToken)('GET', '/v1/whoami')).toMatchObject({
      status: 200,
      body: { subject: 'user:alice@example.com', role: 'reviewer', groups: ['dba', 'engineering'], credential: 'session-token', kind: 'user' },
    });
    const users = (await admin()('GET', '/v1/users')).body.users;
    expect(users).toEqual([expect.objectContaining({ name: 'alice@example.com', source: 'oidc', role: 'reviewer', groups: ['dba', 'engineering'], createdBy: 'oidc' })]);
    const audit = (await admin()('GET', '/v1/audit?actor=user:alice@example.com')).body.events.map((e: { kind: string; details: Record<string, unknown> }) => [e.kind, e.details.method ?? e.details.issuer]);
    expect(audit).toEqual([['login.succeeded', 'oidc-device'], ['user.provisioned', idp.issuer]]);
  });

  it('logs in with authorization code + PKCE, checking the nonce', async () => {
    const idToken = await idp.obtainIdToken('pat', { flow: 'pkce', nonce: 'n-123' });
    expect(await exchange(idToken, { nonce: 'n-other', flow: 'pkce' })).toMatchObject({
      status: 401,
      body: { message: 'the ID token does not carry the nonce of this login: it belongs to another login attempt' },
    });
    const res = await exchange(idToken, { nonce: 'n-123', flow: 'pkce' });
    expect(res).toMatchObject({ status: 200, body: { user: { subject: 'user:pat@example.com', role: 'admin', groups: ['platform'] } } });
    // An admin from the issuer can do admin work with the session token.
    expect((await apiClient(cp.url, res.body.accessToken)('GET', '/v1/users')).status).toBe(200);
  });

  it('brings groups and role up to date at each login, and records the change', async () => {
    idp.setAccount('alice', { email: 'alice@example.com', groups: ['engineering'] });
    const res = await exchange(await idp.obtainIdToken('alice'));
    expect(res.body.user).toEqual({ subject: 'user:alice@example.com', role: 'user', groups: ['engineering'] });
    const [updated] = (await admin()('GET', '/v1/audit?kind=user.updated')).body.events;
    expect(updated).toMatchObject({ target: 'user/alice@example.com', details: { from: { role: 'reviewer', groups: ['dba', 'engineering'] }, to: { role: 'user', groups: ['engineering'] } } });
    expect((await admin()('GET', '/v1/users')).body.users.filter((u: { name: string }) => u.name === 'alice@example.com')).toHaveLength(1);
  });

  it('refuses a person whose e-mail the issuer has not verified', async () => {
    expect(await exchange(await idp.obtainIdToken('eve'))).toMatchObject({
      status: 401,
      body: { message: 'the identity provider has not verified the e-mail address "eve@example.com", so it cannot name an airlock user' },
    });
    expect(await lastRefusal()).toMatchObject({ details: { reason: 'unusable_identity', credential: 'id-token' } });
  });

  describe('refuses forged and misused ID tokens', () => {
    let genuine: string;
    let claims: JWTPayload;
    beforeAll(async () => {
      genuine = await idp.obtainIdToken('pat');
      claims = decodeJwt(genuine);
    });
    const now = () => Math.floor(clock.now().getTime() / 1000);

    const cases: Array<[string, () => Promise<string>, string, RegExp]> = [
      ['alg none', async () => `${encode({ alg: 'none', kid: 'x' })}.${encode(claims)}.`, 'algorithm_not_allowed', /^the ID token is signed with "none"; this control plane accepts only RS256, PS256, ES256, EdDSA/],
      ['HS256 signed with the issuer\'s public key as the secret', async () =>
        new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: idp.publicJwk.kid }).sign(new TextEncoder().encode(JSON.stringify(idp.publicJwk))),
        'algorithm_not_allowed', /^the ID token is signed with "HS256"/],
      ['an unknown key id (a key the issuer does not publish)', async () => {
        const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'rogue' }).sign(privateKey);
      }, 'unknown_key', /unknown key id/],
      ['a tampered payload (groups raised)', async () => {
        const [header, , signature] = genuine.split('.');
        return `${header}.${encode({ ...claims, sub: 'someone-else' })}.${signature}`;
      }, 'bad_signature', /signature does not match its content/],
      ['a wrong audience', () => idp.signWithIssuerKey({ ...claims, aud: 'another-client' }), 'wrong_audience', /meant for "another-client", not for airlock-cli/],
      ['a wrong issuer', () => idp.signWithIssuerKey({ ...claims, iss: 'https://evil.example.com' }), 'wrong_issuer', /issued by "https:\/\/evil\.example\.com", not by the configured issuer/],
      ['an expired token', () => idp.signWithIssuerKey({ ...claims, iat: now() - 7200, exp: now() - 3600 }), 'expired', /^the ID token expired at /],
      ['a not-yet-valid token', () => idp.signWithIssuerKey({ ...claims, nbf: now() + 3600, exp: now() + 7200 }), 'not_yet_valid', /^the ID token is not valid before /],
      ['several audiences, not issued to airlock', () => idp.signWithIssuerKey({ ...claims, aud: [idp.clientId, 'other'], azp: 'other' }), 'wrong_audience', /issued to "other", not to the airlock client/],
      ['a session token of this control plane sent as an ID token', async () => (await exchange(await idp.obtainIdToken('pat'))).body.accessToken, 'unknown_key', /a key the identity provider does not publish/],
    ];

    it.each(cases)('%s', async (_name, forge, reason, message) => {
      const forged = await forge();
      const res = await exchange(forged);
      expect(res.status).toBe(401);
      expect(res.body.message).toMatch(message);
      const event = await lastRefusal();
      expect(event).toMatchObject({ details: { reason, credential: 'id-token' } });
      expect(JSON.stringify(event)).not.toContain(forged);
    });

    it('kept serving genuine logins', async () => {
      expect((await exchange(genuine)).status).toBe(200);
    });
  });

  describe('refresh tokens', () => {
    it('rotate: each is used once, and the next session token carries the current role', async () => {
      const login = (await exchange(await idp.obtainIdToken('pat'))).body;
      clock.advance(16 * MINUTE);
      expect((await apiClient(cp.url, login.accessToken)('GET', '/v1/whoami')).status).toBe(401);
      const refreshed = await anonymous()('POST', '/v1/auth/refresh', { refreshToken: login.refreshToken });
      expect(refreshed).toMatchObject({ status: 200, body: { user: { subject: 'user:pat@example.com', role: 'admin' }, refreshExpiresAt: login.refreshExpiresAt } });
      expect(refreshed.body.refreshToken).not.toBe(login.refreshToken);
      expect((await apiClient(cp.url, refreshed.body.accessToken)('GET', '/v1/whoami')).status).toBe(200);
      clock.advance(-16 * MINUTE); // back to the issuer's time, whose tokens the next tests use
    });

    it('a refresh token used twice ends the whole login (someone else has a copy)', async () => {
      const login = (await exchange(await idp.obtainIdToken('pat'))).body;
      const first = await anonymous()('POST', '/v1/auth/refresh', { refreshToken: login.refreshToken });
      expect(first.status).toBe(200);
      const replay = await anonymous()('POST', '/v1/auth/refresh', { refreshToken: login.refreshToken });
      expect(replay).toMatchObject({
        status: 401,
        body: { message: 'this refresh token was already used, so a copy of it exists elsewhere: the login was ended to be safe; run airlock login' },
      });
      expect(await lastRefusal()).toMatchObject({ details: { reason: 'refresh_reused', credential: 'refresh-token', tokenPrefix: login.refreshToken.slice(0, 'alk_refresh_'.length + 8) } });
      // The legitimate holder's newer tokens die with the login.
      expect((await apiClient(cp.url, first.body.accessToken)('GET', '/v1/whoami')).status).toBe(401);
      expect((await anonymous()('POST', '/v1/auth/refresh', { refreshToken: first.body.refreshToken })).body.message).toMatch(/^this login was ended \(a refresh token was used twice\)/);
    });

    it('refuses a made-up refresh token and a login past its lifetime', async () => {
      expect(await anonymous()('POST', '/v1/auth/refresh', { refreshToken: 'alk_refresh_0000000000000000000000000000000' })).toMatchObject({
        status: 401,
        body: { message: 'the refresh token is not one this control plane issued; run airlock login' },
      });
      const login = (await exchange(await idp.obtainIdToken('pat'))).body;
      clock.advance(12 * 60 * MINUTE + MINUTE);
      expect((await anonymous()('POST', '/v1/auth/refresh', { refreshToken: login.refreshToken })).body.message).toMatch(/^this login expired at /);
      clock.advance(-(12 * 60 * MINUTE + MINUTE));
    });

    it('logout ends the login: its refresh and session tokens stop working', async () => {
      const login = (await exchange(await idp.obtainIdToken('pat'))).body;
      expect((await anonymous()('POST', '/v1/auth/logout', { refreshToken: login.refreshToken })).status).toBe(204);
      expect((await apiClient(cp.url, login.accessToken)('GET', '/v1/whoami')).status).toBe(401);
      expect((await anonymous()('POST', '/v1/auth/refresh', { refreshToken: login.refreshToken })).status).toBe(401);
      const [ended] = (await admin()('GET', '/v1/audit?kind=login.ended&limit=1')).body.events;
      expect(ended).toMatchObject({ actor: 'user:pat@example.com', details: { reason: 'logged out' } });
    });
  });

  it('deleting a user ends their logins at once', async () => {
    const login = (await exchange(await idp.obtainIdToken('alice'))).body;
    expect((await admin()('DELETE', '/v1/users/alice@example.com')).status).toBe(204);
    expect((await apiClient(cp.url, login.accessToken)('GET', '/v1/whoami')).status).toBe(401);
    expect((await anonymous()('POST', '/v1/auth/refresh', { refreshToken: login.refreshToken })).status).toBe(401);
    // Logging in again provisions a new user for the same person.
    expect(await exchange(await idp.obtainIdToken('alice'))).toMatchObject({ status: 200, body: { user: { subject: 'user:alice@example.com' } } });
  });
});

function encode(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}
