import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { type Clock, systemClock } from './common/clock.js';
import { HttpErrorFilter } from './common/http-error.filter.js';
import { type LineSink, StructuredLogger } from './common/logger.js';
import { ServerInfo } from './common/server-info.js';
import { requestValidationPipe } from './common/validation.js';
import { type ControlPlaneConfig, defaultPublicUrl } from './config/config.js';
import { bootstrapBanner } from './identity/bootstrap-banner.js';
import { type BootstrapOutcome, IdentityService } from './identity/identity.service.js';
import { serveOpenApi } from './openapi.js';
import { POLICY_TEXT_TYPES } from './policies/policies.controller.js';
import { MAX_DOCUMENT_BYTES } from './policies/policy-document.js';
import { listenDualProtocol } from './gateway/dual-protocol-listener.js';
import type { DualProtocolListener } from './gateway/dual-protocol-listener.js';
import { GrpcGateway } from './gateway/grpc-gateway.js';
import { CONTROL_PLANE_VERSION } from './version.js';

export interface StartOptions {
  /** Defaults to the system clock; tests pass one they can move. */
  clock?: Clock;
  /** Where structured log lines go (default: stdout). */
  logSink?: LineSink;
  /** Where the one-time admin token banner goes (default: stdout). */
  announce?: (text: string) => void;
}

export interface RunningControlPlane {
  readonly app: INestApplication;
  /** The URL this process listens on. */
  readonly url: string;
  /** What clients and agents are told to dial (AIRLOCK_PUBLIC_URL, or the listening URL). */
  readonly publicUrl: string;
  close(): Promise<void>;
}

/** Creates the app, runs migrations, makes sure an admin can log in, then listens. */
export async function startControlPlane(config: ControlPlaneConfig, options: StartOptions = {}): Promise<RunningControlPlane> {
  const logger = new StructuredLogger(config.logLevel, options.logSink);
  const serverInfo = new ServerInfo(config.publicUrl);
  const module = AppModule.forRoot({ config, clock: options.clock ?? systemClock, logger, serverInfo });
  // abortOnError: false makes a failed start reject instead of exiting the process.
  const app = await NestFactory.create<NestExpressApplication>(module, { logger, abortOnError: false });
  try {
    configureHttp(app, logger);
    await app.init(); // TypeORM connects and runs pending migrations here
    const bootstrap = await app.get(IdentityService).bootstrapAdmin(config.bootstrapToken);
    const listener = await listen(app, config);
    const url = defaultPublicUrl(config.host, listener.port);
    if (!config.publicUrlExplicit) serverInfo.setPublicUrl(url);
    logger.info('control plane listening', { url, publicUrl: serverInfo.publicUrl, database: config.database.kind, version: CONTROL_PLANE_VERSION });
    announceBootstrap(bootstrap, serverInfo.publicUrl, logger, options.announce);
    return {
      app,
      url,
      publicUrl: serverInfo.publicUrl,
      close: async () => {
        await listener.close();
        await app.close();
      },
    };
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
}

function configureHttp(app: NestExpressApplication, logger: StructuredLogger): void {
  // Policy documents may be sent as YAML text (`airlock apply -f policy.yaml`).
  app.useBodyParser('text', { type: POLICY_TEXT_TYPES, limit: 2 * MAX_DOCUMENT_BYTES });
  app.useGlobalPipes(requestValidationPipe());
  app.useGlobalFilters(new HttpErrorFilter(logger));
  serveOpenApi(app, CONTROL_PLANE_VERSION);
}

/**
 * Binds one port for both REST (HTTP/1.1, Nest) and gRPC (HTTP/2, the gateway's router), so CLI,
 * agents and API clients all use the same URL.
 */
export async function listen(app: INestApplication, config: ControlPlaneConfig): Promise<DualProtocolListener> {
  return listenDualProtocol({
    host: config.host,
    port: config.port,
    httpServer: app.getHttpServer(),
    onStream: app.get(GrpcGateway).handleStream,
  });
}

function announceBootstrap(
  outcome: BootstrapOutcome,
  publicUrl: string,
  logger: StructuredLogger,
  announce: (text: string) => void = (text) => process.stdout.write(text),
): void {
  if (outcome.kind === 'generated') {
    announce(bootstrapBanner(outcome.token, publicUrl));
    logger.info('generated the bootstrap admin token (shown once above)');
  } else if (outcome.kind === 'configured') {
    logger.info('admin token from AIRLOCK_BOOTSTRAP_TOKEN is active');
  }
}
