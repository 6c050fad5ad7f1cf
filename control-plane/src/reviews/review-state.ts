/** pending → approved | rejected | expired | cancelled; nothing leaves a decided state. */
export const REVIEW_STATES = ['pending', 'approved', 'rejected', 'expired', 'cancelled'] as const;
export type ReviewState = (typeof REVIEW_STATES)[number];

const TRANSITIONS: Record<ReviewState, readonly ReviewState[]> = {
  pending: ['approved', 'rejected', 'expired', 'cancelled'],
  approved: [],
  rejected: [],
  expired: [],
  cancelled: [],
};

export class ReviewTransitionError extends Error {
  constructor(readonly reviewId: number, readonly from: ReviewState, readonly to: ReviewState) {
    super(`review ${reviewId} is ${from} and can no longer be ${to}`);
    this.name = 'ReviewTransitionError';
  }
}

export function assertTransition(reviewId: number, from: ReviewState, to: ReviewState): void {
  if (!TRANSITIONS[from].includes(to)) throw new ReviewTransitionError(reviewId, from, to);
}

export interface Tally {
  approvals: number;
  rejections: number;
}

/**
 * What the votes so far decide. With rejectOnAny one rejection rejects; otherwise a review is
 * rejected once as many people rejected as approvals are required (symmetric and predictable).
 */
export function outcomeOf(tally: Tally, approvalsRequired: number, rejectOnAny: boolean): ReviewState {
  if (rejectOnAny && tally.rejections > 0) return 'rejected';
  if (!rejectOnAny && tally.rejections >= approvalsRequired) return 'rejected';
  if (tally.approvals >= approvalsRequired) return 'approved';
  return 'pending';
}
