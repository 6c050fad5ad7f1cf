import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CLOCK, type Clock } from '../common/clock.js';
import { formatDuration } from '../common/durations.js';
import { type Principal, policySubjectsOf } from '../identity/principal.js';
import { mayDecideReviews, type Role, seesEverything } from '../identity/roles.js';
import { ConflictError, ForbiddenError, InvalidRequestError, NotFoundError } from '../common/errors.js';
import { LOGGER, type StructuredLogger } from '../common/logger.js';
import { AgentRegistry } from '../agents/agent-registry.js';
import type { DecisionNotice } from '../agents/agent-link.js';
import { ConnectionsService } from '../connections/connections.service.js';
import { PoliciesService } from '../policies/policies.service.js';
import { newAccessReview } from './access-review.js';
import { ReviewForbiddenError, ReviewRequestError } from './review.errors.js';
import type { ReviewDecisionEntity, ReviewEntity } from './review.entity.js';
import { assertTransition, outcomeOf, type ReviewState } from './review-state.js';
import { ReviewsRepository } from './reviews.repository.js';
import { REVIEW_SETTINGS_SOURCE, type ReviewSettingsSource } from './review-settings.js';
import { REVIEW_AUDIT, type ReviewAudit } from './review-audit.js';
import { REVIEW_LISTENERS, type ReviewListener } from './review-listener.js';

/** What an agent sends when it holds a statement. */
export interface HeldStatement {
  requestId: string;
  agentId: string;
  sessionId: string;
  connectionName: string;
  requester: string;
  statement: string;
  kinds: string[];
  tables: string[];
  policyName: string;
  policyVersion: number;
  reason: string;
  fingerprint: string;
}

/** `airlock request CONNECTION --for 30m --reason "..."`. */
export interface AccessRequest {
  requester: Principal;
  connection: string;
  forSeconds: number;
  reason: string;
}

export interface Reviewer {
  subject: string;
  groups: readonly string[];
  /** Absent for callers that predate roles; then only the reviewers list decides. */
  role?: Role;
}

export interface ReviewWithDecisions {
  review: ReviewEntity;
  decisions: ReviewDecisionEntity[];
}

const EXPIRY_SWEEP_MS = 1000;

