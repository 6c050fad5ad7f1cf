import { ApiProperty } from '@nestjs/swagger';
import type { SessionEventEntity } from './session-event.entity.js';
import type { SessionEntity } from './session.entity.js';

export class SessionErrorView {
  @ApiProperty({ example: 'control_plane_restarted' }) code!: string;
  @ApiProperty() message!: string;
}

export class SessionView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ description: 'Connection name at the time of the session' }) connection!: string;
  @ApiProperty({ format: 'uuid' }) connectionId!: string;
  @ApiProperty({ format: 'uuid' }) agentId!: string;
  @ApiProperty() subject!: string;
  @ApiProperty({ enum: ['tunnel', 'exec'] }) mode!: string;
  @ApiProperty({ type: String, nullable: true }) clientAddress!: string | null;
  @ApiProperty({ enum: ['opening', 'open', 'closed', 'failed'] }) status!: string;
  @ApiProperty({ type: String, format: 'date-time' }) startedAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) endedAt!: string | null;
  @ApiProperty() bytesFromClient!: number;
  @ApiProperty() bytesToClient!: number;
  @ApiProperty({ type: SessionErrorView, nullable: true }) error!: SessionErrorView | null;
  @ApiProperty({ type: Number, nullable: true, description: 'The just-in-time grant it was opened under' }) grantId!: number | null;
}

export class StatementErrorView {
  @ApiProperty({ type: String, nullable: true, example: '42P01' }) sqlstate!: string | null;
  @ApiProperty() message!: string;
}

export class StatementView {
  @ApiProperty() sequence!: number;
  @ApiProperty({ example: 'postgres' }) protocol!: string;
  @ApiProperty({ example: 'select 1' }) text!: string;
  @ApiProperty({ type: String, format: 'date-time' }) startedAt!: string;
  @ApiProperty({ description: 'Milliseconds, microsecond precision' }) durationMs!: number;
  @ApiProperty({ type: Number, nullable: true }) rows!: number | null;
  @ApiProperty({ type: String, nullable: true, example: 'SELECT 1' }) commandTag!: string | null;
  @ApiProperty({ type: StatementErrorView, nullable: true }) error!: StatementErrorView | null;
  @ApiProperty({ type: String, nullable: true, enum: ['allowed', 'denied', 'approved', 'rejected'], description: 'How policy judged it; null without a policy' })
  verdict!: string | null;
  @ApiProperty({ type: Number, nullable: true }) reviewId!: number | null;
}

export class SessionDetailView extends SessionView {
  @ApiProperty({ type: [StatementView] }) statements!: StatementView[];
}

export class SessionListView {
  @ApiProperty({ type: [SessionView] }) sessions!: SessionView[];
}

export function toSessionView(s: SessionEntity): SessionView {
  return {
    id: s.id,
    connection: s.connectionName,
    connectionId: s.connectionId,
    agentId: s.agentId,
    subject: s.subject,
    mode: s.mode,
    clientAddress: s.clientAddress,
    status: s.status,
    startedAt: s.startedAt.toISOString(),
    endedAt: s.endedAt === null ? null : s.endedAt.toISOString(),
    bytesFromClient: s.bytesFromClient,
    bytesToClient: s.bytesToClient,
    error: s.errorCode === null ? null : { code: s.errorCode, message: s.errorMessage ?? '' },
    grantId: s.grantId,
  };
}

export function toStatementView(e: SessionEventEntity): StatementView {
  const failed = e.errorSqlstate !== null || e.errorMessage !== null;
  return {
    sequence: e.sequence,
    protocol: e.protocol,
    text: e.statement,
    startedAt: e.startedAt.toISOString(),
    durationMs: e.durationUs / 1000,
    rows: e.rows,
    commandTag: e.commandTag,
    error: failed ? { sqlstate: e.errorSqlstate, message: e.errorMessage ?? '' } : null,
    verdict: e.verdict,
    reviewId: e.reviewId,
  };
}

export class SessionStatementsView {
  @ApiProperty({ type: SessionView, description: 'As it was just before the statements were read: once it has ended, no statement is missing' })
  session!: SessionView;
  @ApiProperty({ type: [StatementView], description: 'Statements after the `after` sequence number, in order' })
  statements!: StatementView[];
  @ApiProperty({ description: 'More statements follow: ask again with `after` set to the last sequence number' })
  more!: boolean;
}

export class SessionKillView {
  @ApiProperty({ type: SessionView, description: 'The session when the order left; the agent reports its end shortly after' })
  session!: SessionView;
  @ApiProperty({ example: 'killed by user:alice: dropping tables outside the change window', description: 'What the client is told' })
  reason!: string;
}
