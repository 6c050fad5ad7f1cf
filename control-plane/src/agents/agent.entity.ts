import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'agents' })
export class AgentEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text', unique: true })
  name!: string;

  @Column({ name: 'join_token_hash', type: 'text', nullable: true })
  joinTokenHash!: string | null;

  @Column({ name: 'join_token_expires_at', type: 'timestamptz', nullable: true })
  joinTokenExpiresAt!: Date | null;

  @Column({ name: 'join_token_used_at', type: 'timestamptz', nullable: true })
  joinTokenUsedAt!: Date | null;

  @Column({ name: 'key_prefix', type: 'text', nullable: true })
  keyPrefix!: string | null;

  @Column({ name: 'key_hash', type: 'text', nullable: true })
  keyHash!: string | null;

  @Column({ type: 'text', nullable: true })
  hostname!: string | null;

  @Column({ type: 'text', nullable: true })
  version!: string | null;

  @Column({ name: 'enrolled_at', type: 'timestamptz', nullable: true })
  enrolledAt!: Date | null;

  @Column({ name: 'last_seen_at', type: 'timestamptz', nullable: true })
  lastSeenAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
