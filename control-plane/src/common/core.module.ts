import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { ControlPlaneConfig } from '../config/config.js';
import { CLOCK, type Clock } from './clock.js';
import { CONFIG } from './config.token.js';
import { LOGGER, type StructuredLogger } from './logger.js';
import { ServerInfo } from './server-info.js';

export interface CoreDependencies {
  config: ControlPlaneConfig;
  clock: Clock;
  logger: StructuredLogger;
  serverInfo: ServerInfo;
}

/** Process-wide values every module may inject: config, clock, logger, and the advertised URL. */
@Global()
@Module({})
export class CoreModule {
  static forRoot(deps: CoreDependencies): DynamicModule {
    const providers = [
      { provide: CONFIG, useValue: deps.config },
      { provide: CLOCK, useValue: deps.clock },
      { provide: LOGGER, useValue: deps.logger },
      { provide: ServerInfo, useValue: deps.serverInfo },
    ];
    return { module: CoreModule, providers, exports: providers.map((p) => p.provide) };
  }
}
