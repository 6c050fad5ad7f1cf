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

  /** The agent's Ed25519 public key (SPKI PEM), registered at enrolment; its private key never leaves the agent. */
  @Column({ name: 'public_key', type: 'text', nullable: true })
  publicKey!: string | null;

  /** `SHA256:<base64>` of the public key, to show and compare with what the agent logs. */
  @Column({ name: 'key_fingerprint', type: 'text', nullable: true })
  keyFingerprint!: string | null;

  /** Once set, the agent's streams are closed and every later call is refused; there is no way back. */
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'revoked_by', type: 'text', nullable: true })
  revokedBy!: string | null;

  @Column({ type: 'text', nullable: true })
  hostname!: string | null;

  @Column({ type: 'text', nullable: true })
  version!: string | null;

  /** The SSH host key the agent reported (`ssh-ed25519 AAAA...`); clients of its ssh connections pin it. */
  @Column({ name: 'ssh_host_key', type: 'text', nullable: true })
  sshHostKey!: string | null;

  @Column({ name: 'enrolled_at', type: 'timestamptz', nullable: true })
  enrolledAt!: Date | null;

  @Column({ name: 'last_seen_at', type: 'timestamptz', nullable: true })
  lastSeenAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
