import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { AnyRole, CurrentPrincipal, type Principal } from './principal.js';
import { ROLES } from './roles.js';

export class WhoamiView {
  @ApiProperty({ example: 'user:alice@example.com' })
  subject!: string;

  @ApiProperty({ enum: ROLES })
  role!: string;

  @ApiProperty({ type: [String], example: ['engineers'] })
  groups!: string[];

  @ApiProperty({ enum: ['user', 'service-account', 'bootstrap'] })
  kind!: string;

  @ApiProperty({ enum: ['api-token', 'session-token', 'service-account-key'], description: 'What the caller authenticated with' })
  credential!: string;

  @ApiProperty({ description: 'The local admin of `airlock dev`: no identity provider, never for production' })
  devOnly!: boolean;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, description: 'When the presented credential stops working' })
  expiresAt!: string | null;
}

@ApiTags('identity')
@ApiBearerAuth()
@AnyRole()
@Controller('v1')
export class IdentityController {
  @Get('whoami')
  @ApiOkResponse({ type: WhoamiView, description: 'The caller, as the bearer credential identifies it' })
  whoami(@CurrentPrincipal() principal: Principal): WhoamiView {
    return {
      subject: principal.subject,
      role: principal.role,
      groups: [...principal.groups],
      kind: principal.kind ?? 'user',
      credential: principal.credential ?? 'api-token',
      devOnly: principal.devOnly ?? false,
      expiresAt: principal.expiresAt?.toISOString() ?? null,
    };
  }
}
