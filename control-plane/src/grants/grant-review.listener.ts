import { Injectable } from '@nestjs/common';
import type { ReviewListener } from '../reviews/review-listener.js';
import type { ReviewEntity } from '../reviews/review.entity.js';
import type { ReviewState } from '../reviews/review-state.js';
import { GrantsService } from './grants.service.js';

/** Turns an approved access review into a grant (registered in REVIEW_LISTENERS). */
@Injectable()
export class GrantReviewListener implements ReviewListener {
  constructor(private readonly grants: GrantsService) {}

  async onReviewChanged(review: ReviewEntity, event: 'created' | Exclude<ReviewState, 'pending'>): Promise<void> {
    if (review.kind === 'access' && event === 'approved') await this.grants.grantFor(review);
  }
}
