import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { PolicySpec } from './policy-document.js';

/** Every version ever applied; the table refuses UPDATE and DELETE. */
@Entity({ name: 'policy_versions' })
export class PolicyVersionEntity {
  /** bigint: pg returns it as a string. */
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column({ name: 'policy_id', type: 'uuid' })
  policyId!: string;

  @Column({ type: 'integer' })
  version!: number;

  @Column({ type: 'text' })
  document!: string;

  @Column({ type: 'jsonb' })
  spec!: PolicySpec;

  @Column({ name: 'applied_at', type: 'timestamptz' })
  appliedAt!: Date;

  @Column({ name: 'applied_by', type: 'text' })
  appliedBy!: string;
}
