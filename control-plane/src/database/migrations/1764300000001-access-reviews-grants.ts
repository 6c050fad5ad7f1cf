import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Just-in-time access: a review may ask for access to a connection instead of holding a statement
 * (so it has no agent or session), an approved one becomes a grant, and each session records the
 * grant it was opened under so revoking or expiring the grant can end it.
 */
export class AccessReviewsGrants1764300000001 implements MigrationInterface {
  name = 'AccessReviewsGrants1764300000001';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE reviews
        ADD COLUMN kind text NOT NULL DEFAULT 'statement' CHECK (kind IN ('statement', 'access')),
        ADD COLUMN access_seconds integer CHECK (access_seconds >= 1),
        ALTER COLUMN agent_id DROP NOT NULL,
        ALTER COLUMN session_id DROP NOT NULL,
        ADD CONSTRAINT reviews_kind_shape CHECK (
          (kind = 'statement' AND agent_id IS NOT NULL AND session_id IS NOT NULL AND access_seconds IS NULL)
          OR (kind = 'access' AND agent_id IS NULL AND session_id IS NULL AND access_seconds IS NOT NULL)
        )`);
    await db.query(`
      CREATE TABLE grants (
        id serial PRIMARY KEY,
        subject text NOT NULL,
        connection_name text NOT NULL,
        review_id integer NOT NULL UNIQUE REFERENCES reviews (id),
        policy_name text NOT NULL,
        reviewers jsonb NOT NULL,
        state text NOT NULL CHECK (state IN ('active', 'revoked', 'expired')),
        starts_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoked_by text,
        CHECK (expires_at > starts_at),
        CHECK ((state = 'revoked') = (revoked_at IS NOT NULL AND revoked_by IS NOT NULL))
      )`);
    await db.query(`CREATE INDEX grants_active_idx ON grants (subject, connection_name, expires_at) WHERE state = 'active'`);
    await db.query(`ALTER TABLE sessions ADD COLUMN grant_id integer REFERENCES grants (id)`);
    await db.query(`CREATE INDEX sessions_live_grant_idx ON sessions (grant_id) WHERE grant_id IS NOT NULL AND status IN ('opening', 'open')`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP INDEX sessions_live_grant_idx');
    await db.query('ALTER TABLE sessions DROP COLUMN grant_id');
    await db.query('DROP TABLE grants');
    await db.query(`DELETE FROM review_decisions WHERE review_id IN (SELECT id FROM reviews WHERE kind = 'access')`);
    await db.query(`DELETE FROM reviews WHERE kind = 'access'`);
    await db.query(`
      ALTER TABLE reviews
        DROP CONSTRAINT reviews_kind_shape,
        ALTER COLUMN agent_id SET NOT NULL,
        ALTER COLUMN session_id SET NOT NULL,
        DROP COLUMN access_seconds,
        DROP COLUMN kind`);
  }
}
