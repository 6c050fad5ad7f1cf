import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Public } from '../identity/principal.js';

export class HealthView {
  @ApiProperty({ example: 'ok' }) status!: 'ok';
}

@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  @Get('healthz')
  @ApiOkResponse({ type: HealthView })
  health(): HealthView {
    return { status: 'ok' };
  }
}
