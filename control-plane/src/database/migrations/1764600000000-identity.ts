import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Real identities: four roles, people from an OIDC issuer (and the dev-only local admin), the key
 * that signs session tokens, login sessions with rotating refresh tokens, and service accounts
 * with hashed API keys.
 */
export class Identity1764600000000 implements MigrationInterface {
  name = 'Identity1764600000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE users DROP CONSTRAINT users_role_check`);
    await db.query(`ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'reviewer', 'user', 'auditor'))`);
    await db.query(`ALTER TABLE users ADD COLUMN source text NOT NULL DEFAULT 'local' CHECK (source IN ('local', 'oidc', 'dev'))`);
    await db.query(`ALTER TABLE users ADD COLUMN issuer text`);
    await db.query(`ALTER TABLE users ADD COLUMN external_subject text`);
    await db.query(`ALTER TABLE users ADD COLUMN email text`);
    await db.query(`ALTER TABLE users ADD COLUMN last_login_at timestamptz`);
    await db.query(`ALTER TABLE users ADD CONSTRAINT users_oidc_identity_check CHECK ((source = 'oidc') = (issuer IS NOT NULL AND external_subject IS NOT NULL))`);
    // One live airlock user per person at an issuer, whatever their name becomes later.
    await db.query(`CREATE UNIQUE INDEX users_live_external_idx ON users (issuer, external_subject) WHERE deleted_at IS NULL AND issuer IS NOT NULL`);

    await db.query(`
      CREATE TABLE session_signing_keys (
        kid text PRIMARY KEY,
        algorithm text NOT NULL CHECK (algorithm = 'EdDSA'),
        public_jwk jsonb NOT NULL,
        private_pkcs8 text NOT NULL,
        created_at timestamptz NOT NULL,
        retired_at timestamptz
      )`);
    // Replicas starting together race to create the first key: only one active key may exist.
    await db.query(`CREATE UNIQUE INDEX session_signing_keys_one_active_idx ON session_signing_keys ((true)) WHERE retired_at IS NULL`);

    await db.query(`
      CREATE TABLE login_sessions (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
        method text NOT NULL,
        source_address text,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        last_refreshed_at timestamptz,
        revoked_at timestamptz,
        revoked_reason text
      )`);
    await db.query(`CREATE INDEX login_sessions_user_id_idx ON login_sessions (user_id)`);
    await db.query(`
      CREATE TABLE refresh_tokens (
        id uuid PRIMARY KEY,
        login_session_id uuid NOT NULL REFERENCES login_sessions (id) ON DELETE CASCADE,
        token_prefix text NOT NULL,
        token_hash text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL,
        used_at timestamptz
      )`);
    await db.query(`CREATE INDEX refresh_tokens_token_prefix_idx ON refresh_tokens (token_prefix)`);

    await db.query(`
      CREATE TABLE service_accounts (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        role text NOT NULL CHECK (role IN ('admin', 'reviewer', 'user', 'auditor')),
        groups text[] NOT NULL DEFAULT '{}',
        description text,
        key_prefix text NOT NULL,
        key_hash text NOT NULL UNIQUE,
        expires_at timestamptz,
        last_used_at timestamptz,
        created_at timestamptz NOT NULL,
        created_by text NOT NULL,
        revoked_at timestamptz,
        revoked_by text
      )`);
    // A revoked account's name may be given to a new one; the old row stays for the record.
    await db.query(`CREATE UNIQUE INDEX service_accounts_live_name_idx ON service_accounts (name) WHERE revoked_at IS NULL`);
    await db.query(`CREATE INDEX service_accounts_key_prefix_idx ON service_accounts (key_prefix)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE service_accounts`);
    await db.query(`DROP TABLE refresh_tokens`);
    await db.query(`DROP TABLE login_sessions`);
    await db.query(`DROP TABLE session_signing_keys`);
    await db.query(`DROP INDEX users_live_external_idx`);
    await db.query(`ALTER TABLE users DROP CONSTRAINT users_oidc_identity_check`);
    for (const column of ['last_login_at', 'email', 'external_subject', 'issuer', 'source']) await db.query(`ALTER TABLE users DROP COLUMN ${column}`);
    await db.query(`ALTER TABLE users DROP CONSTRAINT users_role_check`);
    await db.query(`ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'user'))`);
  }
}
