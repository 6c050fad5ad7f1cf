import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { AUDIT_KIND_FILTER_PATTERN, AUDIT_KINDS } from '../audit-event.entity.js';
import { MAX_AUDIT_LIST_LIMIT } from '../audit.service.js';

const LIMIT_RULE = `limit must be an integer between 1 and ${MAX_AUDIT_LIST_LIMIT}`;
const KIND_RULE = 'kind must be an event kind such as policy.applied';

/** Filters shared by listing and export. */
export class AuditFilterQuery {
  @ApiPropertyOptional({ example: 'user:alice' })
  @IsOptional()
  @IsString({ message: 'actor must be a string such as user:alice' })
  actor?: string;

  @ApiPropertyOptional({ example: 'review.', description: `A kind, or a domain such as review. for all of its kinds; e.g. ${AUDIT_KINDS.join(', ')}` })
  @IsOptional()
  @IsString({ message: KIND_RULE })
  @Matches(AUDIT_KIND_FILTER_PATTERN, { message: KIND_RULE })
  kind?: string;

  @ApiPropertyOptional({ example: 'policy/prod-postgres' })
  @IsOptional()
  @IsString({ message: 'target must be a string such as policy/NAME or user/NAME' })
  target?: string;

  @ApiPropertyOptional({ example: 'prod-postgres', description: 'Events about this connection: its own, and sessions and reviews on it' })
  @IsOptional()
  @IsString({ message: 'connection must be a connection name' })
  connection?: string;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Events at or after this time' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'since must be an ISO-8601 time such as 2026-11-25T10:00:00Z' })
  since?: Date;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Events before this time' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'until must be an ISO-8601 time such as 2026-11-25T10:00:00Z' })
  until?: Date;
}

export class ListAuditQuery extends AuditFilterQuery {
  @ApiPropertyOptional({ default: 100, minimum: 1, maximum: MAX_AUDIT_LIST_LIMIT })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: LIMIT_RULE })
  @Min(1, { message: LIMIT_RULE })
  @Max(MAX_AUDIT_LIST_LIMIT, { message: LIMIT_RULE })
  limit?: number;

  @ApiPropertyOptional({ description: "A previous page's nextCursor: continues with older events" })
  @IsOptional()
  @Matches(/^[1-9]\d{0,18}$/, { message: "cursor must be a previous page's nextCursor" })
  cursor?: string;
}

export class ExportAuditQuery extends AuditFilterQuery {
  @ApiPropertyOptional({ enum: ['jsonl'], default: 'jsonl' })
  @IsOptional()
  @Matches(/^jsonl$/, { message: 'format must be jsonl' })
  format?: 'jsonl';
}
