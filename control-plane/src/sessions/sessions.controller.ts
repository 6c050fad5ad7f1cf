import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ListSessionsQuery } from './dto/list-sessions.query.js';
import { SessionDetailView, SessionListView, toSessionView, toStatementView } from './session.views.js';
import { SessionsService } from './sessions.service.js';

@ApiTags('sessions')
@ApiBearerAuth()
@Controller('v1/sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Get()
  @ApiOkResponse({ type: SessionListView, description: 'Newest first' })
  async list(@Query() query: ListSessionsQuery): Promise<SessionListView> {
    const sessions = await this.sessions.list({ limit: query.limit, connection: query.connection });
    return { sessions: sessions.map(toSessionView) };
  }

  @Get(':id')
  @ApiOkResponse({ type: SessionDetailView, description: 'The session and its recorded statements, in order' })
  async get(@Param('id') id: string): Promise<SessionDetailView> {
    const { session, statements } = await this.sessions.getWithStatements(id);
    return { ...toSessionView(session), statements: statements.map(toStatementView) };
  }
}
