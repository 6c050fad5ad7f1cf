import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, LessThan, MoreThan, type Repository } from 'typeorm';
import { ReviewDecisionEntity, ReviewEntity, StatementApprovalEntity } from './review.entity.js';
import type { ReviewState } from './review-state.js';
import { isUniqueViolation } from '../common/errors.js';

@Injectable()
export class ReviewsRepository {
  constructor(
    @InjectRepository(ReviewEntity) private readonly reviews: Repository<ReviewEntity>,
    @InjectRepository(ReviewDecisionEntity) private readonly decisions: Repository<ReviewDecisionEntity>,
    @InjectRepository(StatementApprovalEntity) private readonly approvals: Repository<StatementApprovalEntity>,
  ) {}

  findById(id: number): Promise<ReviewEntity | null> {
    return this.reviews.findOneBy({ id });
  }

  findByRequestId(requestId: string): Promise<ReviewEntity | null> {
    return this.reviews.findOneBy({ requestId });
  }

  async insert(review: Omit<ReviewEntity, 'id'>): Promise<ReviewEntity> {
    const saved = await this.reviews.save(this.reviews.create(review));
    return saved;
  }

  /** Moves a review only if it is still in `from`: two reviewers deciding at once cannot both win. */
  async transition(id: number, from: ReviewState, to: ReviewState, at: Date, reason: string | null): Promise<boolean> {
    const result = await this.reviews.update({ id, state: from }, { state: to, decidedAt: at, stateReason: reason });
    return (result.affected ?? 0) > 0;
  }

  /** Newest first; `visibleTo` keeps reviews asked by one of `requesters` or addressed to one of `reviewers`. */
  listNewestFirst(state: ReviewState | undefined, limit: number, visibleTo?: { requesters: string[]; reviewers: string[] }): Promise<ReviewEntity[]> {
    const query = this.reviews.createQueryBuilder('review').orderBy('review.id', 'DESC').take(limit);
    if (state) query.andWhere('review.state = :state', { state });
    if (visibleTo) {
      query.andWhere('(review.requester IN (:...requesters) OR jsonb_exists_any(review.reviewers, CAST(:reviewers AS text[])))', {
        requesters: visibleTo.requesters,
        reviewers: visibleTo.reviewers,
      });
    }
    return query.getMany();
  }

  pendingExpiredBy(now: Date): Promise<ReviewEntity[]> {
    return this.reviews.find({ where: { state: 'pending', expiresAt: LessThan(now) } });
  }

  /** Reviews the agent holds a statement for; fail-fast reviews hold nothing and are not included. */
  pendingOfAgent(agentId: string): Promise<ReviewEntity[]> {
    return this.reviews.find({ where: { state: 'pending', agentId, failFast: false } });
  }

  decisionsOf(reviewId: number): Promise<ReviewDecisionEntity[]> {
    return this.decisions.find({ where: { reviewId }, order: { id: 'ASC' } });
  }

  /** False when this reviewer already decided (two clicks racing): the unique key keeps one. */
  async addDecision(decision: Omit<ReviewDecisionEntity, 'id'>): Promise<boolean> {
    try {
      await this.decisions.insert(decision);
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  /** Fail-fast: the approved, not yet released review of the identical statement by the same person. */
  async consumeApprovedFailFast(requester: string, connectionName: string, fingerprint: string, at: Date): Promise<ReviewEntity | null> {
    const candidates = await this.reviews.find({
      where: { requester, connectionName, fingerprint, failFast: true, state: 'approved', consumedAt: IsNull() },
      order: { id: 'ASC' },
    });
    for (const review of candidates) {
      const claimed = await this.reviews.update({ id: review.id, consumedAt: IsNull() }, { consumedAt: at });
      if ((claimed.affected ?? 0) > 0) return review;
    }
    return null;
  }

  /** The newest pending fail-fast review of the identical statement, so re-sending before approval does not pile up reviews. */
  findPendingFailFast(requester: string, connectionName: string, fingerprint: string): Promise<ReviewEntity | null> {
    return this.reviews.findOne({ where: { requester, connectionName, fingerprint, failFast: true, state: 'pending' }, order: { id: 'DESC' } });
  }

  activeApprovalFor(requester: string, connectionName: string, fingerprint: string, now: Date): Promise<StatementApprovalEntity | null> {
    return this.approvals.findOne({ where: { requester, connectionName, fingerprint, until: MoreThan(now) }, order: { until: 'DESC' } });
  }

  async addStatementApproval(approval: Omit<StatementApprovalEntity, 'id'>): Promise<void> {
    await this.approvals.insert(approval);
  }
}
