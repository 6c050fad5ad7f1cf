import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { recordableTokenPrefix } from '../audit/refusal-throttle.js';
import { tokenPrefix } from '../common/tokens.js';
import { AuthenticationRefusedError, type PresentedCredential } from './auth-errors.js';
import { IdentityService } from './identity.service.js';
import { LoginSessions } from './login-sessions/login-sessions.js';
import type { Principal } from './principal.js';
import { AuthRateLimiter } from './rate-limit/auth-rate-limiter.js';
import { isServiceAccountKey, ServiceAccountsService } from './service-accounts/service-accounts.service.js';
import { SessionTokens } from './session-tokens/session-tokens.js';

/** Longer bearer credentials are refused unread: nothing we issue comes close. */
const MAX_CREDENTIAL_LENGTH = 8192;
const JWT_SHAPE = /^eyJ[\w-]*\.[\w-]*\.[\w-]*$/;

/** The kind of credential a bearer token looks like, before anything is checked. */
export function credentialKindOf(token: string | undefined): PresentedCredential {
  if (!token) return 'none';
  if (JWT_SHAPE.test(token)) return 'session-token';
  if (isServiceAccountKey(token)) return 'service-account-key';
  return 'api-token';
}

/**
 * One way in for REST and gRPC alike: a bearer credential is a session token (EdDSA JWT from a
 * login), a service-account API key (`alk_sa_…`) or an API token (bootstrap admin, local users).
 * Every refusal says precisely why, is audited (reason, source, the credential's visible prefix,
 * never the credential), and counts against the source's failed-attempt allowance.
 */
@Injectable()
export class BearerAuthenticator {
  constructor(
    private readonly apiTokens: IdentityService,
    private readonly sessionTokens: SessionTokens,
    private readonly logins: LoginSessions,
    private readonly serviceAccounts: ServiceAccountsService,
    private readonly limiter: AuthRateLimiter,
    private readonly audit: AuditService,
  ) {}

  authenticate(token: string | undefined, source: string): Promise<Principal> {
    return this.guarded(source, token, () => this.principalOf(token));
  }

  /**
   * Runs one authentication step for `source` under its limits: refused with 429 while the source
   * has used up its failed attempts; an AuthenticationRefusedError is audited and counted.
   */
  async guarded<T>(source: string, presented: string | undefined, step: () => Promise<T>): Promise<T> {
    await this.limiter.assertMayAuthenticate(source);
    try {
      return await step();
    } catch (error) {
      if (error instanceof AuthenticationRefusedError) {
        this.limiter.recordFailure(source);
        await this.recordRefusal(error, source, presented);
      }
      throw error;
    }
  }

  private async principalOf(token: string | undefined): Promise<Principal> {
    if (!token) throw new AuthenticationRefusedError('missing credentials: send "Authorization: Bearer <token>" (run `airlock login` first)', 'missing', 'none');
    if (token.length > MAX_CREDENTIAL_LENGTH) throw new AuthenticationRefusedError(`the bearer token is longer than ${MAX_CREDENTIAL_LENGTH} characters; nothing this control plane issues is`, 'malformed', 'none');
    switch (credentialKindOf(token)) {
      case 'session-token':
        return this.principalOfSessionToken(token);
      case 'service-account-key':
        return this.serviceAccounts.authenticate(token);
      default: {
        const principal = await this.apiTokens.principalOfApiToken(token);
        if (!principal) throw new AuthenticationRefusedError('the bearer token is not valid or has been revoked; log in again with `airlock login`', 'unknown_token', 'api-token');
        return principal;
      }
    }
  }

  private async principalOfSessionToken(token: string): Promise<Principal> {
    const verified = await this.sessionTokens.verify(token);
    const live = await this.logins.live(verified.loginSessionId);
    if (!live) {
      throw new AuthenticationRefusedError('the login this session token belongs to has ended (logged out, expired, revoked, or its user was deleted); run airlock login', 'session_ended', 'session-token');
    }
    const subject = `user:${live.user.name}`;
    if (verified.subject !== subject) throw new AuthenticationRefusedError('the session token names another user than its login', 'malformed', 'session-token');
    return {
      subject,
      role: live.user.role,
      groups: live.user.groups,
      tokenId: live.session.id,
      kind: 'user',
      credential: 'session-token',
      expiresAt: verified.expiresAt,
      ...(live.user.source === 'dev' ? { devOnly: true } : {}),
    };
  }

  private async recordRefusal(error: AuthenticationRefusedError, source: string, presented: string | undefined): Promise<void> {
    const prefix = presented && error.credential !== 'session-token' && error.credential !== 'id-token' ? recordableTokenPrefix(presented, tokenPrefix) : null;
    await this.audit.record({
      actor: `anonymous:${source}`,
      kind: 'auth.refused',
      target: `token/${prefix ?? (error.credential === 'none' || error.credential === 'api-token' ? 'unrecognized' : error.credential)}`,
      details: { source, reason: error.reason, credential: error.credential, tokenPrefix: prefix, message: error.message },
    });
  }
}
