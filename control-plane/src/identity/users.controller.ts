import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ServerInfo } from '../common/server-info.js';
import { CreateUserDto } from './dto/create-user.dto.js';
import { AdminOnly, CurrentPrincipal, type Principal } from './principal.js';
import { CreatedUserView, toUserView, UserListView } from './user.views.js';
import { UsersService } from './users.service.js';

@ApiTags('users')
@ApiBearerAuth()
@AdminOnly('manage users')
@Controller('v1/users')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    @Inject(ServerInfo) private readonly server: ServerInfo,
  ) {}

  @Post()
  @ApiCreatedResponse({ type: CreatedUserView, description: 'The user and their token, shown only this once' })
  async create(@Body() body: CreateUserDto, @CurrentPrincipal() principal: Principal): Promise<CreatedUserView> {
    const { user, token } = await this.users.create(body, principal);
    return { user: toUserView(user), token, login: `airlock login --url ${this.server.publicUrl} --token ${token}` };
  }

  @Get()
  @ApiOkResponse({ type: UserListView, description: 'Local users, by name' })
  async list(): Promise<UserListView> {
    return { users: (await this.users.list()).map(toUserView) };
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted, and every token of theirs revoked' })
  async delete(@Param('name') name: string, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.users.delete(name, principal);
  }
}
