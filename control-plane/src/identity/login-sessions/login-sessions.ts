import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service.js';
import { CLOCK, type Clock } from '../../common/clock.js';
import { CONFIG } from '../../common/config.token.js';
import { issueToken, tokenMatchesHash, tokenPrefix } from '../../common/tokens.js';
import type { ControlPlaneConfig } from '../../config/config.js';
import { Transactions } from '../../database/transactions.js';
import { AuthenticationRefusedError, type RefusalReason } from '../auth-errors.js';
import { SessionTokens } from '../session-tokens/session-tokens.js';
import type { UserEntity } from '../user.entity.js';
import { type LiveLogin, LoginSessionsRepository } from './login-sessions.repository.js';

/** What a login or a refresh hands the CLI. The refresh token is shown once and kept only as a hash. */
export interface IssuedLogin {
  readonly user: UserEntity;
  readonly loginSessionId: string;
  readonly accessToken: string;
  readonly accessTokenExpiresAt: Date;
  readonly refreshToken: string;
  /** The login session's end: refreshing works until then. */
  readonly refreshTokenExpiresAt: Date;
}

/**
 * Login sessions: a person's login, extended by one-time refresh tokens until it expires or is
 * revoked (logout, user deleted). A refresh token presented twice means a copy exists elsewhere:
 * the whole login session is revoked (OAuth 2.0 Security BCP, refresh token rotation).
 */
@Injectable()
export class LoginSessions {
  constructor(
    private readonly repository: LoginSessionsRepository,
    private readonly tokens: SessionTokens,
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
    @Inject(CONFIG) private readonly config: ControlPlaneConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async start(user: UserEntity, method: string, sourceAddress: string): Promise<IssuedLogin> {
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + this.config.identity.loginSessionTtlSeconds * 1000);
    const refresh = issueToken('refresh');
    const session = await this.transactions.run(async (tx) => {
      const created = await this.repository.insertSession({ userId: user.id, method, sourceAddress, createdAt: now, expiresAt }, tx);
      await this.repository.insertRefreshToken({ loginSessionId: created.id, tokenPrefix: refresh.prefix, tokenHash: refresh.hash, createdAt: now }, tx);
      await this.audit.record({ actor: `user:${user.name}`, kind: 'login.succeeded', target: `login/${created.id}`, details: { method, source: sourceAddress, expiresAt: expiresAt.toISOString() } }, tx);
      return created;
    });
    const access = await this.tokens.issue({ subject: `user:${user.name}`, loginSessionId: session.id, role: user.role, groups: user.groups });
    return { user, loginSessionId: session.id, accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken: refresh.token, refreshTokenExpiresAt: expiresAt };
  }

  /** Trades a refresh token for a new session token and the next refresh token. */
  async refresh(refreshToken: string): Promise<IssuedLogin> {
    const now = this.clock.now();
    const row = await this.findRefreshToken(refreshToken);
    const session = await this.repository.findSession(row.loginSessionId);
    if (!session || session.revokedAt) throw refused('session_ended', `this login was ended${session?.revokedReason ? ` (${session.revokedReason})` : ''}; run airlock login`);
    if (session.expiresAt.getTime() <= now.getTime()) throw refused('expired', `this login expired at ${session.expiresAt.toISOString()}; run airlock login`);
    const next = issueToken('refresh');
    const reused = await this.transactions.run(async (tx) => {
      if (!(await this.repository.useRefreshToken(row.id, now, tx))) return true;
      await this.repository.insertRefreshToken({ loginSessionId: session.id, tokenPrefix: next.prefix, tokenHash: next.hash, createdAt: now }, tx);
      await this.repository.markRefreshed(session.id, now, tx);
      return false;
    });
    if (reused) return this.refuseReuse(session.id);
    const live = await this.repository.findLive(session.id, now);
    if (!live) throw refused('user_deleted', 'the user of this login no longer exists; run airlock login');
    const access = await this.tokens.issue({ subject: `user:${live.user.name}`, loginSessionId: session.id, role: live.user.role, groups: live.user.groups });
    return { user: live.user, loginSessionId: session.id, accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken: next.token, refreshTokenExpiresAt: session.expiresAt };
  }

  /** Logout: ends the login the refresh token belongs to, so its session tokens stop working too. */
  async logout(refreshToken: string): Promise<{ loginSessionId: string; alreadyEnded: boolean }> {
    const row = await this.findRefreshToken(refreshToken);
    const now = this.clock.now();
    const actor = await this.actorOf(row.loginSessionId);
    const revoked = await this.transactions.run(async (tx) => {
      const done = await this.repository.revoke(row.loginSessionId, now, 'logged out', tx);
      if (done) await this.audit.record({ actor, kind: 'login.ended', target: `login/${row.loginSessionId}`, details: { reason: 'logged out' } }, tx);
      return done;
    });
    return { loginSessionId: row.loginSessionId, alreadyEnded: !revoked };
  }

  /** The live login a session token names, or null when it was revoked, expired, or its user deleted. */
  live(loginSessionId: string): Promise<LiveLogin | null> {
    return this.repository.findLive(loginSessionId, this.clock.now());
  }

  /** Ends a login at once (used when its session token is presented after logout, or by admins). */
  async revoke(loginSessionId: string, reason: string): Promise<boolean> {
    return this.repository.revoke(loginSessionId, this.clock.now(), reason);
  }

  private async findRefreshToken(token: string) {
    const candidates = token.startsWith('alk_refresh_') ? await this.repository.findRefreshTokensByPrefix(tokenPrefix(token)) : [];
    const row = candidates.find((candidate) => tokenMatchesHash(token, candidate.tokenHash));
    if (!row) throw refused('unknown_token', 'the refresh token is not one this control plane issued; run airlock login');
    return row;
  }

  private async refuseReuse(loginSessionId: string): Promise<never> {
    const now = this.clock.now();
    const reason = 'a refresh token was used twice';
    const actor = await this.actorOf(loginSessionId);
    if (await this.repository.revoke(loginSessionId, now, reason)) {
      await this.audit.record({ actor, kind: 'login.ended', target: `login/${loginSessionId}`, details: { reason } });
    }
    throw refused('refresh_reused', 'this refresh token was already used, so a copy of it exists elsewhere: the login was ended to be safe; run airlock login');
  }

  private async actorOf(loginSessionId: string): Promise<string> {
    const user = await this.repository.userOf(loginSessionId);
    return user ? `user:${user.name}` : 'airlock';
  }
}

function refused(reason: RefusalReason, message: string): AuthenticationRefusedError {
  return new AuthenticationRefusedError(message, reason, 'refresh-token');
}
