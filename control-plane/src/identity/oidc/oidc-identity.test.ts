import { describe, expect, it } from 'vitest';
import type { OidcConfig } from '../identity-config.js';
import { identityFromClaims, normalizeGroups } from './oidc-identity.js';

const CONFIG: OidcConfig = {
  issuer: 'https://idp.example.com',
  clientId: 'airlock-cli',
  audience: 'airlock-cli',
  groupsClaim: 'groups',
  usernameClaim: 'email',
  allowedAlgorithms: ['RS256'],
  scopes: ['openid'],
  roleGroups: { admin: ['platform'], reviewer: ['dba'], auditor: ['security'] },
};

describe('identityFromClaims', () => {
  it('names the user by verified e-mail, normalizes groups and picks the strongest role', () => {
    expect(identityFromClaims({ sub: 'u1', email: 'Alice@Example.com', email_verified: true, groups: ['/Engineering Team', 'DBA', 'dba', '???'] }, CONFIG)).toEqual({
      ok: true,
      identity: { externalSubject: 'u1', name: 'alice@example.com', email: 'alice@example.com', groups: ['dba', 'engineering-team'], role: 'reviewer' },
    });
    expect(identityFromClaims({ sub: 'u2', email: 'p@example.com', groups: ['dba', 'platform'] }, CONFIG)).toMatchObject({ identity: { role: 'admin' } });
    expect(identityFromClaims({ sub: 'u3', email: 'a@example.com', groups: ['security'] }, CONFIG)).toMatchObject({ identity: { role: 'auditor' } });
    expect(identityFromClaims({ sub: 'u4', email: 'u@example.com' }, CONFIG)).toMatchObject({ identity: { role: 'user', groups: [] } });
  });

  it('reads nested group claims and falls back to preferred_username', () => {
    const nested = { ...CONFIG, groupsClaim: 'realm_access.roles' };
    expect(identityFromClaims({ sub: 'k', preferred_username: 'kim', realm_access: { roles: ['dba'] } }, nested)).toMatchObject({ identity: { name: 'kim', groups: ['dba'], email: null } });
  });

  it('refuses an unverified e-mail, an unusable name and a missing subject', () => {
    expect(identityFromClaims({ sub: 'x', email: 'eve@example.com', email_verified: false }, CONFIG)).toEqual({
      ok: false,
      problem: 'the identity provider has not verified the e-mail address "eve@example.com", so it cannot name an airlock user',
    });
    expect(identityFromClaims({ sub: 'x', email: 'Bob Smith' }, CONFIG)).toMatchObject({ ok: false, problem: expect.stringContaining('"Bob Smith" cannot be an airlock user name') });
    expect(identityFromClaims({ email: 'a@example.com' }, CONFIG)).toEqual({ ok: false, problem: 'the ID token has no subject (sub)' });
    expect(identityFromClaims({ sub: 'x' }, CONFIG)).toMatchObject({ ok: false, problem: expect.stringContaining('no email or preferred_username claim') });
  });

  it('accepts space-separated group strings and skips what cannot be a group', () => {
    expect(normalizeGroups('ops  dev,qa')).toEqual(['dev', 'ops', 'qa']);
    expect(normalizeGroups([42, '', '---', { a: 1 }])).toEqual([]);
  });
});
