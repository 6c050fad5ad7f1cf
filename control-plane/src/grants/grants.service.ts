import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AgentRegistry } from '../agents/agent-registry.js';
import { AuditService } from '../audit/audit.service.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../common/errors.js';
import { LOGGER, type StructuredLogger } from '../common/logger.js';
import { type Principal, policySubjectsOf } from '../identity/principal.js';
import { mayDecideReviews, seesEverything } from '../identity/roles.js';
import { PoliciesService } from '../policies/policies.service.js';
import type { ReviewEntity } from '../reviews/review.entity.js';
import type { GrantEntity } from './grant.entity.js';
import { GrantsRepository, type SessionToEnd } from './grants.repository.js';

/** How often grants are checked for expiry and sessions of ended grants are killed. */
export const GRANT_SWEEP_MS = 1000;
const MAX_LIST = 500;

/**
 * Just-in-time grants: created when an access review is approved, required by the gateway to open
 * a session where a policy says `access: review`, and ended by revoking or by expiry, which kills
 * the sessions opened under them through their agents' links.
 */
@Injectable()
export class GrantsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private sweeper: NodeJS.Timeout | undefined;
  /** Sessions already told to die, so the sweep does not repeat itself while the agent reports the end. */
  private readonly killed = new Set<string>();

  constructor(
    private readonly grants: GrantsRepository,
    private readonly registry: AgentRegistry,
    private readonly policies: PoliciesService,
    private readonly audit: AuditService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: StructuredLogger,
  ) {}

  onApplicationBootstrap(): void {
    this.sweeper = setInterval(() => void this.sweep().catch((e: Error) => this.logger.error('grant sweep failed', { error: e.message })), GRANT_SWEEP_MS);
    this.sweeper.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }

  /** An access review was approved: its requester may use the connection for the time asked. Idempotent. */
  async grantFor(review: ReviewEntity): Promise<GrantEntity | null> {
    if (review.kind !== 'access' || review.state !== 'approved' || review.accessSeconds === null) return null;
    const startsAt = review.decidedAt ?? this.clock.now();
    const grant = await this.grants.insertForReview({
      subject: review.requester,
      connectionName: review.connectionName,
      reviewId: review.id,
      policyName: review.policyName,
      reviewers: review.reviewers,
      state: 'active',
      startsAt,
      expiresAt: new Date(startsAt.getTime() + review.accessSeconds * 1000),
      revokedAt: null,
      revokedBy: null,
    });
    if (!grant) return null;
    this.logger.info('grant created', { grantId: grant.id, reviewId: review.id, subject: grant.subject, connection: grant.connectionName });
    await this.record('airlock', 'grant.created', grant, { reviewId: review.id, subject: grant.subject, connection: grant.connectionName, expiresAt: grant.expiresAt.toISOString() });
    return grant;
  }

  /** The grant that lets `subject` open a session on the connection now, if any. */
  activeFor(subject: string, connectionName: string): Promise<GrantEntity | null> {
    return this.grants.activeFor(subject, connectionName, this.clock.now());
  }

  /** Admins see everyone's grants; anyone else only their own. */
  list(viewer: Principal, options: { active?: boolean; limit?: number } = {}): Promise<GrantEntity[]> {
    return this.grants.list({
      subject: seesEverything(viewer) ? undefined : viewer.subject,
      activeAt: options.active ? this.clock.now() : undefined,
      limit: Math.min(Math.max(options.limit ?? 100, 1), MAX_LIST),
    });
  }

  /** An admin or a reviewer of the grant's policy ends it; its sessions are killed at once. */
  async revoke(id: number, actor: Principal): Promise<GrantEntity> {
    const grant = await this.grants.findById(id);
    if (!grant) throw grantNotFound(id);
    if (!(await this.mayRevoke(grant, actor))) {
      const message = `you cannot revoke grant ${id}: only admins and reviewers of policy "${grant.policyName}" (${grant.reviewers.join(', ')}) may`;
      await this.audit.record({ actor: actor.subject, kind: 'grant.refused', target: `grant/${grant.id}`, details: { attempted: 'revoke', message } });
      throw new ForbiddenError(message);
    }
    if (grant.state !== 'active') throw new ConflictError(`grant ${id} is already ${grant.state}`);
    if (grant.expiresAt.getTime() <= this.clock.now().getTime()) throw new ConflictError(`grant ${id} is already expired`);
    if (!(await this.grants.end(id, 'revoked', { at: this.clock.now(), by: actor.subject }))) {
      throw new ConflictError(`grant ${id} is already ${(await this.grants.findById(id))?.state ?? 'ended'}`);
    }
    const revoked = (await this.grants.findById(id))!;
    this.logger.info('grant revoked', { grantId: id, by: actor.subject });
    await this.record(actor.subject, 'grant.revoked', revoked, { subject: revoked.subject, connection: revoked.connectionName });
    await this.killSessionsOfEndedGrants();
    return revoked;
  }

  /** Once a second: expire grants that ran out, then kill sessions still live under an ended grant. */
  async sweep(): Promise<void> {
    await this.expireDue();
    await this.killSessionsOfEndedGrants();
  }

  private async expireDue(): Promise<void> {
    for (const grant of await this.grants.activeExpiredBy(this.clock.now())) {
      if (!(await this.grants.end(grant.id, 'expired'))) continue; // revoked meanwhile
      this.logger.info('grant expired', { grantId: grant.id });
      await this.record('airlock', 'grant.expired', grant, { subject: grant.subject, connection: grant.connectionName, expiresAt: grant.expiresAt.toISOString() });
    }
  }

  /**
   * Also catches a session that was being opened while its grant ended. An agent that is offline
   * has no sessions running; it is asked again on a later sweep if it comes back with one.
   */
  private async killSessionsOfEndedGrants(): Promise<void> {
    const live = await this.grants.liveSessionsOfEndedGrants(this.clock.now());
    const liveIds = new Set(live.map((s) => s.sessionId));
    for (const id of this.killed) if (!liveIds.has(id)) this.killed.delete(id);
    for (const session of live) {
      if (this.killed.has(session.sessionId)) continue;
      const link = this.registry.get(session.agentId);
      if (!link) continue;
      link.kill(session.sessionId, killReason(session));
      this.killed.add(session.sessionId);
      this.logger.info('session killed: its grant ended', { sessionId: session.sessionId, grantId: session.grantId, agentId: session.agentId });
    }
  }

  private async mayRevoke(grant: GrantEntity, actor: Principal): Promise<boolean> {
    if (actor.role === 'admin') return true;
    if (!mayDecideReviews(actor)) return false;
    const subjects = policySubjectsOf(actor);
    if (grant.reviewers.some((r) => subjects.includes(r))) return true;
    const current = await this.policies.get(grant.policyName).catch(() => null); // deleted since
    return current?.spec.review?.reviewers.some((r) => subjects.includes(r)) ?? false;
  }

  private record(actor: string, kind: string, grant: GrantEntity, details: Record<string, unknown>): Promise<void> {
    return this.audit.record({ actor, kind, target: `grant/${grant.id}`, details });
  }
}

function killReason(session: SessionToEnd): string {
  const ended = session.grantState === 'revoked' ? `was revoked${session.revokedBy ? ` by ${session.revokedBy}` : ''}` : 'expired';
  return `access grant ${session.grantId} to "${session.connectionName}" ${ended}`;
}

function grantNotFound(id: number): NotFoundError {
  return new NotFoundError(`grant ${id} does not exist`);
}
