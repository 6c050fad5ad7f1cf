import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { ReviewState } from './review-state.js';

/** `statement`: a statement an agent holds. `access`: a person asks for just-in-time access to a connection. */
export type ReviewKind = 'statement' | 'access';

/**
 * Something people must decide. A statement review is one held statement, keyed by the agent's
 * request id; an access review (no agent, no session, no statement) becomes a grant when approved.
 */
@Entity({ name: 'reviews' })
export class ReviewEntity {
  @PrimaryGeneratedColumn('increment', { type: 'integer' })
  id!: number;

  @Column({ type: 'text', default: 'statement' })
  kind!: ReviewKind;

  /** The agent's id for the held statement: re-asking after a reconnect finds this same review. Access reviews get a fresh one. */
  @Column({ name: 'request_id', type: 'text', unique: true })
  requestId!: string;

  /** Null for access reviews. */
  @Column({ name: 'agent_id', type: 'uuid', nullable: true })
  agentId!: string | null;

  /** Null for access reviews. */
  @Column({ name: 'session_id', type: 'uuid', nullable: true })
  sessionId!: string | null;

  /** Access reviews: how long the grant lasts once approved. Null for statement reviews. */
  @Column({ name: 'access_seconds', type: 'integer', nullable: true })
  accessSeconds!: number | null;

  @Column({ name: 'connection_name', type: 'text' })
  connectionName!: string;

  /** Who sent the statement or asked for access; never allowed to approve it. */
  @Column({ type: 'text' })
  requester!: string;

  @Column({ type: 'text' })
  statement!: string;

  @Column({ type: 'jsonb' })
  kinds!: string[];

  @Column({ type: 'jsonb' })
  tables!: string[];

  @Column({ name: 'policy_name', type: 'text' })
  policyName!: string;

  @Column({ name: 'policy_version', type: 'integer' })
  policyVersion!: number;

  @Column({ type: 'text' })
  reason!: string;

  @Column({ type: 'text' })
  fingerprint!: string;

  @Column({ type: 'jsonb' })
  reviewers!: string[];

  @Column({ name: 'approvals_required', type: 'integer' })
  approvalsRequired!: number;

  @Column({ name: 'reject_on_any', type: 'boolean' })
  rejectOnAny!: boolean;

  @Column({ name: 'approve_for_max_seconds', type: 'integer' })
  approveForMaxSeconds!: number;

  @Column({ name: 'fail_fast', type: 'boolean' })
  failFast!: boolean;

  @Column({ type: 'text' })
  state!: ReviewState;

  /** The reviewer's reason for a rejection, or why it expired or was cancelled. */
  @Column({ name: 'state_reason', type: 'text', nullable: true })
  stateReason!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'decided_at', type: 'timestamptz', nullable: true })
  decidedAt!: Date | null;

  /** Fail-fast reviews: set when the approved statement has been released, so it runs exactly once. */
  @Column({ name: 'consumed_at', type: 'timestamptz', nullable: true })
  consumedAt!: Date | null;
}

@Entity({ name: 'review_decisions' })
export class ReviewDecisionEntity {
  @PrimaryGeneratedColumn('increment', { type: 'integer' })
  id!: number;

  @Column({ name: 'review_id', type: 'integer' })
  reviewId!: number;

  @Column({ type: 'text' })
  reviewer!: string;

  @Column({ type: 'text' })
  decision!: 'approve' | 'reject';

  @Column({ type: 'text', nullable: true })
  comment!: string | null;

  @Column({ name: 'approve_for_seconds', type: 'integer', nullable: true })
  approveForSeconds!: number | null;

  @Column({ type: 'timestamptz' })
  at!: Date;
}

/** "Approve for N minutes": the same person's identical statement on the same connection passes until `until`. */
@Entity({ name: 'statement_approvals' })
export class StatementApprovalEntity {
  @PrimaryGeneratedColumn('increment', { type: 'integer' })
  id!: number;

  @Column({ type: 'text' })
  requester!: string;

  @Column({ name: 'connection_name', type: 'text' })
  connectionName!: string;

  @Column({ type: 'text' })
  fingerprint!: string;

  @Column({ name: 'review_id', type: 'integer' })
  reviewId!: number;

  @Column({ type: 'timestamptz' })
  until!: Date;
}
