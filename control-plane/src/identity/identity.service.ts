import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { recordableTokenPrefix } from '../audit/refusal-throttle.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { hashToken, issueToken, tokenMatchesHash, tokenPrefix } from '../common/tokens.js';
import { isUniqueViolation } from '../common/errors.js';
import type { ApiTokenEntity } from './api-token.entity.js';
import { ApiTokensRepository } from './api-tokens.repository.js';
import type { Principal } from './principal.js';
import type { UserEntity } from './user.entity.js';
import { UsersRepository } from './users.repository.js';

export const BOOTSTRAP_TOKEN_NAME = 'bootstrap-admin';
/** The local admin of `airlock dev`: a user marked dev-only, with no identity provider behind it. */
export const DEV_ADMIN_NAME = 'dev-admin';

/** What bootstrapping did: a freshly generated token must be shown to the operator exactly once. */
export type BootstrapOutcome =
  | { readonly kind: 'generated'; readonly token: string }
  | { readonly kind: 'configured' }
  | { readonly kind: 'dev'; readonly user: string }
  | { readonly kind: 'existing' };

/** A hash nothing matches, compared against when no row is found so a miss costs the same as a hit. */
const NO_MATCH_HASH = hashToken('airlock:no-such-token');

/** The API tokens of the walking skeleton: the bootstrap admin's and local users'. */
@Injectable()
export class IdentityService {
  constructor(
    private readonly tokens: ApiTokensRepository,
    private readonly users: UsersRepository,
    private readonly audit: AuditService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * Makes sure an admin can log in. With a configured token, its hash is stored (idempotently);
   * otherwise a token is generated only when no admin token exists yet. In dev mode the configured
   * token belongs to the dev-only local admin user instead of the anonymous bootstrap admin.
   */
  async bootstrapAdmin(configuredToken: string | undefined, options: { devMode?: boolean } = {}): Promise<BootstrapOutcome> {
    if (configuredToken !== undefined) {
      const owner = options.devMode ? await this.ensureDevAdmin() : undefined;
      await this.ensureAdminToken(configuredToken, owner);
      return owner ? { kind: 'dev', user: owner.name } : { kind: 'configured' };
    }
    if (await this.tokens.hasActiveTokenWithRole('admin')) return { kind: 'existing' };
    const issued = issueToken('admin');
    await this.storeAdminToken(issued.token);
    return { kind: 'generated', token: issued.token };
  }

  /** The principal an API token stands for, or null if it is unknown or revoked. */
  async principalOfApiToken(token: string): Promise<Principal | null> {
    const candidates = await this.tokens.findActiveByPrefix(tokenPrefix(token));
    const match = findMatchingToken(token, candidates);
    if (!match) return null;
    let principal: Principal = { subject: match.name, role: match.role, groups: [], tokenId: match.id, kind: 'bootstrap', credential: 'api-token' };
    if (match.userId !== null) {
      // Deleting a user revokes their tokens in the same transaction; this check is belt and braces.
      const user = await this.users.findLiveById(match.userId);
      if (!user) return null;
      principal = {
        subject: `user:${user.name}`,
        role: user.role,
        groups: user.groups,
        tokenId: match.id,
        kind: 'user',
        credential: 'api-token',
        ...(user.source === 'dev' ? { devOnly: true } : {}),
      };
    }
    await this.tokens.markUsed(match.id, this.clock.now());
    return principal;
  }

  private async ensureDevAdmin(): Promise<UserEntity> {
    const existing = await this.users.findLiveByName(DEV_ADMIN_NAME);
    if (existing) return existing;
    const user: UserEntity = {
      id: randomUUID(),
      name: DEV_ADMIN_NAME,
      role: 'admin',
      groups: [],
      createdAt: this.clock.now(),
      createdBy: 'airlock',
      deletedAt: null,
      deletedBy: null,
      source: 'dev',
      issuer: null,
      externalSubject: null,
      email: null,
      lastLoginAt: null,
    };
    await this.users.insert(user);
    await this.audit.record({ actor: 'airlock', kind: 'user.created', target: `user/${DEV_ADMIN_NAME}`, details: { role: 'admin', groups: [], source: 'dev', devOnly: true } });
    return user;
  }

  private async ensureAdminToken(token: string, owner: UserEntity | undefined): Promise<void> {
    const existing = await this.tokens.findByHash(hashToken(token));
    if (existing) {
      // A dev data dir from before dev mode had an anonymous admin token: give it to the dev admin.
      if (owner && existing.userId !== owner.id) await this.tokens.assignToUser(existing.id, owner.id, owner.name);
      return;
    }
    try {
      await this.storeAdminToken(token, owner);
    } catch (error) {
      // Another replica stored the same token first: the outcome is what we wanted.
      if (!isUniqueViolation(error)) throw error;
    }
  }

  private async storeAdminToken(token: string, owner?: UserEntity): Promise<void> {
    const name = owner?.name ?? BOOTSTRAP_TOKEN_NAME;
    await this.tokens.insert({
      name,
      role: 'admin',
      userId: owner?.id ?? null,
      tokenPrefix: tokenPrefix(token),
      tokenHash: hashToken(token),
      createdAt: this.clock.now(),
    });
    await this.audit.record({
      actor: 'airlock',
      kind: 'token.created',
      target: `token/${name}`,
      details: { role: 'admin', tokenPrefix: recordableTokenPrefix(token, tokenPrefix), ...(owner ? { devOnly: true } : {}) },
    });
  }
}

function findMatchingToken(token: string, candidates: ApiTokenEntity[]): ApiTokenEntity | null {
  if (candidates.length === 0) {
    tokenMatchesHash(token, NO_MATCH_HASH);
    return null;
  }
  return candidates.find((row) => tokenMatchesHash(token, row.tokenHash)) ?? null;
}
