import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { PolicySpec } from './policy-document.js';

/** A policy at its current version. Deleting keeps the row (and every version) with deleted_at set. */
@Entity({ name: 'policies' })
export class PolicyEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text', unique: true })
  name!: string;

  @Column({ type: 'integer' })
  version!: number;

  /** The text as applied, comments included. */
  @Column({ type: 'text' })
  document!: string;

  /** The validated, normalized spec (defaults filled in, durations in seconds). */
  @Column({ type: 'jsonb' })
  spec!: PolicySpec;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'updated_by', type: 'text' })
  updatedBy!: string;

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt!: Date | null;

  @Column({ name: 'deleted_by', type: 'text', nullable: true })
  deletedBy!: string | null;
}
