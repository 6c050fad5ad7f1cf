import { Controller, Get, Header } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import promClient from 'prom-client';
import { Roles } from '../identity/principal.js';
import { MetricsService } from './metrics.service.js';

/** Prometheus scrape endpoint; needs a token like every other route (scrapers send it as a bearer). */
@ApiTags('metrics')
@ApiBearerAuth()
@Roles(['admin', 'auditor'], 'read metrics')
@Controller()
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get('metrics')
  @Header('Content-Type', promClient.contentType)
  @ApiOkResponse({ description: 'Prometheus text exposition format' })
  scrape(): Promise<string> {
    return this.metrics.render();
  }
}
