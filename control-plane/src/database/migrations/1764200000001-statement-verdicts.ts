import type { MigrationInterface, QueryRunner } from 'typeorm';

/** How policy judged each recorded statement, and the review that released or refused it. */
export class StatementVerdicts1764200000001 implements MigrationInterface {
  name = 'StatementVerdicts1764200000001';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE session_events ADD COLUMN verdict text, ADD COLUMN review_id integer`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE session_events DROP COLUMN review_id, DROP COLUMN verdict`);
  }
}
