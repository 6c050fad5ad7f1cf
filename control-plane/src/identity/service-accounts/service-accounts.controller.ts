import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CLOCK, type Clock } from '../../common/clock.js';
import { parseDuration } from '../../common/durations.js';
import { InvalidRequestError } from '../../common/errors.js';
import { AdminOnly, CurrentPrincipal, type Principal } from '../principal.js';
import { CreateServiceAccountDto } from './create-service-account.dto.js';
import { CreatedServiceAccountView, ServiceAccountListView, ServiceAccountView, toServiceAccountView } from './service-account.views.js';
import { ServiceAccountsService } from './service-accounts.service.js';

@ApiTags('service-accounts')
@ApiBearerAuth()
@AdminOnly('manage service accounts')
@Controller('v1/service-accounts')
export class ServiceAccountsController {
  constructor(
    private readonly accounts: ServiceAccountsService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post()
  @ApiCreatedResponse({ type: CreatedServiceAccountView, description: 'The account and its API key, shown only this once' })
  async create(@Body() body: CreateServiceAccountDto, @CurrentPrincipal() principal: Principal): Promise<CreatedServiceAccountView> {
    const expiresInSeconds = body.expiresIn === undefined ? undefined : parseDuration(body.expiresIn);
    if (body.expiresIn !== undefined && expiresInSeconds === undefined) throw new InvalidRequestError('expiresIn must be a duration such as 30d, 12h or 90m');
    const { account, key } = await this.accounts.create({ ...body, expiresInSeconds }, principal);
    return { serviceAccount: toServiceAccountView(account, this.clock.now()), key };
  }

  @Get()
  @ApiQuery({ name: 'all', required: false, enum: ['true', 'false'], description: 'Include revoked accounts' })
  @ApiOkResponse({ type: ServiceAccountListView, description: 'By name; never the keys, only their prefixes' })
  async list(@Query('all') all?: string): Promise<ServiceAccountListView> {
    if (all !== undefined && all !== 'true' && all !== 'false') throw new InvalidRequestError('all must be true or false');
    const now = this.clock.now();
    return { serviceAccounts: (await this.accounts.list(all === 'true')).map((a) => toServiceAccountView(a, now)) };
  }

  @Delete(':name')
  @HttpCode(200)
  @ApiOkResponse({ type: ServiceAccountView, description: 'Revoked: its key stops working at once' })
  async revoke(@Param('name') name: string, @CurrentPrincipal() principal: Principal): Promise<ServiceAccountView> {
    return toServiceAccountView(await this.accounts.revoke(name, principal), this.clock.now());
  }
}