@Injectable()
export class ReviewsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly reviews: ReviewsRepository,
    private readonly registry: AgentRegistry,
    private readonly policies: PoliciesService,
    private readonly connections: ConnectionsService,
    @Inject(REVIEW_SETTINGS_SOURCE) private readonly settings: ReviewSettingsSource,
    @Inject(REVIEW_AUDIT) private readonly audit: ReviewAudit,
    @Inject(REVIEW_LISTENERS) private readonly listeners: ReviewListener[],
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: StructuredLogger,
  ) {}

  onApplicationBootstrap(): void {
    this.sweeper = setInterval(() => void this.expireDue().catch((e: Error) => this.logger.error('review expiry failed', { error: e.message })), EXPIRY_SWEEP_MS);
    this.sweeper.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }

  /**
   * An agent holds a statement. Idempotent by request id, so an agent that reconnects and asks
   * again continues the same review. Answers at once when an earlier "approve for" still covers it.
   */
  async request(held: HeldStatement): Promise<void> {
    const existing = await this.reviews.findByRequestId(held.requestId);
    if (existing) return this.notify(existing);
    const now = this.clock.now();
    const settings = await this.settings.reviewSettings(held.policyName, held.policyVersion);
    if (!settings) throw new ReviewRequestError(`policy "${held.policyName}" version ${held.policyVersion} has no review settings`);
    const covering = await this.reviews.activeApprovalFor(held.requester, held.connectionName, held.fingerprint, now);
    if (covering) {
      await this.audit.record(held.requester, 'review.reused', covering.reviewId, { requestId: held.requestId, until: covering.until.toISOString() });
      return this.notifyAll(held.agentId, { ...baseNotice(held.requestId, covering.reviewId, 'approved'), reason: `approved until ${covering.until.toISOString()} by review ${covering.reviewId}` });
    }
    if (settings.failFast) {
      const released = await this.reviews.consumeApprovedFailFast(held.requester, held.connectionName, held.fingerprint, now);
      if (released) {
        await this.audit.record(held.requester, 'review.released', released.id, { requestId: held.requestId });
        return this.notifyAll(held.agentId, { ...baseNotice(held.requestId, released.id, 'approved'), approvalsRequired: released.approvalsRequired });
      }
      const pending = await this.reviews.findPendingFailFast(held.requester, held.connectionName, held.fingerprint);
      if (pending) return this.notifyAll(held.agentId, { ...(await this.noticeFor(pending)), requestId: held.requestId });
    }
    const review = await this.reviews.insert({
      ...held,
      kind: 'statement',
      accessSeconds: null,
      reviewers: settings.reviewers,
      approvalsRequired: settings.approvals,
      rejectOnAny: settings.rejectOnAny,
      approveForMaxSeconds: settings.approveForMaxSeconds,
      failFast: settings.failFast,
      state: 'pending',
      stateReason: null,
      createdAt: now,
      expiresAt: new Date(now.getTime() + settings.timeoutSeconds * 1000),
      decidedAt: null,
      consumedAt: null,
    });
    this.logger.info('review created', { reviewId: review.id, sessionId: held.sessionId, connection: held.connectionName });
    await this.audit.record(held.requester, 'review.created', review.id, { connection: held.connectionName, statement: held.statement, reason: held.reason });
    await this.notify(review);
    await this.tellListeners(review, 'created');
  }

  /**
   * Just-in-time access: a pending access review run by the review settings of the (first) policy
   * that asks for review on this connection. Approving it goes through the same approve/settle path
   * as a statement review; a grants listener turns the approval into a grant.
   */
  async requestAccess(request: AccessRequest): Promise<ReviewEntity> {
    const { requester, forSeconds } = request;
    const connection = await this.connections.findByName(request.connection);
    const access = await this.policies.accessFor(requester, { name: connection.name, tags: connection.tags });
    if (!access) throw new ForbiddenError(`no policy lets ${requester.subject} use connection "${connection.name}"`);
    if (access.access === 'allow') throw new InvalidRequestError(`connection "${connection.name}" needs no approval for you: open sessions on it directly`);
    const [policyName] = access.policies;
    const [settings] = access.reviews;
    if (!policyName || !settings) throw new ReviewRequestError(`no review settings for connection "${connection.name}"`);
    if (forSeconds > access.maxDurationSeconds) {
      throw new InvalidRequestError(
        `you may ask for at most ${formatDuration(access.maxDurationSeconds)} of access to "${connection.name}" (accessDuration of ${access.policies.join(', ')}), not ${formatDuration(forSeconds)}`,
      );
    }
    const review = await this.reviews.insert(
      newAccessReview({
        requester: requester.subject,
        connectionName: connection.name,
        forSeconds,
        reason: request.reason,
        policyName,
        policyVersion: (await this.policies.get(policyName)).version,
        settings,
        now: this.clock.now(),
      }),
    );
    this.logger.info('access review created', { reviewId: review.id, connection: connection.name, requester: requester.subject });
    await this.audit.record(requester.subject, 'review.created', review.id, { kind: 'access', connection: connection.name, forSeconds, reason: request.reason });
    await this.tellListeners(review, 'created');
    return review;
  }

  async approve(id: number, reviewer: Reviewer, options: { forSeconds?: number; comment?: string }): Promise<ReviewEntity> {
    const review = await this.mustDecide(id, reviewer, 'approve');
    if (options.forSeconds !== undefined && options.forSeconds > review.approveForMaxSeconds) {
      throw new ReviewForbiddenError(
        review.approveForMaxSeconds === 0
          ? `the policy "${review.policyName}" does not allow approving for a while`
          : `the policy "${review.policyName}" allows approving for at most ${review.approveForMaxSeconds}s`,
      );
    }
    if (!(await this.reviews.addDecision({ reviewId: id, reviewer: reviewer.subject, decision: 'approve', comment: options.comment ?? null, approveForSeconds: options.forSeconds ?? null, at: this.clock.now() }))) {
      throw new ConflictError(`you already decided review ${id}`);
    }
    await this.audit.record(reviewer.subject, 'review.approval', id, { comment: options.comment ?? null, forSeconds: options.forSeconds ?? null });
    return this.settle(review);
  }

  async reject(id: number, reviewer: Reviewer, reason: string): Promise<ReviewEntity> {
    const review = await this.mustDecide(id, reviewer, 'reject');
    if (!(await this.reviews.addDecision({ reviewId: id, reviewer: reviewer.subject, decision: 'reject', comment: reason, approveForSeconds: null, at: this.clock.now() }))) {
      throw new ConflictError(`you already decided review ${id}`);
    }
    await this.audit.record(reviewer.subject, 'review.rejection', id, { reason });
    return this.settle(review);
  }

  /** The requester withdraws their own pending review (Ctrl-C while `airlock request` or `exec` waits). */
  async cancel(id: number, requester: Principal): Promise<ReviewEntity> {
    const review = await this.reviews.findById(id);
    if (!review) throw new NotFoundError(`review ${id} does not exist`);
    if (!sameSubject(review.requester, requester.subject)) {
      await this.refuse(review, requester.subject, 'cancel', 'not_requester', `you cannot cancel review ${id}: only ${review.requester}, who asked, may`);
    }
    if (review.state !== 'pending') throw new ConflictError(`review ${id} is already ${review.state}`);
    return (await this.move(review, 'cancelled', 'cancelled by the requester', requester.subject)) ?? (await this.reviews.findById(id))!;
  }

  /** The agent withdrew the request (client gone, session killed) or the requester pressed Ctrl-C. */
  async cancelRequest(requestId: string, actor: string, reason: string): Promise<void> {
    const review = await this.reviews.findByRequestId(requestId);
    if (review?.state === 'pending') await this.move(review, 'cancelled', reason, actor);
  }

  /** `viewer` limits it to reviews they may see (see `visibleTo`); without one, any review. */
  async get(id: number, viewer?: Principal): Promise<ReviewWithDecisions> {
    const review = await this.reviews.findById(id);
    if (!review || (viewer && !mayView(review, viewer))) throw new NotFoundError(`review ${id} does not exist`);
    return { review, decisions: await this.reviews.decisionsOf(id) };
  }

  /**
   * Admins and auditors see every review; anyone else the reviews they asked for and, with the
   * reviewer role, those addressed to them.
   */
  list(state: ReviewState | undefined, limit = 50, viewer?: Principal): Promise<ReviewEntity[]> {
    const visibleTo = viewer && !seesEverything(viewer) ? visibleSubjects(viewer) : undefined;
    return this.reviews.listNewestFirst(state, Math.min(Math.max(limit, 1), 500), visibleTo);
  }

  async expireDue(): Promise<void> {
    for (const review of await this.reviews.pendingExpiredBy(this.clock.now())) {
      await this.move(review, 'expired', 'nobody decided before the review timed out', 'airlock');
    }
  }

  /**
   * An agent (re)connected holding `held`: its other pending reviews belong to statements that died
   * with an earlier agent process, whose clients already got an error.
   */
  async cancelOrphans(agentId: string, held: readonly string[], actor: string): Promise<void> {
    for (const review of await this.reviews.pendingOfAgent(agentId)) {
      if (!held.includes(review.requestId)) await this.move(review, 'cancelled', 'the statement is no longer held: its session ended', actor);
    }
  }

  private async mustDecide(id: number, reviewer: Reviewer, verb: 'approve' | 'reject'): Promise<ReviewEntity> {
    const review = await this.reviews.findById(id);
    if (!review) throw new NotFoundError(`review ${id} does not exist`);
    if (review.state !== 'pending') throw new ConflictError(`review ${id} is already ${review.state}`);
    if (review.expiresAt.getTime() <= this.clock.now().getTime()) throw new ConflictError(`review ${id} is already expired`);
    // Most specific reason first: your own request, then your role, then the review's reviewers.
    if (sameSubject(review.requester, reviewer.subject)) {
      await this.refuse(review, reviewer.subject, verb, 'own_request', `you cannot decide review ${id}: ${review.kind === 'access' ? 'you asked for this access' : 'you sent the statement'}`);
    }
    // A policy may name a person directly (user:NAME); deciding by group needs the reviewer role.
    if (reviewer.role !== undefined && !mayDecideReviews({ role: reviewer.role }) && !namesDirectly(review.reviewers, reviewer.subject)) {
      await this.refuse(review, reviewer.subject, verb, 'not_a_reviewer', `you cannot decide review ${id}: deciding reviews needs the reviewer role, and ${reviewer.subject} is a${reviewer.role === 'auditor' ? 'n' : ''} ${reviewer.role}`);
    }
    if (!mayReview(review.reviewers, reviewer)) {
      await this.refuse(review, reviewer.subject, verb, 'not_addressed', `you cannot decide review ${id}: it is for ${review.reviewers.join(', ')}`);
    }
    const earlier = await this.reviews.decisionsOf(id);
    if (earlier.some((d) => d.reviewer === reviewer.subject)) throw new ConflictError(`you already decided review ${id}`);
    return review;
  }

  /** Audits a refused decision (who, what they tried, why) and refuses it with 403. */
  private async refuse(review: ReviewEntity, actor: string, attempted: string, reason: string, message: string): Promise<never> {
    await this.audit.record(actor, 'review.refused', review.id, { attempted, reason, message });
    this.logger.info('review decision refused', { reviewId: review.id, by: actor, reason });
    throw new ReviewForbiddenError(message);
  }

  private async settle(review: ReviewEntity): Promise<ReviewEntity> {
    const decisions = await this.reviews.decisionsOf(review.id);
    const tally = { approvals: decisions.filter((d) => d.decision === 'approve').length, rejections: decisions.filter((d) => d.decision === 'reject').length };
    const outcome = outcomeOf(tally, review.approvalsRequired, review.rejectOnAny);
    if (outcome === 'pending') {
      await this.notify(review);
      return review;
    }
    const reason = outcome === 'rejected' ? decisions.filter((d) => d.decision === 'reject').map((d) => d.comment).filter(Boolean).join('; ') : '';
    const moved = await this.move(review, outcome, reason, decisions.at(-1)!.reviewer);
    // Only the approval that actually decided the review may open an approve-for window.
    if (moved && outcome === 'approved') await this.rememberApproveFor(review, decisions);
    return moved ?? review;
  }

  /** The shortest "approve for" among the approvers applies: nobody approved for longer. */
  private async rememberApproveFor(review: ReviewEntity, decisions: ReviewDecisionEntity[]): Promise<void> {
    const approvals = decisions.filter((d) => d.decision === 'approve');
    const windows = approvals.map((d) => d.approveForSeconds ?? 0);
    const seconds = Math.min(...windows);
    if (seconds <= 0) return;
    const until = new Date(this.clock.now().getTime() + seconds * 1000);
    await this.reviews.addStatementApproval({ requester: review.requester, connectionName: review.connectionName, fingerprint: review.fingerprint, reviewId: review.id, until });
  }

  private async move(review: ReviewEntity, to: ReviewState, reason: string, actor: string): Promise<ReviewEntity | undefined> {
    assertTransition(review.id, review.state, to);
    const moved = await this.reviews.transition(review.id, review.state, to, this.clock.now(), reason || null);
    if (!moved) return undefined; // someone else decided first; their transition notified the agent
    const updated = (await this.reviews.findById(review.id))!;
    this.logger.info(`review ${to}`, { reviewId: review.id, by: actor });
    await this.audit.record(actor, `review.${to}`, review.id, { reason: reason || null });
    await this.notify(updated);
    await this.tellListeners(updated, to as Exclude<ReviewState, 'pending'>);
    return updated;
  }

  private async tellListeners(review: ReviewEntity, event: 'created' | Exclude<ReviewState, 'pending'>): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await listener.onReviewChanged(review, event);
      } catch (error) {
        this.logger.error('a review listener failed', { reviewId: review.id, event, error: (error as Error).message });
      }
    }
  }

  private async noticeFor(review: ReviewEntity): Promise<DecisionNotice> {
    const decisions = await this.reviews.decisionsOf(review.id);
    return {
      requestId: review.requestId,
      reviewId: review.id,
      state: review.state,
      approvals: decisions.filter((d) => d.decision === 'approve').length,
      approvalsRequired: review.approvalsRequired,
      reason: review.stateReason ?? '',
      decidedBy: decisions.map((d) => d.reviewer),
      failFast: review.failFast,
    };
  }

  /** Tells the agent holding a statement; access reviews have no agent to tell. */
  private async notify(review: ReviewEntity): Promise<void> {
    if (review.agentId === null) return;
    this.notifyAll(review.agentId, await this.noticeFor(review));
  }

  private notifyAll(agentId: string, notice: DecisionNotice): void {
    this.registry.get(agentId)?.notifyDecision(notice);
  }
}

