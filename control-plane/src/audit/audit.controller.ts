import { Readable } from 'node:stream';
import { Controller, Get, Query, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Roles } from '../identity/principal.js';
import { AuditListView, AuditVerifyView, toAuditEventView } from './audit.views.js';
import { AuditService } from './audit.service.js';
import { ExportAuditQuery, ListAuditQuery } from './dto/audit-filter.query.js';

@ApiTags('audit')
@ApiBearerAuth()
@Roles(['admin', 'auditor'], 'read the audit log')
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOkResponse({ type: AuditListView, description: 'Newest first' })
  async list(@Query() query: ListAuditQuery): Promise<AuditListView> {
    const page = await this.audit.list(query);
    return { events: page.events.map(toAuditEventView), nextCursor: page.nextCursor };
  }

  @Get('verify')
  @ApiOkResponse({ type: AuditVerifyView, description: 'The whole chain re-computed; the first event that breaks it, if any' })
  verify(): Promise<AuditVerifyView> {
    return this.audit.verify();
  }

  /** Oldest first, one JSON object per line (with hash and prevHash), streamed page by page. */
  @Get('export')
  @ApiProduces('application/x-ndjson')
  @ApiOkResponse({ description: 'JSON lines, oldest first, each an AuditEventView' })
  export(@Query() query: ExportAuditQuery): StreamableFile {
    const lines = Readable.from(jsonLines(this.audit.export(query)));
    return new StreamableFile(lines, { type: 'application/x-ndjson; charset=utf-8' });
  }
}

async function* jsonLines(events: ReturnType<AuditService['export']>): AsyncGenerator<string> {
  for await (const event of events) yield `${JSON.stringify(toAuditEventView(event))}\n`;
}
