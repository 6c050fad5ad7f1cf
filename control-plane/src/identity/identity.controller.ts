import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from './principal.js';

export class WhoamiView {
  @ApiProperty({ example: 'bootstrap-admin' })
  subject!: string;

  @ApiProperty({ enum: ['admin', 'user'] })
  role!: string;

  @ApiProperty({ type: [String], example: ['engineers'] })
  groups!: string[];
}

@ApiTags('identity')
@ApiBearerAuth()
@Controller('v1')
export class IdentityController {
  @Get('whoami')
  @ApiOkResponse({ type: WhoamiView, description: 'The caller, as the bearer token identifies it' })
  whoami(@CurrentPrincipal() principal: Principal): WhoamiView {
    return { subject: principal.subject, role: principal.role, groups: [...principal.groups] };
  }
}
