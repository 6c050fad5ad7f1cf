import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Local users (and their tokens), versioned policies, and the append-only audit log. */
export class UsersPoliciesAudit1764144000000 implements MigrationInterface {
  name = 'UsersPoliciesAudit1764144000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        role text NOT NULL CHECK (role IN ('admin', 'user')),
        groups text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL,
        created_by text NOT NULL,
        deleted_at timestamptz,
        deleted_by text
      )`);
    // A deleted user's name may be given to a new user; the old row stays for the record.
    await db.query(`CREATE UNIQUE INDEX users_live_name_idx ON users (name) WHERE deleted_at IS NULL`);

    await db.query(`ALTER TABLE api_tokens ADD COLUMN user_id uuid REFERENCES users (id) ON DELETE RESTRICT`);
    await db.query(`CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id)`);

    await db.query(`
      CREATE TABLE policies (
        id uuid PRIMARY KEY,
        name text NOT NULL UNIQUE,
        version integer NOT NULL CHECK (version >= 1),
        document text NOT NULL,
        spec jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        created_by text NOT NULL,
        updated_at timestamptz NOT NULL,
        updated_by text NOT NULL,
        deleted_at timestamptz,
        deleted_by text
      )`);

    await db.query(`
      CREATE TABLE policy_versions (
        id bigserial PRIMARY KEY,
        policy_id uuid NOT NULL REFERENCES policies (id) ON DELETE RESTRICT,
        version integer NOT NULL,
        document text NOT NULL,
        spec jsonb NOT NULL,
        applied_at timestamptz NOT NULL,
        applied_by text NOT NULL,
        UNIQUE (policy_id, version)
      )`);

    await db.query(`
      CREATE TABLE audit_events (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL,
        actor text NOT NULL,
        kind text NOT NULL,
        target text NOT NULL,
        details jsonb NOT NULL DEFAULT '{}'
      )`);
    await db.query(`CREATE INDEX audit_events_kind_id_idx ON audit_events (kind, id DESC)`);

    // Versions and audit events are history: refuse to rewrite it, whoever asks.
    await db.query(`
      CREATE FUNCTION airlock_refuse_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = '55000';
      END $$`);
    for (const table of ['policy_versions', 'audit_events']) {
      await db.query(`
        CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table}
        FOR EACH ROW EXECUTE FUNCTION airlock_refuse_history_change()`);
    }
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of ['audit_events', 'policy_versions', 'policies']) await db.query(`DROP TABLE IF EXISTS ${table}`);
    await db.query(`DROP FUNCTION IF EXISTS airlock_refuse_history_change()`);
    await db.query(`ALTER TABLE api_tokens DROP COLUMN IF EXISTS user_id`);
    await db.query(`DROP TABLE IF EXISTS users`);
  }
}
