import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from '../identity/principal.js';
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
  async list(@Query() query: ListSessionsQuery, @CurrentPrincipal() principal: Principal): Promise<SessionListView> {
    const sessions = await this.sessions.list({ limit: query.limit, connection: query.connection, subject: ownOnly(principal) });
    return { sessions: sessions.map(toSessionView) };
  }

  @Get(':id')
  @ApiOkResponse({ type: SessionDetailView, description: 'The session and its recorded statements, in order' })
  async get(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<SessionDetailView> {
    const { session, statements } = await this.sessions.getWithStatements(id, ownOnly(principal));
    return { ...toSessionView(session), statements: statements.map(toStatementView) };
  }
}

/** Admins see every session; anyone else only their own. */
function ownOnly(principal: Principal): string | undefined {
  return principal.role === 'admin' ? undefined : principal.subject;
}
