import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The SSH host key each agent reports in its hello: clients of ssh connections pin it. */
export class AgentSshHostKey1764500000001 implements MigrationInterface {
  name = 'AgentSshHostKey1764500000001';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE agents ADD COLUMN ssh_host_key text`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE agents DROP COLUMN ssh_host_key`);
  }
}
