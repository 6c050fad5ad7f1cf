import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service.js';
import { CLOCK, type Clock } from '../../common/clock.js';
import { isUniqueViolation } from '../../common/errors.js';
import { LOGGER, type StructuredLogger } from '../../common/logger.js';
import { Transactions } from '../../database/transactions.js';
import { AuthenticationRefusedError } from '../auth-errors.js';
import { type IssuedLogin, LoginSessions } from '../login-sessions/login-sessions.js';
import type { UserEntity } from '../user.entity.js';
import { UsersRepository } from '../users.repository.js';
import { identityFromClaims, type OidcIdentity } from './oidc-identity.js';
import { OidcTokenVerifier } from './oidc-token-verifier.js';

export type OidcFlow = 'device' | 'pkce';

/**
 * Turns an ID token from the issuer into an airlock login: verifies it, provisions the person on
 * their first login (and brings name, groups and role up to date on every later one), and starts a
 * login session with its own session token and refresh token.
 */
@Injectable()
export class OidcLoginService {
  constructor(
    private readonly verifier: OidcTokenVerifier,
    private readonly users: UsersRepository,
    private readonly logins: LoginSessions,
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: StructuredLogger,
  ) {}

  async login(idToken: string, options: { nonce?: string; flow?: OidcFlow; source: string }): Promise<IssuedLogin> {
    const claims = await this.verifier.verify(idToken, options.nonce);
    const issuer = this.verifier.oidc!.issuer;
    const mapped = identityFromClaims(claims, this.verifier.oidc!);
    if (!mapped.ok) throw new AuthenticationRefusedError(mapped.problem, 'unusable_identity', 'id-token');
    const user = await this.provision(issuer, mapped.identity);
    return this.logins.start(user, options.flow ? `oidc-${options.flow}` : 'oidc', options.source);
  }

  private async provision(issuer: string, identity: OidcIdentity): Promise<UserEntity> {
    const now = this.clock.now();
    const existing = await this.users.findLiveByExternal(issuer, identity.externalSubject);
    if (existing) return this.update(existing, identity, now);
    const user: UserEntity = {
      id: randomUUID(),
      name: identity.name,
      role: identity.role,
      groups: identity.groups,
      createdAt: now,
      createdBy: 'oidc',
      deletedAt: null,
      deletedBy: null,
      source: 'oidc',
      issuer,
      externalSubject: identity.externalSubject,
      email: identity.email,
      lastLoginAt: now,
    };
    try {
      await this.transactions.run(async (tx) => {
        await this.users.insert(user, tx);
        await this.audit.record({ actor: `user:${user.name}`, kind: 'user.provisioned', target: `user/${user.name}`, details: { issuer, role: user.role, groups: user.groups } }, tx);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw this.nameTaken(identity.name);
      throw error;
    }
    this.logger.info('user provisioned from the identity provider', { userId: user.id, userName: user.name, role: user.role });
    return user;
  }

  private async update(user: UserEntity, identity: OidcIdentity, now: Date): Promise<UserEntity> {
    const changes = { name: identity.name, email: identity.email, groups: identity.groups, role: identity.role, lastLoginAt: now };
    const changed = user.name !== changes.name || user.role !== changes.role || user.groups.join(',') !== changes.groups.join(',');
    try {
      await this.transactions.run(async (tx) => {
        await this.users.updateFromLogin(user.id, changes, tx);
        if (changed) {
          await this.audit.record(
            {
              actor: 'airlock',
              kind: 'user.updated',
              target: `user/${changes.name}`,
              details: { from: { name: user.name, role: user.role, groups: user.groups }, to: { name: changes.name, role: changes.role, groups: changes.groups }, by: 'identity provider' },
            },
            tx,
          );
        }
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw this.nameTaken(identity.name);
      throw error;
    }
    return { ...user, ...changes };
  }

  private nameTaken(name: string): AuthenticationRefusedError {
    return new AuthenticationRefusedError(
      `the user name "${name}" is taken by another airlock user (created locally, or by another person at the issuer); an admin must delete that user first`,
      'unusable_identity',
      'id-token',
    );
  }
}
