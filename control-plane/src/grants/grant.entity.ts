import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** active → revoked | expired; nothing leaves an ended state. */
export const GRANT_STATES = ['active', 'revoked', 'expired'] as const;
export type GrantState = (typeof GRANT_STATES)[number];

/**
 * Just-in-time access: an approved access review lets its requester open sessions on one
 * connection from `startsAt` until `expiresAt`, unless revoked first. One grant per review.
 */
@Entity({ name: 'grants' })
export class GrantEntity {
  @PrimaryGeneratedColumn('increment', { type: 'integer' })
  id!: number;

  /** Who may open sessions: the review's requester, as sessions name their subject. */
  @Column({ type: 'text' })
  subject!: string;

  @Column({ name: 'connection_name', type: 'text' })
  connectionName!: string;

  @Column({ name: 'review_id', type: 'integer', unique: true })
  reviewId!: number;

  /** The policy whose review settings ran the access review. */
  @Column({ name: 'policy_name', type: 'text' })
  policyName!: string;

  /** The reviewers of that review: any of them (or an admin) may revoke the grant. */
  @Column({ type: 'jsonb' })
  reviewers!: string[];

  /** `active` until revoked or swept as expired; check `expiresAt` too, the sweep runs once a second. */
  @Column({ type: 'text' })
  state!: GrantState;

  @Column({ name: 'starts_at', type: 'timestamptz' })
  startsAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'revoked_by', type: 'text', nullable: true })
  revokedBy!: string | null;
}
