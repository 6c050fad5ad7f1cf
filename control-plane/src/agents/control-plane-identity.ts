import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { CLOCK, type Clock } from '../common/clock.js';

/**
 * Who this control plane is, to its agents: the `aud` of every agent assertion. It is a row, made at
 * first use, so every replica on the same database is the same control plane, and an assertion
 * made for another airlock installation is refused here.
 */
@Injectable()
export class ControlPlaneIdentity {
  private audience: Promise<string> | undefined;

  constructor(@InjectDataSource() private readonly db: DataSource, @Inject(CLOCK) private readonly clock: Clock) {}

  /** `urn:airlock:control-plane:<uuid>`, stable for the life of the database. */
  agentAudience(): Promise<string> {
    this.audience ??= this.loadOrCreate().catch((error: unknown) => {
      this.audience = undefined; // a failed read is retried by the next caller
      throw error;
    });
    return this.audience;
  }

  private async loadOrCreate(): Promise<string> {
    // Two replicas starting together may both try: the singleton key lets exactly one row in.
    await this.db.query('INSERT INTO control_plane_identity (id, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
      randomUUID(),
      this.clock.now(),
    ]);
    const rows: Array<{ id: string }> = await this.db.query('SELECT id FROM control_plane_identity');
    return `urn:airlock:control-plane:${rows[0].id}`;
  }
}
