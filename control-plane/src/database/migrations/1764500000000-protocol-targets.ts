import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SSH, HTTP and Kubernetes connections (with their type-specific options), the byte-level
 * recordings their sessions produce (asciicast chunks, numbered per session), and audit sink
 * delivery cursors.
 */
export class ProtocolTargets1764500000000 implements MigrationInterface {
  name = 'ProtocolTargets1764500000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE connections DROP CONSTRAINT connections_type_check`);
    await db.query(`ALTER TABLE connections ADD CONSTRAINT connections_type_check CHECK (type IN ('postgres', 'tcp', 'ssh', 'http', 'kubernetes'))`);
    await db.query(`ALTER TABLE connections ADD COLUMN options jsonb NOT NULL DEFAULT '{}'::jsonb`);
    await db.query(`
      CREATE TABLE session_recordings (
        session_id uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        sequence bigint NOT NULL CHECK (sequence >= 0),
        format text NOT NULL,
        data bytea NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (session_id, sequence)
      )`);
    // How far each audit sink has delivered the (append-only, ordered) audit log: the log is its own outbox.
    await db.query(`
      CREATE TABLE audit_sink_cursors (
        sink text PRIMARY KEY,
        delivered_through bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE audit_sink_cursors`);
    await db.query(`DROP TABLE session_recordings`);
    await db.query(`ALTER TABLE connections DROP COLUMN options`);
    await db.query(`ALTER TABLE connections DROP CONSTRAINT connections_type_check`);
    await db.query(`ALTER TABLE connections ADD CONSTRAINT connections_type_check CHECK (type IN ('postgres', 'tcp'))`);
  }
}
