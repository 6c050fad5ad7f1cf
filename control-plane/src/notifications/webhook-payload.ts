import type { ReviewEntity, ReviewKind } from '../reviews/review.entity.js';
import type { ReviewState } from '../reviews/review-state.js';
import type { WebhookEventType } from './webhook-delivery.entity.js';

/** The review as a webhook receiver sees it (the REST view's fields minus internals such as session ids). */
export interface WebhookReview {
  id: number;
  /** A held statement, or a request for just-in-time access (then `statement` is empty and `accessSeconds` is set). */
  kind: ReviewKind;
  state: ReviewState;
  connection: string;
  requester: string;
  statement: string;
  accessSeconds: number | null;
  reason: string;
  reviewers: string[];
  approvals: number;
  approvalsRequired: number;
  stateReason: string | null;
  createdAt: string;
  expiresAt: string;
  decidedAt: string | null;
}

/** The JSON body of every review webhook. */
export interface WebhookPayload {
  /** The delivery id, also sent as X-Airlock-Delivery; identical on retries. */
  id: string;
  type: WebhookEventType;
  occurredAt: string;
  review: WebhookReview;
}

export function webhookPayload(id: string, type: WebhookEventType, occurredAt: Date, review: ReviewEntity, approvals: number): WebhookPayload {
  return {
    id,
    type,
    occurredAt: occurredAt.toISOString(),
    review: {
      id: review.id,
      kind: review.kind,
      state: review.state,
      connection: review.connectionName,
      requester: review.requester,
      statement: review.statement,
      accessSeconds: review.accessSeconds,
      reason: review.reason,
      reviewers: review.reviewers,
      approvals,
      approvalsRequired: review.approvalsRequired,
      stateReason: review.stateReason,
      createdAt: review.createdAt.toISOString(),
      expiresAt: review.expiresAt.toISOString(),
      decidedAt: review.decidedAt?.toISOString() ?? null,
    },
  };
}
