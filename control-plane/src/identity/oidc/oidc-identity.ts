import type { JWTPayload } from 'jose';
import { GROUP_NAME_PATTERN, USER_NAME_PATTERN, USER_NAME_RULE } from '../../common/names.js';
import type { OidcConfig } from '../identity-config.js';
import type { Role } from '../roles.js';

/** A person as the issuer's ID token describes them, in airlock's terms. */
export interface OidcIdentity {
  /** The issuer's `sub`: how a returning person is recognized, whatever their name becomes. */
  readonly externalSubject: string;
  /** The airlock user name (subject `user:NAME`). */
  readonly name: string;
  readonly email: string | null;
  readonly groups: string[];
  readonly role: Role;
}

export type IdentityResult = { readonly ok: true; readonly identity: OidcIdentity } | { readonly ok: false; readonly problem: string };

/**
 * Maps verified ID token claims to an airlock identity (pure): the name from the configured claim
 * (an e-mail must be verified), groups from the configured claim normalized to airlock group names,
 * and the role from the groups the configuration names for admins, reviewers and auditors.
 */
export function identityFromClaims(claims: JWTPayload, config: OidcConfig): IdentityResult {
  if (typeof claims.sub !== 'string' || claims.sub === '') return { ok: false, problem: 'the ID token has no subject (sub)' };
  const named = nameFrom(claims, config.usernameClaim);
  if (!named.ok) return named;
  const groups = normalizeGroups(valueAt(claims, config.groupsClaim));
  const email = typeof claims.email === 'string' && claims.email_verified !== false ? claims.email.toLowerCase() : null;
  return { ok: true, identity: { externalSubject: claims.sub, name: named.name, email, groups, role: roleOf(groups, config.roleGroups) } };
}

function nameFrom(claims: JWTPayload, claim: string): { ok: true; name: string } | { ok: false; problem: string } {
  const candidates = claim === 'preferred_username' ? [claim] : [claim, 'preferred_username'];
  for (const candidate of candidates) {
    const value = valueAt(claims, candidate);
    if (typeof value !== 'string' || value === '') continue;
    if (candidate === 'email' && claims.email_verified === false) {
      return { ok: false, problem: `the identity provider has not verified the e-mail address "${value}", so it cannot name an airlock user` };
    }
    const name = value.trim().toLowerCase();
    if (!USER_NAME_PATTERN.test(name)) return { ok: false, problem: `the ID token's ${candidate} "${value}" cannot be an airlock user name: it ${USER_NAME_RULE}` };
    return { ok: true, name };
  }
  return { ok: false, problem: `the ID token has no ${candidates.join(' or ')} claim to name the airlock user (set AIRLOCK_OIDC_USERNAME_CLAIM)` };
}

/**
 * IdP groups in airlock's alphabet: lower case, a leading '/' (Keycloak paths) dropped, other
 * characters replaced by '-'. Values that leave nothing usable are skipped, not guessed at.
 */
export function normalizeGroups(value: unknown): string[] {
  const raw = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/[\s,]+/) : [];
  const groups = new Set<string>();
  for (const item of raw) {
    if (typeof item !== 'string') continue;
    const group = item
      .trim()
      .toLowerCase()
      .replace(/^\/+/, '')
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[-._]+|[-._]+$/g, '')
      .slice(0, 63);
    if (GROUP_NAME_PATTERN.test(group)) groups.add(group);
  }
  return [...groups].sort();
}

function roleOf(groups: readonly string[], roleGroups: OidcConfig['roleGroups']): Role {
  const member = (names: readonly string[]) => names.some((name) => groups.includes(name));
  if (member(roleGroups.admin)) return 'admin';
  if (member(roleGroups.reviewer)) return 'reviewer';
  if (member(roleGroups.auditor)) return 'auditor';
  return 'user';
}

/** A claim by name, or by a dotted path into nested objects (`realm_access.roles`). */
function valueAt(claims: JWTPayload, path: string): unknown {
  if (path in claims) return claims[path];
  let value: unknown = claims;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}
