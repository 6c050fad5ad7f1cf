import { Controller, Delete, Get, Inject, Param, ParseIntPipe, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CLOCK, type Clock } from '../common/clock.js';
import { InvalidRequestError } from '../common/errors.js';
import { AnyRole, CurrentPrincipal, type Principal, Roles } from '../identity/principal.js';
import { GrantListView, GrantView, toGrantView } from './grant.views.js';
import { GrantsService } from './grants.service.js';

@ApiTags('grants')
@ApiBearerAuth()
@AnyRole()
@Controller('v1/grants')
export class GrantsController {
  constructor(
    private readonly grants: GrantsService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get()
  @ApiQuery({ name: 'active', required: false, enum: ['true', 'false'], description: 'Only grants in force now' })
  @ApiOkResponse({ type: GrantListView, description: 'Newest first; admins see everyone\'s grants, others their own' })
  async list(@CurrentPrincipal() principal: Principal, @Query('active') active?: string): Promise<GrantListView> {
    if (active !== undefined && active !== 'true' && active !== 'false') throw new InvalidRequestError('active must be true or false');
    const grants = await this.grants.list(principal, { active: active === 'true' });
    const now = this.clock.now();
    return { grants: grants.map((g) => toGrantView(g, now)) };
  }

  @Delete(':id')
  @Roles(['admin', 'reviewer'], 'revoke grants')
  @ApiOkResponse({ type: GrantView, description: 'Revoked: the holder\'s sessions under it are killed' })
  async revoke(@Param('id', ParseIntPipe) id: number, @CurrentPrincipal() principal: Principal): Promise<GrantView> {
    return toGrantView(await this.grants.revoke(id, principal), this.clock.now());
  }
}
