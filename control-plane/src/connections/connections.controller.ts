import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AdminOnly, AnyRole, CurrentPrincipal, type Principal } from '../identity/principal.js';
import { ConnectionListView, ConnectionView, toConnectionView } from './connection.views.js';
import { ConnectionsService } from './connections.service.js';
import { CreateConnectionDto } from './dto/create-connection.dto.js';

@ApiTags('connections')
@ApiBearerAuth()
@AnyRole()
@Controller('v1/connections')
export class ConnectionsController {
  constructor(private readonly connections: ConnectionsService) {}

  @Post()
  @AdminOnly('create connections')
  @ApiCreatedResponse({ type: ConnectionView })
  async create(@Body() body: CreateConnectionDto, @CurrentPrincipal() principal: Principal): Promise<ConnectionView> {
    return toConnectionView(await this.connections.create(body, principal.subject));
  }

  @Get()
  @ApiOkResponse({ type: ConnectionListView, description: 'All connections, by name' })
  async list(): Promise<ConnectionListView> {
    return { connections: (await this.connections.list()).map(toConnectionView) };
  }

  @Get(':name')
  @ApiOkResponse({ type: ConnectionView })
  async get(@Param('name') name: string): Promise<ConnectionView> {
    return toConnectionView(await this.connections.describe(name));
  }

  @Delete(':name')
  @AdminOnly('delete connections')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted; recorded sessions are kept' })
  async delete(@Param('name') name: string, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.connections.delete(name, principal.subject);
  }
}
