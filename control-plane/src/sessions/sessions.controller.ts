import { Readable } from 'node:stream';
import { Body, Controller, Get, HttpCode, Param, Post, Query, StreamableFile } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { AdminOnly, AnyRole, CurrentPrincipal, type Principal } from '../identity/principal.js';
import { seesEverything } from '../identity/roles.js';
import { KillSessionDto } from './dto/kill-session.dto.js';
import { ListSessionsQuery } from './dto/list-sessions.query.js';
import { StatementsAfterQuery } from './dto/statements-after.query.js';
import { SessionKillService } from './session-kill.service.js';
import {
  SessionDetailView,
  SessionKillView,
  SessionListView,
  SessionStatementsView,
  toSessionView,
  toStatementView,
} from './session.views.js';
import { SessionsService } from './sessions.service.js';
import { SessionRecordingsService } from './session-recordings.service.js';

@ApiTags('sessions')
@ApiBearerAuth()
@AnyRole()
@Controller('v1/sessions')
export class SessionsController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly killer: SessionKillService,
    private readonly recordings: SessionRecordingsService,
  ) {}

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

  @Get(':id/statements')
  @ApiOkResponse({ type: SessionStatementsView, description: 'For followers (`airlock sessions tail`): statements after a sequence number, and the session status' })
  async statementsAfter(
    @Param('id') id: string,
    @Query() query: StatementsAfterQuery,
    @CurrentPrincipal() principal: Principal,
  ): Promise<SessionStatementsView> {
    const page = await this.sessions.statementsAfter(id, query.after ?? 0, { limit: query.limit, subject: ownOnly(principal) });
    return { session: toSessionView(page.session), statements: page.statements.map(toStatementView), more: page.more };
  }

  /** The terminal recording (asciicast v2) of an SSH shell session, streamed chunk by chunk as stored. */
  @Get(':id/recording')
  @ApiProduces('application/x-asciicast')
  @ApiOkResponse({ description: 'asciicast v2: a header line, then one [time, kind, data] event a line; 404 when the session has none' })
  async recording(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<StreamableFile> {
    await this.sessions.getVisible(id, ownOnly(principal));
    const chunks = await this.recordings.open(id);
    return new StreamableFile(Readable.from(castBytes(chunks)), { type: 'application/x-asciicast; charset=utf-8' });
  }

  @Post(':id/kill')
  @HttpCode(202)
  @AdminOnly('kill sessions')
  @ApiAcceptedResponse({ type: SessionKillView, description: 'The agent was told to end the session; 409 if it already ended, 503 if its agent is offline' })
  async kill(@Param('id') id: string, @Body() body: KillSessionDto, @CurrentPrincipal() principal: Principal): Promise<SessionKillView> {
    const order = await this.killer.kill(id, principal, body.reason);
    return { session: toSessionView(order.session), reason: order.reason };
  }
}

/** Admins and auditors see every session; anyone else only their own. */
function ownOnly(principal: Principal): string | undefined {
  return seesEverything(principal) ? undefined : principal.subject;
}

async function* castBytes(chunks: AsyncGenerator<{ data: Buffer }>): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) yield chunk.data;
}
