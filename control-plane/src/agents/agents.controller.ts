import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ServerInfo } from '../common/server-info.js';
import { AdminOnly, CurrentPrincipal, type Principal } from '../identity/principal.js';
import { AgentRegistry } from './agent-registry.js';
import { AgentListView, AgentView, CreatedAgentView, toAgentView } from './agent.views.js';
import { AgentsService } from './agents.service.js';
import { CreateAgentDto } from './dto/create-agent.dto.js';

@ApiTags('agents')
@ApiBearerAuth()
@AdminOnly('manage agents')
@Controller('v1/agents')
export class AgentsController {
  constructor(
    private readonly agents: AgentsService,
    private readonly registry: AgentRegistry,
    @Inject(ServerInfo) private readonly server: ServerInfo,
  ) {}

  @Post()
  @ApiCreatedResponse({ type: CreatedAgentView, description: 'The agent and its one-time join token' })
  async create(@Body() body: CreateAgentDto, @CurrentPrincipal() principal: Principal): Promise<CreatedAgentView> {
    const created = await this.agents.create(body.name, body.joinTokenTtlSeconds, principal.subject);
    return {
      agent: toAgentView(created.agent, null),
      joinToken: created.joinToken,
      joinTokenExpiresAt: created.joinTokenExpiresAt.toISOString(),
      command: `airlock-agent --url ${this.server.publicUrl} --join-token ${created.joinToken}`,
    };
  }

  @Get()
  @ApiOkResponse({ type: AgentListView, description: 'All agents, by name' })
  async list(): Promise<AgentListView> {
    const agents = await this.agents.list();
    return { agents: agents.map((a) => toAgentView(a, this.registry.connectedAt(a.id))) };
  }

  @Post(':name/revoke')
  @HttpCode(200)
  @ApiOkResponse({ type: AgentView, description: "Revoked: the agent's control and session streams are closed and it is refused from now on" })
  async revoke(@Param('name') name: string, @CurrentPrincipal() principal: Principal): Promise<AgentView> {
    return toAgentView(await this.agents.revoke(name, principal.subject), null);
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted; a connected agent is disconnected' })
  async delete(@Param('name') name: string, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.agents.delete(name, principal.subject);
  }
}
