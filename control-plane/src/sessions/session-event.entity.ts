import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { bigintAsNumber } from '../database/transformers.js';

/** One statement (or request) executed inside a session, as recorded by the agent. */
@Entity({ name: 'session_events' })
export class SessionEventEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column({ name: 'session_id', type: 'uuid' })
  sessionId!: string;

  @Column({ type: 'integer' })
  sequence!: number;

  @Column({ type: 'text' })
  protocol!: string;

  @Column({ type: 'text' })
  statement!: string;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt!: Date;

  @Column({ name: 'duration_us', type: 'bigint', transformer: bigintAsNumber })
  durationUs!: number;

  @Column({ type: 'bigint', nullable: true, transformer: bigintAsNumber })
  rows!: number | null;

  @Column({ name: 'command_tag', type: 'text', nullable: true })
  commandTag!: string | null;

  @Column({ name: 'error_sqlstate', type: 'text', nullable: true })
  errorSqlstate!: string | null;

  @Column({ name: 'error_message', type: 'text', nullable: true })
  errorMessage!: string | null;

  /** allowed | denied | approved | rejected; null when the session ran without a policy. */
  @Column({ type: 'text', nullable: true })
  verdict!: string | null;

  @Column({ name: 'review_id', type: 'integer', nullable: true })
  reviewId!: number | null;
}
