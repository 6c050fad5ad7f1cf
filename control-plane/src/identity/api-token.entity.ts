import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Role } from './roles.js';

export { ROLES, type Role } from './roles.js';

@Entity({ name: 'api_tokens' })
export class ApiTokenEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  /** The user's name, or `bootstrap-admin` for the token the control plane bootstraps. */
  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  role!: Role;

  /** The local user this token belongs to; null for the bootstrap admin token. */
  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId!: string | null;

  /** Visible part of the token, used to find the row; the rest of the token is never stored. */
  @Column({ name: 'token_prefix', type: 'text' })
  tokenPrefix!: string;

  @Column({ name: 'token_hash', type: 'text' })
  tokenHash!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
