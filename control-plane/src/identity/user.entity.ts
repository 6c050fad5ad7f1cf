import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Role } from './roles.js';

/** Where a user comes from: created by an admin, provisioned at their first OIDC login, or the dev-only local admin. */
export type UserSource = 'local' | 'oidc' | 'dev';

/** A person: local, from the OIDC issuer, or the dev admin. Deleted users keep their row. */
@Entity({ name: 'users' })
export class UserEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  role!: Role;

  @Column({ type: 'text', array: true })
  groups!: string[];

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt!: Date | null;

  @Column({ name: 'deleted_by', type: 'text', nullable: true })
  deletedBy!: string | null;

  @Column({ type: 'text', default: 'local' })
  source!: UserSource;

  /** The OIDC issuer and its `sub` for the person: how a returning person is recognized. */
  @Column({ type: 'text', nullable: true })
  issuer!: string | null;

  @Column({ name: 'external_subject', type: 'text', nullable: true })
  externalSubject!: string | null;

  @Column({ type: 'text', nullable: true })
  email!: string | null;

  @Column({ name: 'last_login_at', type: 'timestamptz', nullable: true })
  lastLoginAt!: Date | null;
}
