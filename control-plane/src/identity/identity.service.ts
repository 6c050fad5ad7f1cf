import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { recordableTokenPrefix, RefusalThrottle } from '../audit/refusal-throttle.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { hashToken, issueToken, tokenMatchesHash, tokenPrefix } from '../common/tokens.js';
import { isUniqueViolation } from '../common/errors.js';
import type { ApiTokenEntity } from './api-token.entity.js';
import { ApiTokensRepository } from './api-tokens.repository.js';
import type { Principal } from './principal.js';
import { UsersRepository } from './users.repository.js';

export const BOOTSTRAP_TOKEN_NAME = 'bootstrap-admin';

/** What bootstrapping did: a freshly generated token must be shown to the operator exactly once. */
export type BootstrapOutcome =
  | { readonly kind: 'generated'; readonly token: string }
  | { readonly kind: 'configured' }
  | { readonly kind: 'existing' };

/** A hash nothing matches, compared against when no row is found so a miss costs the same as a hit. */
const NO_MATCH_HASH = hashToken('airlock:no-such-token');

@Injectable()
export class IdentityService {
  /** At most one `auth.refused` event per source address per minute. */
  private readonly refusals = new RefusalThrottle();

  constructor(
    private readonly tokens: ApiTokensRepository,
    private readonly users: UsersRepository,
    private readonly audit: AuditService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * Makes sure an admin can log in. With a configured token, its hash is stored (idempotently);
   * otherwise a token is generated only when no admin token exists yet.
   */
  async bootstrapAdmin(configuredToken: string | undefined): Promise<BootstrapOutcome> {
    if (configuredToken !== undefined) {
      await this.ensureAdminToken(configuredToken);
      return { kind: 'configured' };
    }
    if (await this.tokens.hasActiveTokenWithRole('admin')) return { kind: 'existing' };
    const issued = issueToken('admin');
    await this.storeAdminToken(issued.token);
    return { kind: 'generated', token: issued.token };
  }

  /**
   * The principal a bearer token stands for, or null if it is unknown or revoked. A refusal is
   * audited (rate-limited per `source`, the caller's address), naming only the token's prefix.
   */
  async authenticateBearer(token: string, source = 'unknown'): Promise<Principal | null> {
    const principal = await this.principalOf(token);
    if (!principal) await this.recordRefusal(token, source);
    return principal;
  }

  private async principalOf(token: string): Promise<Principal | null> {
    const candidates = await this.tokens.findActiveByPrefix(tokenPrefix(token));
    const match = findMatchingToken(token, candidates);
    if (!match) return null;
    let principal: Principal = { subject: match.name, role: match.role, groups: [], tokenId: match.id };
    if (match.userId !== null) {
      // Deleting a user revokes their tokens in the same transaction; this check is belt and braces.
      const user = await this.users.findLiveById(match.userId);
      if (!user) return null;
      principal = { subject: `user:${user.name}`, role: user.role, groups: user.groups, tokenId: match.id };
    }
    await this.tokens.markUsed(match.id, this.clock.now());
    return principal;
  }

  private async recordRefusal(token: string, source: string): Promise<void> {
    const admitted = this.refusals.admit(source, this.clock.now());
    if (!admitted) return;
    const prefix = recordableTokenPrefix(token, tokenPrefix);
    await this.audit.record({
      actor: `anonymous:${source}`,
      kind: 'auth.refused',
      target: `token/${prefix ?? 'unrecognized'}`,
      details: { source, tokenPrefix: prefix, unrecordedSincePrevious: admitted.unrecorded },
    });
  }

  private async ensureAdminToken(token: string): Promise<void> {
    if (await this.tokens.findByHash(hashToken(token))) return;
    try {
      await this.storeAdminToken(token);
    } catch (error) {
      // Another replica stored the same token first: the outcome is what we wanted.
      if (!isUniqueViolation(error)) throw error;
    }
  }

  private async storeAdminToken(token: string): Promise<void> {
    await this.tokens.insert({
      name: BOOTSTRAP_TOKEN_NAME,
      role: 'admin',
      tokenPrefix: tokenPrefix(token),
      tokenHash: hashToken(token),
      createdAt: this.clock.now(),
    });
    await this.audit.record({
      actor: 'airlock',
      kind: 'token.created',
      target: `token/${BOOTSTRAP_TOKEN_NAME}`,
      details: { role: 'admin', tokenPrefix: recordableTokenPrefix(token, tokenPrefix) },
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
