import { Injectable } from '@nestjs/common';
import type { ReviewSettings, ReviewSettingsSource } from '../reviews/review-settings.js';
import { PoliciesRepository } from './policies.repository.js';

/**
 * Review settings of the exact policy version a session was judged by, from the control plane's
 * own copy: an agent names the policy, it never supplies the reviewers or the approval count.
 */
@Injectable()
export class PolicyReviewSettings implements ReviewSettingsSource {
  constructor(private readonly policies: PoliciesRepository) {}

  async reviewSettings(policyName: string, version: number): Promise<ReviewSettings | null> {
    const policy = await this.policies.findAnyByName(policyName);
    if (!policy) return null;
    const applied = (await this.policies.versionsNewestFirst(policy.id)).find((v) => v.version === version);
    const review = applied?.spec.review;
    if (!applied || !review) return null;
    return {
      reviewers: [...review.reviewers],
      approvals: review.approvals,
      rejectOnAny: review.rejectOnAny,
      timeoutSeconds: review.timeoutSeconds,
      approveForMaxSeconds: review.approveForSeconds,
      failFast: applied.spec.reviewMode === 'fail-fast',
    };
  }
}
