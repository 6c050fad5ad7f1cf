import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { AuditEventEntity } from './audit-event.entity.js';

export class AuditEventView {
  @ApiProperty() id!: number;
  @ApiProperty({ type: String, format: 'date-time' }) at!: string;
  @ApiProperty({ example: 'user:alice' }) actor!: string;
  @ApiProperty({ example: 'policy.applied' }) kind!: string;
  @ApiProperty({ example: 'policy/prod-postgres' }) target!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) details!: Record<string, unknown>;
  @ApiProperty({ description: "The previous event's hash (64 zeros for the first event)" }) prevHash!: string;
  @ApiProperty({ description: 'Hex SHA-256 of prevHash followed by the canonical JSON of id, at, actor, kind, target, details' }) hash!: string;
}

export class AuditListView {
  @ApiProperty({ type: [AuditEventView] }) events!: AuditEventView[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for older events; null on the last page' })
  nextCursor!: string | null;
}

export class AuditVerifyView {
  @ApiProperty() ok!: boolean;
  @ApiPropertyOptional({ description: 'When ok: how many events the chain holds' }) events?: number;
  @ApiPropertyOptional({ description: 'When ok: the hash of the newest event; keep it to detect events later cut off the end' }) head?: string;
  @ApiPropertyOptional({ description: 'When not ok: the first event that breaks the chain' }) firstBadEventId?: number;
  @ApiPropertyOptional({ enum: ['altered', 'removed', 'reordered', 'inserted'] }) problem?: string;
  @ApiPropertyOptional() message?: string;
}

export function toAuditEventView(event: AuditEventEntity): AuditEventView {
  return {
    id: Number(event.id),
    at: event.at.toISOString(),
    actor: event.actor,
    kind: event.kind,
    target: event.target,
    details: event.details,
    prevHash: event.prevHash,
    hash: event.hash,
  };
}
