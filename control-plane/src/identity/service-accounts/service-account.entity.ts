import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Role } from '../roles.js';

/**
 * A machine identity (a CI job, an AI agent) with one API key, shown once and kept only as a hash.
 * Policies name it `serviceaccount:NAME`. Revoked accounts keep their row for the record.
 */
@Entity({ name: 'service_accounts' })
export class ServiceAccountEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  role!: Role;

  @Column({ type: 'text', array: true })
  groups!: string[];

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  /** The visible start of the key (`alk_sa_3fZk81Qa`), shown in listings and used to find the row. */
  @Column({ name: 'key_prefix', type: 'text' })
  keyPrefix!: string;

  @Column({ name: 'key_hash', type: 'text' })
  keyHash!: string;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt!: Date | null;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'revoked_by', type: 'text', nullable: true })
  revokedBy!: string | null;
}
