import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Agents authenticate with a key pair of their own instead of a shared secret: the control plane
 * keeps only the public key (and its fingerprint, to show). Agents can be revoked. The control
 * plane gets a stable identity, the audience of every agent assertion, shared by all replicas.
 *
 * Agents enrolled before this migration held a hashed shared key, which no longer authenticates:
 * they must be enrolled again with a new join token.
 */
export class AgentKeyPairs1764700000000 implements MigrationInterface {
  name = 'AgentKeyPairs1764700000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE agents DROP COLUMN key_prefix`);
    await db.query(`ALTER TABLE agents DROP COLUMN key_hash`);
    await db.query(`ALTER TABLE agents ADD COLUMN public_key text`);
    await db.query(`ALTER TABLE agents ADD COLUMN key_fingerprint text`);
    await db.query(`ALTER TABLE agents ADD COLUMN revoked_at timestamptz`);
    await db.query(`ALTER TABLE agents ADD COLUMN revoked_by text`);
    await db.query(`
      CREATE TABLE control_plane_identity (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        id uuid NOT NULL,
        created_at timestamptz NOT NULL
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE control_plane_identity`);
    await db.query(`ALTER TABLE agents DROP COLUMN revoked_by`);
    await db.query(`ALTER TABLE agents DROP COLUMN revoked_at`);
    await db.query(`ALTER TABLE agents DROP COLUMN key_fingerprint`);
    await db.query(`ALTER TABLE agents DROP COLUMN public_key`);
    await db.query(`ALTER TABLE agents ADD COLUMN key_hash text`);
    await db.query(`ALTER TABLE agents ADD COLUMN key_prefix text`);
  }
}
