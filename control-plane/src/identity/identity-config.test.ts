import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';

describe('identity configuration from the environment', () => {
  it('has no identity provider by default, 15-minute session tokens and 12-hour logins', () => {
    expect(loadConfig({}).identity).toMatchObject({ oidc: undefined, sessionTokenTtlSeconds: 900, loginSessionTtlSeconds: 43_200, devMode: false, signingKeyFile: undefined });
  });

  it('reads the issuer, client, audience, claims, algorithms and role groups', () => {
    const { oidc } = loadConfig({
      AIRLOCK_OIDC_ISSUER: 'https://idp.example.com/realms/main/',
      AIRLOCK_OIDC_CLIENT_ID: 'airlock-cli',
      AIRLOCK_OIDC_GROUPS_CLAIM: 'realm_access.roles',
      AIRLOCK_OIDC_ALLOWED_ALGS: 'RS256, ES256',
      AIRLOCK_OIDC_ADMIN_GROUPS: 'platform',
      AIRLOCK_OIDC_REVIEWER_GROUPS: 'dba, sre',
      AIRLOCK_SESSION_TOKEN_TTL: '5m',
    }).identity;
    expect(oidc).toEqual({
      issuer: 'https://idp.example.com/realms/main',
      clientId: 'airlock-cli',
      audience: 'airlock-cli',
      groupsClaim: 'realm_access.roles',
      usernameClaim: 'email',
      allowedAlgorithms: ['RS256', 'ES256'],
      scopes: ['openid', 'email', 'profile', 'groups'],
      roleGroups: { admin: ['platform'], reviewer: ['dba', 'sre'], auditor: [] },
    });
  });

  it.each([
    [{ AIRLOCK_OIDC_ISSUER: 'https://idp.example.com', AIRLOCK_OIDC_CLIENT_ID: 'c', AIRLOCK_OIDC_ALLOWED_ALGS: 'RS256,HS256' }, /AIRLOCK_OIDC_ALLOWED_ALGS may hold only asymmetric signature algorithms .*, not "HS256"/],
    [{ AIRLOCK_OIDC_ISSUER: 'https://idp.example.com', AIRLOCK_OIDC_CLIENT_ID: 'c', AIRLOCK_OIDC_ALLOWED_ALGS: 'none' }, /not "none"/],
    [{ AIRLOCK_OIDC_ISSUER: 'http://idp.example.com', AIRLOCK_OIDC_CLIENT_ID: 'c' }, /must be an https:\/\/ URL \(http:\/\/ only on loopback\)/],
    [{ AIRLOCK_OIDC_ISSUER: 'https://idp.example.com' }, /AIRLOCK_OIDC_CLIENT_ID must be set with AIRLOCK_OIDC_ISSUER/],
    [{ AIRLOCK_OIDC_CLIENT_ID: 'c' }, /AIRLOCK_OIDC_CLIENT_ID is set but AIRLOCK_OIDC_ISSUER is not/],
    [{ AIRLOCK_SESSION_TOKEN_TTL: 'forever' }, /AIRLOCK_SESSION_TOKEN_TTL must be a duration such as 15m/],
    [{ AIRLOCK_DEV_MODE: 'true', AIRLOCK_HOST: '0.0.0.0' }, /AIRLOCK_DEV_MODE is for a local airlock only/],
    [{ AIRLOCK_AUTH_FAILURE_BURST: '0' }, /AIRLOCK_AUTH_FAILURE_BURST must be a whole number/],
  ])('fails fast on %o', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
