import path from 'node:path';
import { parseDuration } from '../common/durations.js';
import { GROUP_NAME_PATTERN } from '../common/names.js';
import { ConfigError } from '../config/config.js';

/** The identity provider people log in with (OpenID Connect). */
export interface OidcConfig {
  /** The issuer URL, exactly as it appears in the tokens' `iss`. */
  readonly issuer: string;
  /** The client the CLI uses with the issuer (a public client: device flow and PKCE). */
  readonly clientId: string;
  /** What the ID token's `aud` must contain (default: the client id). */
  readonly audience: string;
  /** The claim holding the person's groups; a dotted path reaches into objects (`realm_access.roles`). */
  readonly groupsClaim: string;
  /** The claim that becomes the airlock user name (default `email`, then `preferred_username`). */
  readonly usernameClaim: string;
  /** Signature algorithms accepted from the issuer; symmetric ones and `none` are never accepted. */
  readonly allowedAlgorithms: readonly string[];
  /** What the CLI asks the issuer for. */
  readonly scopes: readonly string[];
  /** IdP groups (after normalization) that make a person an admin, a reviewer or an auditor. */
  readonly roleGroups: { readonly admin: readonly string[]; readonly reviewer: readonly string[]; readonly auditor: readonly string[] };
}

/** Per-source limits on authentication (kept in memory, per control-plane process). */
export interface AuthRateLimits {
  /** Failed authentications a source may make in a burst, and how fast that allowance refills. */
  readonly failureBurst: number;
  readonly failuresPerMinute: number;
  /** Calls to the login and token endpoints a source may make in a burst, and the refill rate. */
  readonly loginBurst: number;
  readonly loginsPerMinute: number;
}

export interface IdentityConfig {
  readonly oidc: OidcConfig | undefined;
  /** Lifetime of the session tokens (EdDSA JWTs) the control plane issues. */
  readonly sessionTokenTtlSeconds: number;
  /** How long after a login refresh tokens keep working; then the person logs in again. */
  readonly loginSessionTtlSeconds: number;
  /** A PKCS#8 PEM Ed25519 key to sign session tokens with; when unset one is generated and kept in the database. */
  readonly signingKeyFile: string | undefined;
  /** `airlock dev`: the bootstrap token belongs to a local admin user marked dev-only. Loopback only. */
  readonly devMode: boolean;
  readonly rateLimits: AuthRateLimits;
}

/** Raw values, as the environment (or a test) gives them. */
export interface IdentityConfigInput {
  oidcIssuer?: string;
  oidcClientId?: string;
  oidcAudience?: string;
  oidcGroupsClaim?: string;
  oidcUsernameClaim?: string;
  oidcAllowedAlgs?: string;
  oidcScopes?: string;
  oidcAdminGroups?: string;
  oidcReviewerGroups?: string;
  oidcAuditorGroups?: string;
  sessionTokenTtl?: string;
  loginSessionTtl?: string;
  signingKeyFile?: string;
  devMode?: string;
  authFailureBurst?: string;
  authFailuresPerMinute?: string;
  loginBurst?: string;
  loginsPerMinute?: string;
}

export function identityInputFromEnv(env: NodeJS.ProcessEnv): IdentityConfigInput {
  return withoutEmpty({
    oidcIssuer: env.AIRLOCK_OIDC_ISSUER,
    oidcClientId: env.AIRLOCK_OIDC_CLIENT_ID,
    oidcAudience: env.AIRLOCK_OIDC_AUDIENCE,
    oidcGroupsClaim: env.AIRLOCK_OIDC_GROUPS_CLAIM,
    oidcUsernameClaim: env.AIRLOCK_OIDC_USERNAME_CLAIM,
    oidcAllowedAlgs: env.AIRLOCK_OIDC_ALLOWED_ALGS,
    oidcScopes: env.AIRLOCK_OIDC_SCOPES,
    oidcAdminGroups: env.AIRLOCK_OIDC_ADMIN_GROUPS,
    oidcReviewerGroups: env.AIRLOCK_OIDC_REVIEWER_GROUPS,
    oidcAuditorGroups: env.AIRLOCK_OIDC_AUDITOR_GROUPS,
    sessionTokenTtl: env.AIRLOCK_SESSION_TOKEN_TTL,
    loginSessionTtl: env.AIRLOCK_LOGIN_SESSION_TTL,
    signingKeyFile: env.AIRLOCK_SESSION_SIGNING_KEY_FILE,
    devMode: env.AIRLOCK_DEV_MODE,
    authFailureBurst: env.AIRLOCK_AUTH_FAILURE_BURST,
    authFailuresPerMinute: env.AIRLOCK_AUTH_FAILURES_PER_MINUTE,
    loginBurst: env.AIRLOCK_LOGIN_BURST,
    loginsPerMinute: env.AIRLOCK_LOGINS_PER_MINUTE,
  });
}

/** Asymmetric algorithms only: with HS* anyone holding the client secret could mint tokens, and `none` is no signature. */
const ACCEPTABLE_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const DEFAULT_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

