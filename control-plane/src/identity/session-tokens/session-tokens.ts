import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { decodeProtectedHeader, errors, jwtVerify, type ProtectedHeaderParameters, SignJWT } from 'jose';
import { CLOCK, type Clock } from '../../common/clock.js';
import { CONFIG } from '../../common/config.token.js';
import { ServerInfo } from '../../common/server-info.js';
import type { ControlPlaneConfig } from '../../config/config.js';
import { AuthenticationRefusedError, type RefusalReason } from '../auth-errors.js';
import type { Role } from '../roles.js';
import { SigningKeys } from './signing-keys.js';

/** The only algorithm a session token may name: the signing key is Ed25519. */
export const SESSION_TOKEN_ALGORITHM = 'EdDSA';
/** The JOSE `typ` of session tokens, so no other JWT (an ID token, say) can pass for one. */
export const SESSION_TOKEN_TYPE = 'airlock-session+jwt';

export interface SessionTokenSubject {
  /** `user:NAME`. */
  readonly subject: string;
  readonly loginSessionId: string;
  readonly role: Role;
  readonly groups: readonly string[];
}

export interface IssuedSessionToken {
  readonly token: string;
  readonly expiresAt: Date;
}

/** What a valid session token says; the login session it names must still be live (checked by the caller). */
export interface VerifiedSessionToken {
  readonly subject: string;
  readonly loginSessionId: string;
  readonly expiresAt: Date;
}

/**
 * Short-lived session tokens: EdDSA-signed JWTs whose issuer and audience are this control plane's
 * public URL. Verification refuses, each with its own reason, anything but EdDSA (`none`, HS256
 * with the public key as secret), an unknown key id (another control plane's token), a bad
 * signature, another issuer or audience, an expired or not-yet-valid token.
 */
@Injectable()
export class SessionTokens {
  constructor(
    private readonly keys: SigningKeys,
    private readonly server: ServerInfo,
    @Inject(CONFIG) private readonly config: ControlPlaneConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  get issuer(): string {
    return this.server.publicUrl;
  }

  async issue(who: SessionTokenSubject): Promise<IssuedSessionToken> {
    const { kid, privateKey } = await this.keys.signingKey();
    const now = Math.floor(this.clock.now().getTime() / 1000);
    const exp = now + this.config.identity.sessionTokenTtlSeconds;
    const token = await new SignJWT({ sid: who.loginSessionId, role: who.role, groups: [...who.groups] })
      .setProtectedHeader({ alg: SESSION_TOKEN_ALGORITHM, kid, typ: SESSION_TOKEN_TYPE })
      .setIssuer(this.issuer)
      .setAudience(this.issuer)
      .setSubject(who.subject)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(privateKey);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  async verify(token: string): Promise<VerifiedSessionToken> {
    const header = headerOf(token);
    if (header.alg !== SESSION_TOKEN_ALGORITHM) {
      throw refused('algorithm_not_allowed', `the session token names algorithm "${String(header.alg)}"; this control plane signs and accepts only ${SESSION_TOKEN_ALGORITHM}${header.alg?.startsWith('RS') || header.alg?.startsWith('ES') ? ' (an ID token from the identity provider is exchanged with `airlock login`, not sent as a bearer token)' : ''}`);
    }
    const key = header.kid === undefined ? undefined : await this.keys.verificationKey(header.kid);
    if (!key) {
      throw refused('unknown_key', `the session token was signed with a key this control plane does not know (kid ${JSON.stringify(header.kid ?? null)}): it comes from another control plane, or from before its key was replaced`);
    }
    try {
      const { payload, protectedHeader } = await jwtVerify(token, key, {
        algorithms: [SESSION_TOKEN_ALGORITHM],
        issuer: this.issuer,
        audience: this.issuer,
        currentDate: this.clock.now(),
        requiredClaims: ['sub', 'sid', 'exp', 'nbf', 'iat'],
      });
      if (protectedHeader.typ !== SESSION_TOKEN_TYPE) throw refused('malformed', `the token is not an airlock session token (typ ${JSON.stringify(protectedHeader.typ ?? null)})`);
      if (typeof payload.sid !== 'string' || typeof payload.sub !== 'string') throw refused('missing_claim', 'the session token lacks its subject or login session');
      return { subject: payload.sub, loginSessionId: payload.sid, expiresAt: new Date(payload.exp! * 1000) };
    } catch (error) {
      throw error instanceof AuthenticationRefusedError ? error : refusalFor(error, this.issuer);
    }
  }
}

function headerOf(token: string): ProtectedHeaderParameters {
  try {
    return decodeProtectedHeader(token);
  } catch {
    throw refused('malformed', 'the session token is not a well-formed JWT');
  }
}

function refusalFor(error: unknown, issuer: string): AuthenticationRefusedError {
  if (error instanceof errors.JWTExpired) return refused('expired', `the session token expired at ${isoOf(error.payload.exp)}; the CLI refreshes it by itself, or run airlock login`);
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return refused('wrong_issuer', `the session token was issued by ${JSON.stringify(error.payload.iss ?? null)}, not by this control plane (${issuer})`);
    if (error.claim === 'aud') return refused('wrong_audience', `the session token is meant for ${JSON.stringify(error.payload.aud ?? null)}, not for this control plane (${issuer})`);
    if (error.claim === 'nbf') return refused('not_yet_valid', `the session token is not valid before ${isoOf(error.payload.nbf)}`);
    if (error.reason === 'missing') return refused('missing_claim', `the session token lacks the "${error.claim}" claim`);
    return refused('malformed', `the session token's "${error.claim}" claim is not valid`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return refused('bad_signature', 'the session token\'s signature does not match its content: it was altered or forged');
  if (error instanceof errors.JOSEAlgNotAllowed) return refused('algorithm_not_allowed', `the session token's algorithm is not allowed; only ${SESSION_TOKEN_ALGORITHM} is`);
  return refused('malformed', 'the session token is not a well-formed JWT');
}

function isoOf(seconds: unknown): string {
  return typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : 'an unknown time';
}

function refused(reason: RefusalReason, message: string): AuthenticationRefusedError {
  return new AuthenticationRefusedError(message, reason, 'session-token');
}
