import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Tables for identity (tokens), agents, connections and recorded sessions. */
export class InitialSchema1764057600000 implements MigrationInterface {
  name = 'InitialSchema1764057600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE api_tokens (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        role text NOT NULL,
        token_prefix text NOT NULL,
        token_hash text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL,
        last_used_at timestamptz,
        revoked_at timestamptz
      )`);
    await db.query(`CREATE INDEX api_tokens_token_prefix_idx ON api_tokens (token_prefix)`);

    await db.query(`
      CREATE TABLE agents (
        id uuid PRIMARY KEY,
        name text NOT NULL UNIQUE,
        join_token_hash text UNIQUE,
        join_token_expires_at timestamptz,
        join_token_used_at timestamptz,
        key_prefix text,
        key_hash text,
        hostname text,
        version text,
        enrolled_at timestamptz,
        last_seen_at timestamptz,
        created_at timestamptz NOT NULL
      )`);
    await db.query(`CREATE INDEX agents_key_prefix_idx ON agents (key_prefix)`);

    await db.query(`
      CREATE TABLE connections (
        id uuid PRIMARY KEY,
        name text NOT NULL UNIQUE,
        type text NOT NULL CHECK (type IN ('postgres', 'tcp')),
        agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE RESTRICT,
        host text NOT NULL,
        port integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
        database text,
        username text,
        secret_ref text,
        tls_mode text NOT NULL,
        created_at timestamptz NOT NULL
      )`);
    await db.query(`CREATE INDEX connections_agent_id_idx ON connections (agent_id)`);

    await db.query(`
      CREATE TABLE sessions (
        id uuid PRIMARY KEY,
        connection_id uuid NOT NULL,
        connection_name text NOT NULL,
        agent_id uuid NOT NULL,
        subject text NOT NULL,
        mode text NOT NULL CHECK (mode IN ('tunnel', 'exec')),
        client_address text,
        status text NOT NULL CHECK (status IN ('opening', 'open', 'closed', 'failed')),
        started_at timestamptz NOT NULL,
        ended_at timestamptz,
        bytes_from_client bigint NOT NULL DEFAULT 0,
        bytes_to_client bigint NOT NULL DEFAULT 0,
        error_code text,
        error_message text
      )`);
    await db.query(`CREATE INDEX sessions_started_at_idx ON sessions (started_at DESC)`);
    await db.query(`CREATE INDEX sessions_connection_name_started_at_idx ON sessions (connection_name, started_at DESC)`);
    // Start-up sweeps for sessions a previous process left live; a partial index keeps that cheap.
    await db.query(`CREATE INDEX sessions_live_idx ON sessions (status) WHERE status IN ('opening', 'open')`);

    await db.query(`
      CREATE TABLE session_events (
        id bigserial PRIMARY KEY,
        session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        sequence integer NOT NULL,
        protocol text NOT NULL,
        statement text NOT NULL,
        started_at timestamptz NOT NULL,
        duration_us bigint NOT NULL,
        rows bigint,
        command_tag text,
        error_sqlstate text,
        error_message text,
        UNIQUE (session_id, sequence)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of ['session_events', 'sessions', 'connections', 'agents', 'api_tokens']) {
      await db.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
