import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * What happened, as `<domain>.<verb>`: the common kinds (reviews and grants record more, e.g.
 * `review.approved`, `grant.expired`). A filter may name a domain (`review` or `review.`) to match all of its kinds.
 */
export const AUDIT_KINDS = [
  'policy.applied',
  'policy.deleted',
  'user.created',
  'user.deleted',
  'review.created',
  'grant.revoked',
  'agent.created',
  'agent.deleted',
  'agent.enrolled',
  'agent.enrollment_refused',
  'agent.refused',
  'agent.revoked',
  'connection.created',
  'connection.deleted',
  'token.created',
  'auth.refused',
  'session.opened',
  'session.resumed',
  'session.ended',
  'session.failed',
] as const;
export type KnownAuditKind = (typeof AUDIT_KINDS)[number];
// eslint-disable-next-line @typescript-eslint/ban-types -- keeps editor completion for the known kinds
export type AuditKind = KnownAuditKind | (string & {});
export const AUDIT_KIND_PATTERN = /^[a-z][a-z_]*(\.[a-z][a-z_]*)+$/;
/** A kind, or a domain prefix of kinds: `review`, `review.` or `review.created`. */
export const AUDIT_KIND_FILTER_PATTERN = /^[a-z][a-z_]*(\.[a-z][a-z_]*)*\.?$/;

/**
 * One append-only row per event: the table refuses UPDATE and DELETE, and each row carries the hash
 * of the one before it (see audit-chain.ts), so a change made around the trigger still shows.
 */
@Entity({ name: 'audit_events' })
export class AuditEventEntity {
  /** bigint: pg returns it as a string. */
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column({ type: 'timestamptz' })
  at!: Date;

  /** Who acted, e.g. `user:alice`, `bootstrap-admin`, `agent:east`, or `airlock` for the control plane itself. */
  @Column({ type: 'text' })
  actor!: string;

  @Column({ type: 'text' })
  kind!: AuditKind;

  /** What was acted on, e.g. `policy/prod-postgres` or `session/<uuid>`. */
  @Column({ type: 'text' })
  target!: string;

  @Column({ type: 'jsonb' })
  details!: Record<string, unknown>;

  /** The previous event's `hash` (GENESIS_HASH for the first event). */
  @Column({ name: 'prev_hash', type: 'text' })
  prevHash!: string;

  /** Hex SHA-256 over prevHash and this event's content (audit-chain.ts). */
  @Column({ type: 'text' })
  hash!: string;
}
