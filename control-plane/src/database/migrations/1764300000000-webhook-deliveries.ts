import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The outbox of review webhooks: one row per event, delivered in `seq` order and kept as a record. */
export class WebhookDeliveries1764300000000 implements MigrationInterface {
  name = 'WebhookDeliveries1764300000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE webhook_deliveries (
        seq bigserial PRIMARY KEY,
        id uuid NOT NULL UNIQUE,
        event_type text NOT NULL,
        review_id integer NOT NULL REFERENCES reviews (id),
        body text NOT NULL,
        state text NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
        attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        last_error text,
        created_at timestamptz NOT NULL,
        next_attempt_at timestamptz NOT NULL,
        finished_at timestamptz
      )`);
    await db.query(`CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (seq) WHERE state = 'pending'`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE webhook_deliveries');
  }
}
