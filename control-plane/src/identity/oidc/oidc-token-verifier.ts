import { Inject, Injectable } from '@nestjs/common';
import { createRemoteJWKSet, decodeProtectedHeader, errors, type JWTPayload, jwtVerify, type ProtectedHeaderParameters } from 'jose';
import { CLOCK, type Clock } from '../../common/clock.js';
import { CONFIG } from '../../common/config.token.js';
import { DomainError } from '../../common/errors.js';
import type { ControlPlaneConfig } from '../../config/config.js';
import { AuthenticationRefusedError, type RefusalReason } from '../auth-errors.js';
import type { OidcConfig } from '../identity-config.js';

/** Clock skew tolerated between the issuer and the control plane for exp, nbf and iat. */
export const ID_TOKEN_CLOCK_TOLERANCE_SECONDS = 30;
const DISCOVERY_TTL_MS = 10 * 60_000;
const FETCH_TIMEOUT_MS = 5_000;

/** The issuer could not be asked for its keys: not the caller's fault, so 502 rather than 401. */
export class IdentityProviderUnavailableError extends DomainError {
  override readonly name = 'IdentityProviderUnavailableError';
  readonly code = 'identity_provider_unavailable';
  readonly httpStatus = 502;
}

type Jwks = ReturnType<typeof createRemoteJWKSet>;

/**
 * Verifies ID tokens from the configured issuer against its JWKS (found by OIDC discovery, cached,
 * refetched when an unknown key id shows up — jose rate-limits that): signature with an allowed
 * asymmetric algorithm only, issuer, audience (and `azp` when there are several), expiry and
 * not-before, and the nonce the CLI sent for authorization code logins.
 */
@Injectable()
export class OidcTokenVerifier {
  private jwks: { keys: Jwks; at: number } | undefined;

  constructor(
    @Inject(CONFIG) private readonly config: ControlPlaneConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  get oidc(): OidcConfig | undefined {
    return this.config.identity.oidc;
  }

  async verify(idToken: string, nonce: string | undefined): Promise<JWTPayload> {
    const oidc = this.oidc;
    if (!oidc) throw refused('not_configured', 'this control plane has no identity provider configured (AIRLOCK_OIDC_ISSUER); log in with a token');
    const header = headerOf(idToken);
    if (typeof header.alg !== 'string' || !oidc.allowedAlgorithms.includes(header.alg)) {
      throw refused('algorithm_not_allowed', `the ID token is signed with "${String(header.alg)}"; this control plane accepts only ${oidc.allowedAlgorithms.join(', ')} from the identity provider`);
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, await this.keys(oidc), {
        algorithms: [...oidc.allowedAlgorithms],
        issuer: oidc.issuer,
        audience: oidc.audience,
        currentDate: this.clock.now(),
        clockTolerance: ID_TOKEN_CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['sub', 'exp', 'iat'],
      }));
    } catch (error) {
      throw refusalFor(error, oidc);
    }
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (audiences.length > 1 && payload.azp !== oidc.clientId) {
      throw refused('wrong_audience', `the ID token was issued to ${JSON.stringify(payload.azp ?? null)}, not to the airlock client ${oidc.clientId}`);
    }
    if (nonce !== undefined && payload.nonce !== nonce) throw refused('nonce_mismatch', 'the ID token does not carry the nonce of this login: it belongs to another login attempt');
    return payload;
  }

  private async keys(oidc: OidcConfig): Promise<Jwks> {
    const now = Date.now();
    if (this.jwks && now - this.jwks.at < DISCOVERY_TTL_MS) return this.jwks.keys;
    const jwksUri = await discoverJwksUri(oidc.issuer);
    this.jwks = { keys: createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: FETCH_TIMEOUT_MS }), at: now };
    return this.jwks.keys;
  }
}

async function discoverJwksUri(issuer: string): Promise<string> {
  const url = `${issuer}/.well-known/openid-configuration`;
  let document: { issuer?: unknown; jwks_uri?: unknown };
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    document = (await response.json()) as typeof document;
  } catch (error) {
    throw new IdentityProviderUnavailableError(`cannot read the identity provider's discovery document at ${url}: ${(error as Error).message}`);
  }
  // OIDC Discovery §4.3: the document must name the very issuer we asked.
  if (document.issuer !== issuer) throw new IdentityProviderUnavailableError(`the discovery document at ${url} names issuer ${JSON.stringify(document.issuer)}, not ${issuer}`);
  if (typeof document.jwks_uri !== 'string') throw new IdentityProviderUnavailableError(`the discovery document at ${url} has no jwks_uri`);
  return document.jwks_uri;
}

function headerOf(token: string): ProtectedHeaderParameters {
  try {
    return decodeProtectedHeader(token);
  } catch {
    throw refused('malformed', 'the ID token is not a well-formed JWT');
  }
}

function refusalFor(error: unknown, oidc: OidcConfig): Error {
  if (error instanceof errors.JWTExpired) return refused('expired', `the ID token expired at ${isoOf(error.payload.exp)}; log in again`);
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return refused('wrong_issuer', `the ID token was issued by ${JSON.stringify(error.payload.iss ?? null)}, not by the configured issuer ${oidc.issuer}`);
    if (error.claim === 'aud') return refused('wrong_audience', `the ID token is meant for ${JSON.stringify(error.payload.aud ?? null)}, not for ${oidc.audience}`);
    if (error.claim === 'nbf') return refused('not_yet_valid', `the ID token is not valid before ${isoOf(error.payload.nbf)}`);
    if (error.claim === 'iat') return refused('not_yet_valid', `the ID token claims to be issued in the future (${isoOf(error.payload.iat)})`);
    if (error.reason === 'missing') return refused('missing_claim', `the ID token lacks the "${error.claim}" claim`);
    return refused('malformed', `the ID token's "${error.claim}" claim is not valid`);
  }
  if (error instanceof errors.JWKSNoMatchingKey) return refused('unknown_key', 'the ID token was signed with a key the identity provider does not publish (unknown key id)');
  if (error instanceof errors.JWSSignatureVerificationFailed) return refused('bad_signature', 'the ID token\'s signature does not match its content: it was altered or forged');
  if (error instanceof errors.JOSEAlgNotAllowed) return refused('algorithm_not_allowed', `the ID token's algorithm is not one of ${oidc.allowedAlgorithms.join(', ')}`);
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || (error instanceof Error && /fetch|ECONNREFUSED|timeout/i.test(error.message))) {
    return new IdentityProviderUnavailableError(`cannot fetch the identity provider's signing keys: ${error.message}`);
  }
  if (error instanceof errors.JOSEError) return refused('malformed', `the ID token is not valid: ${error.message}`);
  return error instanceof Error ? error : new Error(String(error));
}

function isoOf(seconds: unknown): string {
  return typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : 'an unknown time';
}

function refused(reason: RefusalReason, message: string): AuthenticationRefusedError {
  return new AuthenticationRefusedError(message, reason, 'id-token');
}