function baseNotice(requestId: string, reviewId: number, state: DecisionNotice['state']): DecisionNotice {
  return { requestId, reviewId, state, approvals: 0, approvalsRequired: 0, reason: '', decidedBy: [], failFast: false };
}

/** Whether two subjects name the same person, the way policies name them (`bootstrap-admin` is `user:bootstrap-admin`). */
function sameSubject(a: string, b: string): boolean {
  return policySubjectsOf({ subject: a, groups: [] })[0] === policySubjectsOf({ subject: b, groups: [] })[0];
}

/** The subjects whose reviews a non-auditor sees: their own requests and, as a reviewer, reviews addressed to them. */
function visibleSubjects(viewer: Principal): { requesters: string[]; reviewers: string[] } {
  const own = policySubjectsOf({ subject: viewer.subject, groups: [] });
  const requesters = [...new Set([viewer.subject, ...own])];
  return { requesters, reviewers: mayDecideReviews(viewer) ? policySubjectsOf(viewer) : own };
}

function namesDirectly(reviewers: readonly string[], subject: string): boolean {
  return reviewers.includes(policySubjectsOf({ subject, groups: [] })[0]);
}

function mayView(review: ReviewEntity, viewer: Principal): boolean {
  if (seesEverything(viewer)) return true;
  const visible = visibleSubjects(viewer);
  return visible.requesters.includes(review.requester) || review.reviewers.some((r) => visible.reviewers.includes(r));
}

/** A reviewer matches by the same subjects policies use (user:NAME, group:NAME, ...). */
export function mayReview(reviewers: readonly string[], reviewer: Reviewer): boolean {
  const subjects = policySubjectsOf(reviewer);
  return reviewers.some((r) => subjects.includes(r));
}
