import { ApiProperty } from '@nestjs/swagger';
import type { ReviewWithDecisions } from './reviews.service.js';
import type { ReviewDecisionEntity, ReviewEntity } from './review.entity.js';

export class ReviewView {
  @ApiProperty() id!: number;
  @ApiProperty({ enum: ['statement', 'access'], description: 'A held statement, or a request for just-in-time access to the connection' }) kind!: string;
  @ApiProperty({ enum: ['pending', 'approved', 'rejected', 'expired', 'cancelled'] }) state!: string;
  @ApiProperty() connection!: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'Null for access reviews' }) sessionId!: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Access reviews: how long the grant lasts once approved' }) accessSeconds!: number | null;
  @ApiProperty({ example: 'user:alice' }) requester!: string;
  @ApiProperty({ description: 'Empty for access reviews' }) statement!: string;
  @ApiProperty({ type: [String] }) kinds!: string[];
  @ApiProperty({ type: [String] }) tables!: string[];
  @ApiProperty() policy!: string;
  @ApiProperty() policyVersion!: number;
  @ApiProperty({ description: 'Why the statement needs review, or the requester\'s reason for access' }) reason!: string;
  @ApiProperty({ type: [String] }) reviewers!: string[];
  @ApiProperty() approvals!: number;
  @ApiProperty() approvalsRequired!: number;
  @ApiProperty({ type: String, nullable: true, description: 'Rejection reason, or why it expired or was cancelled' }) stateReason!: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time' }) expiresAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) decidedAt!: string | null;
}

export class ReviewDecisionView {
  @ApiProperty() reviewer!: string;
  @ApiProperty({ enum: ['approve', 'reject'] }) decision!: string;
  @ApiProperty({ type: String, nullable: true }) comment!: string | null;
  @ApiProperty({ type: Number, nullable: true }) forSeconds!: number | null;
  @ApiProperty({ type: String, format: 'date-time' }) at!: string;
}

export class ReviewDetailView extends ReviewView {
  @ApiProperty({ type: [ReviewDecisionView] }) decisions!: ReviewDecisionView[];
}

export class ReviewListView {
  @ApiProperty({ type: [ReviewView] }) reviews!: ReviewView[];
}

export function toReviewView(review: ReviewEntity, decisions: ReviewDecisionEntity[] = []): ReviewView {
  return {
    id: review.id,
    kind: review.kind,
    state: review.state,
    connection: review.connectionName,
    sessionId: review.sessionId,
    accessSeconds: review.accessSeconds,
    requester: review.requester,
    statement: review.statement,
    kinds: review.kinds,
    tables: review.tables,
    policy: review.policyName,
    policyVersion: review.policyVersion,
    reason: review.reason,
    reviewers: review.reviewers,
    approvals: decisions.filter((d) => d.decision === 'approve').length,
    approvalsRequired: review.approvalsRequired,
    stateReason: review.stateReason,
    createdAt: review.createdAt.toISOString(),
    expiresAt: review.expiresAt.toISOString(),
    decidedAt: review.decidedAt?.toISOString() ?? null,
  };
}

export function toReviewDetailView({ review, decisions }: ReviewWithDecisions): ReviewDetailView {
  return {
    ...toReviewView(review, decisions),
    decisions: decisions.map((d) => ({ reviewer: d.reviewer, decision: d.decision, comment: d.comment, forSeconds: d.approveForSeconds, at: d.at.toISOString() })),
  };
}
