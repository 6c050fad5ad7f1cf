import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * What changed, as `<domain>.<verb>`. These are the kinds recorded so far; other domains (reviews,
 * sessions) add their own, and issue 6 adds the hash chain.
 */
export const AUDIT_KINDS = ['policy.applied', 'policy.deleted', 'user.created', 'user.deleted'] as const;
export type KnownAuditKind = (typeof AUDIT_KINDS)[number];
// eslint-disable-next-line @typescript-eslint/ban-types -- keeps editor completion for the known kinds
export type AuditKind = KnownAuditKind | (string & {});
export const AUDIT_KIND_PATTERN = /^[a-z][a-z_]*(\.[a-z][a-z_]*)+$/;

/** One append-only row per change: the table refuses UPDATE and DELETE. */
@Entity({ name: 'audit_events' })
export class AuditEventEntity {
  /** bigint: pg returns it as a string. */
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column({ type: 'timestamptz' })
  at!: Date;

  /** Subject of whoever made the change, e.g. `user:alice` or `bootstrap-admin`. */
  @Column({ type: 'text' })
  actor!: string;

  @Column({ type: 'text' })
  kind!: AuditKind;

  /** What was changed, e.g. `policy/prod-postgres` or `user/alice`. */
  @Column({ type: 'text' })
  target!: string;

  @Column({ type: 'jsonb' })
  details!: Record<string, unknown>;
}
