import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { AdminOnly } from '../identity/principal.js';
import { AUDIT_KIND_PATTERN, AUDIT_KINDS, type AuditEventEntity, type AuditKind } from './audit-event.entity.js';
import { AuditService, MAX_AUDIT_LIST_LIMIT } from './audit.service.js';

const LIMIT_RULE = `limit must be an integer between 1 and ${MAX_AUDIT_LIST_LIMIT}`;

export class ListAuditQuery {
  @ApiPropertyOptional({ example: 'policy.applied', description: `e.g. ${AUDIT_KINDS.join(', ')}` })
  @IsOptional()
  @IsString({ message: 'kind must be an event kind such as policy.applied' })
  @Matches(AUDIT_KIND_PATTERN, { message: 'kind must be an event kind such as policy.applied' })
  kind?: AuditKind;

  @ApiPropertyOptional({ example: 'policy/prod-postgres' })
  @IsOptional()
  @IsString({ message: 'target must be a string such as policy/NAME or user/NAME' })
  target?: string;

  @ApiPropertyOptional({ default: 100, minimum: 1, maximum: MAX_AUDIT_LIST_LIMIT })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: LIMIT_RULE })
  @Min(1, { message: LIMIT_RULE })
  @Max(MAX_AUDIT_LIST_LIMIT, { message: LIMIT_RULE })
  limit?: number;
}

export class AuditEventView {
  @ApiProperty() id!: number;
  @ApiProperty({ type: String, format: 'date-time' }) at!: string;
  @ApiProperty({ example: 'user:alice' }) actor!: string;
  @ApiProperty({ example: 'policy.applied' }) kind!: string;
  @ApiProperty({ example: 'policy/prod-postgres' }) target!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) details!: Record<string, unknown>;
}

export class AuditListView {
  @ApiProperty({ type: [AuditEventView] }) events!: AuditEventView[];
}

@ApiTags('audit')
@ApiBearerAuth()
@AdminOnly('read the audit log')
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOkResponse({ type: AuditListView, description: 'Newest first' })
  async list(@Query() query: ListAuditQuery): Promise<AuditListView> {
    return { events: (await this.audit.list(query)).map(toAuditEventView) };
  }
}

function toAuditEventView(event: AuditEventEntity): AuditEventView {
  return { id: Number(event.id), at: event.at.toISOString(), actor: event.actor, kind: event.kind, target: event.target, details: event.details };
}
