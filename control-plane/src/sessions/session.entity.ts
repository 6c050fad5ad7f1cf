import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '../database/transformers.js';

export type SessionMode = 'tunnel' | 'exec';
export type SessionStatus = 'opening' | 'open' | 'closed' | 'failed';

@Entity({ name: 'sessions' })
export class SessionEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  /** Not a foreign key: sessions are audit history and outlive the connection they used. */
  @Column({ name: 'connection_id', type: 'uuid' })
  connectionId!: string;

  @Column({ name: 'connection_name', type: 'text' })
  connectionName!: string;

  @Column({ name: 'agent_id', type: 'uuid' })
  agentId!: string;

  @Column({ type: 'text' })
  subject!: string;

  @Column({ type: 'text' })
  mode!: SessionMode;

  @Column({ name: 'client_address', type: 'text', nullable: true })
  clientAddress!: string | null;

  @Column({ type: 'text' })
  status!: SessionStatus;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt!: Date;

  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true })
  endedAt!: Date | null;

  @Column({ name: 'bytes_from_client', type: 'bigint', transformer: bigintAsNumber })
  bytesFromClient!: number;

  @Column({ name: 'bytes_to_client', type: 'bigint', transformer: bigintAsNumber })
  bytesToClient!: number;

  @Column({ name: 'error_code', type: 'text', nullable: true })
  errorCode!: string | null;

  @Column({ name: 'error_message', type: 'text', nullable: true })
  errorMessage!: string | null;

  /** The just-in-time grant the session was opened under; revoking or expiring it kills the session. */
  @Column({ name: 'grant_id', type: 'integer', nullable: true })
  grantId!: number | null;
}
