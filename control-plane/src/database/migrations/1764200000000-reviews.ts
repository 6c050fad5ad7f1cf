import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Reviews of held statements, the decisions on them, and "approve for a while" windows. */
export class Reviews1764200000000 implements MigrationInterface {
  name = 'Reviews1764200000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE reviews (
        id serial PRIMARY KEY,
        request_id text NOT NULL UNIQUE,
        agent_id uuid NOT NULL,
        session_id uuid NOT NULL,
        connection_name text NOT NULL,
        requester text NOT NULL,
        statement text NOT NULL,
        kinds jsonb NOT NULL,
        tables jsonb NOT NULL,
        policy_name text NOT NULL,
        policy_version integer NOT NULL,
        reason text NOT NULL,
        fingerprint text NOT NULL,
        reviewers jsonb NOT NULL,
        approvals_required integer NOT NULL CHECK (approvals_required >= 1),
        reject_on_any boolean NOT NULL,
        approve_for_max_seconds integer NOT NULL,
        fail_fast boolean NOT NULL,
        state text NOT NULL CHECK (state IN ('pending', 'approved', 'rejected', 'expired', 'cancelled')),
        state_reason text,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        decided_at timestamptz,
        consumed_at timestamptz
      )`);
    await db.query(`CREATE INDEX reviews_pending_idx ON reviews (expires_at) WHERE state = 'pending'`);
    await db.query(`CREATE INDEX reviews_fingerprint_idx ON reviews (requester, connection_name, fingerprint)`);
    await db.query(`
      CREATE TABLE review_decisions (
        id serial PRIMARY KEY,
        review_id integer NOT NULL REFERENCES reviews (id),
        reviewer text NOT NULL,
        decision text NOT NULL CHECK (decision IN ('approve', 'reject')),
        comment text,
        approve_for_seconds integer,
        at timestamptz NOT NULL,
        UNIQUE (review_id, reviewer)
      )`);
    await db.query(`
      CREATE TABLE statement_approvals (
        id serial PRIMARY KEY,
        requester text NOT NULL,
        connection_name text NOT NULL,
        fingerprint text NOT NULL,
        review_id integer NOT NULL REFERENCES reviews (id),
        until timestamptz NOT NULL
      )`);
    await db.query(`CREATE INDEX statement_approvals_lookup_idx ON statement_approvals (requester, connection_name, fingerprint, until)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE statement_approvals');
    await db.query('DROP TABLE review_decisions');
    await db.query('DROP TABLE reviews');
  }
}
