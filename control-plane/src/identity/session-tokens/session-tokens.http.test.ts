/**
 * Session tokens against forgery: every token here is signed (or not) by the test itself with jose,
 * and each is refused with its own sentence and an `auth.refused` audit event naming the reason,
 * while the control plane keeps serving the genuine token.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { base64url, decodeJwt, type JWTPayload, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../testing/test-database.js';
import { apiClient, ManualClock, startTestControlPlane, TEST_ADMIN_TOKEN, type TestControlPlane } from '../../testing/test-control-plane.js';
import { LoginSessions } from '../login-sessions/login-sessions.js';
import { UsersRepository } from '../users.repository.js';
import { SESSION_TOKEN_TYPE } from './session-tokens.js';
import { SigningKeys } from './signing-keys.js';

const MINUTE = 60_000;

describe('session tokens', () => {
  let db: TestDatabase;
  let other: TestDatabase;
  let cp: TestControlPlane;
  let genuine: string;
  let refreshToken: string;
  const clock = new ManualClock();

  /** The claims of a genuine token, to forge variations of. */
  let claims: JWTPayload;

  beforeAll(async () => {
    [db, other] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    // Forged tokens count as failed attempts; this file makes more than the default allowance.
    cp = await startTestControlPlane({ databaseUrl: db.url, bootstrapToken: TEST_ADMIN_TOKEN, identity: { authFailureBurst: '100' } }, clock);
    const admin = apiClient(cp.url, TEST_ADMIN_TOKEN);
    expect((await admin('POST', '/v1/users', { name: 'erin', groups: ['engineers'] })).status).toBe(201);
    const erin = await cp.app.get(UsersRepository).findLiveByName('erin');
    const login = await cp.app.get(LoginSessions).start(erin!, 'oidc-device', '127.0.0.1');
    genuine = login.accessToken;
    refreshToken = login.refreshToken;
    claims = decodeJwt(genuine);
  });
  afterAll(async () => {
    await cp?.close();
    await Promise.all([db?.drop(), other?.drop()]);
  });

  const whoami = (token: string) => apiClient(cp.url, token)('GET', '/v1/whoami');

  async function ownKey() {
    return cp.app.get(SigningKeys).signingKey();
  }

  /** Signs `payload` with this control plane's own key (so only the claims are wrong). */
  async function signedByUs(payload: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
    const { kid, privateKey } = await ownKey();
    return new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA', kid, typ: SESSION_TOKEN_TYPE, ...header }).sign(privateKey);
  }

  async function lastRefusal(): Promise<Record<string, unknown>> {
    const res = await apiClient(cp.url, TEST_ADMIN_TOKEN)('GET', '/v1/audit?kind=auth.refused&limit=1');
    return res.body.events[0];
  }

  it('accepts the genuine token: EdDSA, this control plane as issuer and audience, short-lived', async () => {
    expect(await whoami(genuine)).toMatchObject({
      status: 200,
      body: { subject: 'user:erin', role: 'user', groups: ['engineers'], credential: 'session-token', devOnly: false, expiresAt: new Date(clock.now().getTime() + 15 * MINUTE).toISOString() },
    });
    expect(claims).toMatchObject({ iss: cp.publicUrl, aud: cp.publicUrl, sub: 'user:erin', role: 'user' });
    expect(claims.exp! - claims.iat!).toBe(15 * 60);
  });

  const now = () => Math.floor(clock.now().getTime() / 1000);
  const cases: Array<[string, () => Promise<string>, string, RegExp | string]> = [
    ['alg none', async () => `${encode({ alg: 'none', typ: SESSION_TOKEN_TYPE, kid: (await ownKey()).kid })}.${encode(claims)}.`, 'algorithm_not_allowed',
      'the session token names algorithm "none"; this control plane signs and accepts only EdDSA'],
    ['HS256 with the public key as the HMAC secret', async () => {
      const { kid } = await ownKey();
      const publicPem = await publicPemOfOwnKey();
      return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid, typ: SESSION_TOKEN_TYPE }).sign(new TextEncoder().encode(publicPem));
    }, 'algorithm_not_allowed', 'the session token names algorithm "HS256"; this control plane signs and accepts only EdDSA'],
    ['an unknown key id', () => signedByUs(claims, { kid: 'no-such-key' }), 'unknown_key', /signed with a key this control plane does not know \(kid "no-such-key"\)/],
    ['a tampered payload (role raised to admin)', async () => {
      const [header, , signature] = genuine.split('.');
      return `${header}.${encode({ ...claims, role: 'admin', sub: 'user:ada' })}.${signature}`;
    }, 'bad_signature', 'the session token\'s signature does not match its content: it was altered or forged'],
    ['a wrong audience', () => signedByUs({ ...claims, aud: 'https://airlock.other.example' }), 'wrong_audience',
      /meant for "https:\/\/airlock\.other\.example", not for this control plane/],
    ['a wrong issuer', () => signedByUs({ ...claims, iss: 'https://airlock.other.example' }), 'wrong_issuer',
      /issued by "https:\/\/airlock\.other\.example", not by this control plane/],
    ['an expired token', () => signedByUs({ ...claims, iat: now() - 3600, nbf: now() - 3600, exp: now() - 60 }), 'expired', /^the session token expired at /],
    ['a not-yet-valid token', () => signedByUs({ ...claims, nbf: now() + 600, exp: now() + 1200 }), 'not_yet_valid', /^the session token is not valid before /],
    ['an ID-token-shaped JWT signed with RS256', async () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'idp' }).sign(privateKey);
    }, 'algorithm_not_allowed', /exchanged with `airlock login`, not sent as a bearer token/],
    ['garbage that looks like a JWT', async () => 'eyJhbGciOi.bm90LWpzb24.x', 'malformed', 'the session token is not a well-formed JWT'],
  ];

  async function publicPemOfOwnKey(): Promise<string> {
    const { publicJwk } = await cp.app.get(SigningKeys).signingKey();
    return createPublicKey({ key: publicJwk as never, format: 'jwk' }).export({ format: 'pem', type: 'spki' }).toString();
  }

  it.each(cases)('refuses %s with a precise 401 and an audit event', async (_name, forge, reason, message) => {
    const forged = await forge();
    const res = await whoami(forged);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(res.body.error).toBe('unauthenticated');
    if (typeof message === 'string') expect(res.body.message).toBe(message);
    else expect(res.body.message).toMatch(message);
    const event = await lastRefusal();
    expect(event).toMatchObject({ kind: 'auth.refused', details: { reason, credential: 'session-token', message: res.body.message } });
    expect(JSON.stringify(event)).not.toContain(forged);
  });

  it('refuses a token from another control plane (its own key), naming why', async () => {
    const elsewhere = await startTestControlPlane({ databaseUrl: other.url, bootstrapToken: TEST_ADMIN_TOKEN }, clock);
    try {
      expect((await apiClient(elsewhere.url, TEST_ADMIN_TOKEN)('POST', '/v1/users', { name: 'erin' })).status).toBe(201);
      const theirErin = await elsewhere.app.get(UsersRepository).findLiveByName('erin');
      const theirs = (await elsewhere.app.get(LoginSessions).start(theirErin!, 'oidc-pkce', '127.0.0.1')).accessToken;
      expect((await apiClient(elsewhere.url, theirs)('GET', '/v1/whoami')).status).toBe(200);
      const res = await whoami(theirs);
      expect(res).toMatchObject({ status: 401, body: { message: expect.stringMatching(/it comes from another control plane/) } });
      expect(await lastRefusal()).toMatchObject({ details: { reason: 'unknown_key' } });
    } finally {
      await elsewhere.close();
    }
  });

  it('kept serving the genuine token through all of that', async () => {
    expect((await whoami(genuine)).status).toBe(200);
  });

  it('stops accepting the token once its login is ended, and once it expires', async () => {
    const refreshed = await apiClient(cp.url)('POST', '/v1/auth/refresh', { refreshToken });
    expect(refreshed.status).toBe(200);
    const fresh = refreshed.body.accessToken as string;
    clock.advance(16 * MINUTE);
    expect(await whoami(fresh)).toMatchObject({ status: 401, body: { message: expect.stringMatching(/^the session token expired at /) } });
    const again = await apiClient(cp.url)('POST', '/v1/auth/refresh', { refreshToken: refreshed.body.refreshToken });
    expect(again.status).toBe(200);
    expect((await whoami(again.body.accessToken)).status).toBe(200);
    expect((await apiClient(cp.url)('POST', '/v1/auth/logout', { refreshToken: again.body.refreshToken })).status).toBe(204);
    expect(await whoami(again.body.accessToken)).toMatchObject({
      status: 401,
      body: { message: 'the login this session token belongs to has ended (logged out, expired, revoked, or its user was deleted); run airlock login' },
    });
    expect(await lastRefusal()).toMatchObject({ details: { reason: 'session_ended' } });
  });
});

function encode(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}
