import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '../database/transformers.js';

/** One bounded chunk of a session's byte-level recording (asciicast v2 lines), numbered from 0. */
@Entity({ name: 'session_recordings' })
export class SessionRecordingEntity {
  @PrimaryColumn({ name: 'session_id', type: 'uuid' })
  sessionId!: string;

  @PrimaryColumn({ type: 'bigint', transformer: bigintAsNumber })
  sequence!: number;

  @Column({ type: 'text' })
  format!: string;

  @Column({ type: 'bytea' })
  data!: Buffer;

  @Column({ name: 'received_at', type: 'timestamptz' })
  receivedAt!: Date;
}
