import type { ReviewEntity } from './review.entity.js';
import type { ReviewState } from './review-state.js';

/**
 * Told about every review as it is created and as it moves (notifications, grants). Listeners run
 * after the change is stored; a failing listener is logged and never undoes or blocks the change.
 */
export interface ReviewListener {
  onReviewChanged(review: ReviewEntity, event: 'created' | Exclude<ReviewState, 'pending'>): Promise<void> | void;
}

export const REVIEW_LISTENERS = Symbol('ReviewListeners');
