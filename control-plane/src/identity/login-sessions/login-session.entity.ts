import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One login of a person (from `airlock login`): session tokens name it (`sid`), refresh tokens
 * extend it until `expiresAt`, and revoking it (logout, user deleted, refresh token reused) ends
 * every token of that login at once.
 */
@Entity({ name: 'login_sessions' })
export class LoginSessionEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  /** `oidc` for now; kept so other login methods can be told apart in the record. */
  @Column({ type: 'text' })
  method!: string;

  @Column({ name: 'source_address', type: 'text', nullable: true })
  sourceAddress!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'last_refreshed_at', type: 'timestamptz', nullable: true })
  lastRefreshedAt!: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'revoked_reason', type: 'text', nullable: true })
  revokedReason!: string | null;
}

/** A refresh token of a login session: usable once, then replaced by the next one. */
@Entity({ name: 'refresh_tokens' })
export class RefreshTokenEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'login_session_id', type: 'uuid' })
  loginSessionId!: string;

  @Column({ name: 'token_prefix', type: 'text' })
  tokenPrefix!: string;

  @Column({ name: 'token_hash', type: 'text' })
  tokenHash!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt!: Date | null;
}