export function parseIdentityConfig(input: IdentityConfigInput, host: string): IdentityConfig {
  const devMode = parseFlag('AIRLOCK_DEV_MODE', input.devMode);
  if (devMode && !LOOPBACK_HOSTS.has(host)) {
    throw new ConfigError(`AIRLOCK_DEV_MODE is for a local airlock only: AIRLOCK_HOST must be a loopback address, not "${host}"`);
  }
  return Object.freeze({
    oidc: parseOidc(input),
    sessionTokenTtlSeconds: parseTtl('AIRLOCK_SESSION_TOKEN_TTL', input.sessionTokenTtl, 15 * 60),
    loginSessionTtlSeconds: parseTtl('AIRLOCK_LOGIN_SESSION_TTL', input.loginSessionTtl, 12 * 3600),
    signingKeyFile: input.signingKeyFile === undefined ? undefined : path.resolve(input.signingKeyFile),
    devMode,
    rateLimits: Object.freeze({
      failureBurst: parseCount('AIRLOCK_AUTH_FAILURE_BURST', input.authFailureBurst, 20),
      failuresPerMinute: parseCount('AIRLOCK_AUTH_FAILURES_PER_MINUTE', input.authFailuresPerMinute, 10),
      loginBurst: parseCount('AIRLOCK_LOGIN_BURST', input.loginBurst, 20),
      loginsPerMinute: parseCount('AIRLOCK_LOGINS_PER_MINUTE', input.loginsPerMinute, 20),
    }),
  });
}

function parseOidc(input: IdentityConfigInput): OidcConfig | undefined {
  if (input.oidcIssuer === undefined) {
    const stray = Object.entries(input).find(([key]) => key.startsWith('oidc'));
    if (stray) throw new ConfigError(`${envName(stray[0])} is set but AIRLOCK_OIDC_ISSUER is not: set the issuer to enable OIDC logins`);
    return undefined;
  }
  const issuer = parseIssuer(input.oidcIssuer);
  if (input.oidcClientId === undefined) throw new ConfigError('AIRLOCK_OIDC_CLIENT_ID must be set with AIRLOCK_OIDC_ISSUER: it is the client the CLI logs in with');
  const allowedAlgorithms = list(input.oidcAllowedAlgs) ?? DEFAULT_ALGORITHMS;
  for (const alg of allowedAlgorithms) {
    if (!ACCEPTABLE_ALGORITHMS.includes(alg)) {
      throw new ConfigError(`AIRLOCK_OIDC_ALLOWED_ALGS may hold only asymmetric signature algorithms (${ACCEPTABLE_ALGORITHMS.join(', ')}), not "${alg}"`);
    }
  }
  if (allowedAlgorithms.length === 0) throw new ConfigError('AIRLOCK_OIDC_ALLOWED_ALGS must name at least one algorithm');
  const groupsOf = (name: string, value: string | undefined) => {
    const groups = list(value) ?? [];
    for (const group of groups) {
      if (!GROUP_NAME_PATTERN.test(group)) throw new ConfigError(`${name}: "${group}" is not a group name as airlock writes them (lowercase letters, digits, '.', '_' or '-')`);
    }
    return Object.freeze(groups);
  };
  return Object.freeze({
    issuer,
    clientId: input.oidcClientId,
    audience: input.oidcAudience ?? input.oidcClientId,
    groupsClaim: input.oidcGroupsClaim ?? 'groups',
    usernameClaim: input.oidcUsernameClaim ?? 'email',
    allowedAlgorithms: Object.freeze(allowedAlgorithms),
    scopes: Object.freeze(list(input.oidcScopes, /[\s,]+/) ?? ['openid', 'email', 'profile', 'groups']),
    roleGroups: Object.freeze({
      admin: groupsOf('AIRLOCK_OIDC_ADMIN_GROUPS', input.oidcAdminGroups),
      reviewer: groupsOf('AIRLOCK_OIDC_REVIEWER_GROUPS', input.oidcReviewerGroups),
      auditor: groupsOf('AIRLOCK_OIDC_AUDITOR_GROUPS', input.oidcAuditorGroups),
    }),
  });
}

function parseIssuer(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`AIRLOCK_OIDC_ISSUER is not a valid URL: "${value}"`);
  }
  // Plain http only on loopback (tests, a local IdP): tokens and keys must not travel in clear.
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname.replace(/^\[|\]$/g, '')))) {
    throw new ConfigError(`AIRLOCK_OIDC_ISSUER must be an https:// URL (http:// only on loopback), got "${value}"`);
  }
  return value.replace(/\/+$/, '');
}

function parseTtl(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const seconds = parseDuration(value);
  if (seconds === undefined) throw new ConfigError(`${name} must be a duration such as 15m, 1h or 90s, got "${value}"`);
  return seconds;
}

function parseCount(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1 || count > 1_000_000) throw new ConfigError(`${name} must be a whole number from 1 to 1000000, got "${value}"`);
  return count;
}

function parseFlag(name: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(`${name} must be true or false, got "${value}"`);
}

function list(value: string | undefined, separator = /\s*,\s*/): string[] | undefined {
  if (value === undefined) return undefined;
  return value.split(separator).map((item) => item.trim()).filter(Boolean);
}

function envName(key: string): string {
  return `AIRLOCK_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

function withoutEmpty<T extends object>(input: T): T {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined && v !== '')) as T;
}
