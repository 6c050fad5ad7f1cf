import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The Ed25519 key that signs session tokens, shared by every replica through the database. The
 * private half never leaves the control plane; retired keys stay so their tokens can be told apart.
 */
@Entity({ name: 'session_signing_keys' })
export class SigningKeyEntity {
  @PrimaryColumn({ type: 'text' })
  kid!: string;

  @Column({ type: 'text' })
  algorithm!: 'EdDSA';

  @Column({ name: 'public_jwk', type: 'jsonb' })
  publicJwk!: Record<string, unknown>;

  @Column({ name: 'private_pkcs8', type: 'text' })
  privatePkcs8!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'retired_at', type: 'timestamptz', nullable: true })
  retiredAt!: Date | null;
}
