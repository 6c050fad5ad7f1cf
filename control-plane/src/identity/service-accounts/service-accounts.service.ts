import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service.js';
import { CLOCK, type Clock } from '../../common/clock.js';
import { ConflictError, isUniqueViolation, NotFoundError } from '../../common/errors.js';
import { LOGGER, type StructuredLogger } from '../../common/logger.js';
import { hashToken, issueToken, tokenMatchesHash, tokenPrefix } from '../../common/tokens.js';
import { Transactions } from '../../database/transactions.js';
import { AuthenticationRefusedError } from '../auth-errors.js';
import type { Principal } from '../principal.js';
import type { Role } from '../roles.js';
import type { ServiceAccountEntity } from './service-account.entity.js';
import { ServiceAccountsRepository } from './service-accounts.repository.js';

export const SERVICE_ACCOUNT_KEY_KIND = 'sa';
const KEY_START = `alk_${SERVICE_ACCOUNT_KEY_KIND}_`;

export interface NewServiceAccount {
  name: string;
  role?: Role;
  groups?: string[];
  description?: string;
  /** Seconds from now until the key stops working; no expiry when absent. */
  expiresInSeconds?: number;
}

export interface CreatedServiceAccount {
  readonly account: ServiceAccountEntity;
  /** Shown once; only its hash is stored. */
  readonly key: string;
}

/** A hash nothing matches, compared against when no row is found so a miss costs the same as a hit. */
const NO_MATCH_HASH = hashToken('airlock:no-such-service-account-key');

/** True when a bearer credential has the shape of a service-account key. */
export function isServiceAccountKey(token: string): boolean {
  return token.startsWith(KEY_START);
}

/** Service accounts for CI jobs and AI agents: API keys shown once, stored hashed, optionally expiring. */
/** How often the use of one service-account key is written to the audit log, at most. */
export const KEY_USE_AUDIT_MS = 10 * 60_000;

@Injectable()
export class ServiceAccountsService {
  constructor(
    private readonly accounts: ServiceAccountsRepository,
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: StructuredLogger,
  ) {}

  async create(input: NewServiceAccount, actor: Principal): Promise<CreatedServiceAccount> {
    const now = this.clock.now();
    const key = issueToken(SERVICE_ACCOUNT_KEY_KIND);
    const account: ServiceAccountEntity = {
      id: randomUUID(),
      name: input.name,
      role: input.role ?? 'user',
      groups: [...new Set(input.groups ?? [])].sort(),
      description: input.description ?? null,
      keyPrefix: key.prefix,
      keyHash: key.hash,
      expiresAt: input.expiresInSeconds === undefined ? null : new Date(now.getTime() + input.expiresInSeconds * 1000),
      lastUsedAt: null,
      createdAt: now,
      createdBy: actor.subject,
      revokedAt: null,
      revokedBy: null,
    };
    try {
      await this.transactions.run(async (tx) => {
        await this.accounts.insert(account, tx);
        await this.audit.record(
          {
            actor: actor.subject,
            kind: 'serviceaccount.created',
            target: `serviceaccount/${account.name}`,
            details: { role: account.role, groups: account.groups, keyPrefix: account.keyPrefix, expiresAt: account.expiresAt?.toISOString() ?? null },
          },
          tx,
        );
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`service account "${input.name}" already exists; revoke it first to make a new key`);
      throw error;
    }
    this.logger.info('service account created', { serviceAccount: account.name, role: account.role, keyPrefix: account.keyPrefix });
    return { account, key: key.token };
  }

  list(includeRevoked = false): Promise<ServiceAccountEntity[]> {
    return this.accounts.list(includeRevoked);
  }

  /** Revokes the account and its key at once; its history (audit, sessions) stays. */
  async revoke(name: string, actor: Principal): Promise<ServiceAccountEntity> {
    const account = await this.accounts.findLiveByName(name);
    if (!account) throw new NotFoundError(`service account "${name}" does not exist (or is already revoked)`);
    const now = this.clock.now();
    await this.transactions.run(async (tx) => {
      if (!(await this.accounts.revoke(account.id, now, actor.subject, tx))) throw new NotFoundError(`service account "${name}" does not exist (or is already revoked)`);
      await this.audit.record({ actor: actor.subject, kind: 'serviceaccount.revoked', target: `serviceaccount/${name}`, details: { keyPrefix: account.keyPrefix } }, tx);
    });
    this.logger.info('service account revoked', { serviceAccount: name, keyPrefix: account.keyPrefix });
    return { ...account, revokedAt: now, revokedBy: actor.subject };
  }

  /** The principal an API key stands for; refuses unknown, revoked and expired keys, each saying so. */
  async authenticate(key: string): Promise<Principal> {
    const candidates = await this.accounts.findByKeyPrefix(tokenPrefix(key));
    const account = candidates.find((row) => tokenMatchesHash(key, row.keyHash));
    if (!account) {
      if (candidates.length === 0) tokenMatchesHash(key, NO_MATCH_HASH);
      throw new AuthenticationRefusedError('the API key is not one this control plane issued; ask an admin for a service-account key', 'unknown_token', 'service-account-key');
    }
    const now = this.clock.now();
    if (account.revokedAt) {
      throw new AuthenticationRefusedError(`the API key of service account "${account.name}" was revoked at ${account.revokedAt.toISOString()}`, 'revoked', 'service-account-key');
    }
    if (account.expiresAt && account.expiresAt.getTime() <= now.getTime()) {
      throw new AuthenticationRefusedError(`the API key of service account "${account.name}" expired at ${account.expiresAt.toISOString()}`, 'expired', 'service-account-key');
    }
    await this.accounts.markUsed(account.id, now);
    // Key use in the audit log: the first use, then at most one event per KEY_USE_AUDIT_MS, so a busy
    // CI job leaves a trail without an event per request (lastUsedAt, kept in the database, is the clock).
    if (!account.lastUsedAt || now.getTime() - account.lastUsedAt.getTime() >= KEY_USE_AUDIT_MS) {
      await this.audit.record({
        actor: `serviceaccount:${account.name}`,
        kind: 'serviceaccount.key_used',
        target: `serviceaccount/${account.name}`,
        details: { keyPrefix: account.keyPrefix, previousUse: account.lastUsedAt?.toISOString() ?? null },
      });
    }
    return {
      subject: `serviceaccount:${account.name}`,
      role: account.role,
      groups: account.groups,
      tokenId: account.id,
      kind: 'service-account',
      credential: 'service-account-key',
      ...(account.expiresAt ? { expiresAt: account.expiresAt } : {}),
    };
  }
}
