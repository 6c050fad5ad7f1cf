import { randomUUID } from 'node:crypto';
import type { ReviewSettingsPlain } from '../policies/policy-compiler.js';
import type { ReviewEntity } from './review.entity.js';

export interface NewAccessReview {
  requester: string;
  connectionName: string;
  forSeconds: number;
  reason: string;
  policyName: string;
  policyVersion: number;
  settings: ReviewSettingsPlain;
  now: Date;
}

/**
 * A pending access review: no agent, session or statement, run by the asking policy's review
 * settings. "Approve for a while" is about repeating a statement, so it is never allowed here:
 * the grant already lasts `forSeconds`.
 */
export function newAccessReview(r: NewAccessReview): Omit<ReviewEntity, 'id'> {
  return {
    kind: 'access',
    requestId: `access-${randomUUID()}`,
    agentId: null,
    sessionId: null,
    accessSeconds: r.forSeconds,
    connectionName: r.connectionName,
    requester: r.requester,
    statement: '',
    kinds: [],
    tables: [],
    policyName: r.policyName,
    policyVersion: r.policyVersion,
    reason: r.reason,
    fingerprint: '',
    reviewers: [...r.settings.reviewers],
    approvalsRequired: r.settings.approvals,
    rejectOnAny: r.settings.rejectOnAny,
    approveForMaxSeconds: 0,
    failFast: false,
    state: 'pending',
    stateReason: null,
    createdAt: r.now,
    expiresAt: new Date(r.now.getTime() + r.settings.timeoutSeconds * 1000),
    decidedAt: null,
    consumedAt: null,
  };
}
