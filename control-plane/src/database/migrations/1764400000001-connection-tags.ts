import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Labels on connections, so policies can select them as tag:KEY=VALUE. */
export class ConnectionTags1764400000001 implements MigrationInterface {
  name = 'ConnectionTags1764400000001';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE connections ADD COLUMN tags jsonb NOT NULL DEFAULT '{}'::jsonb`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE connections DROP COLUMN tags`);
  }
}
