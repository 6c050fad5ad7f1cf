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
import { type ControlPlaneConfig, ConfigError, defaultPublicUrl } from './config/config.js';
import { plaintextRefusal } from './config/transport-config.js';
import { bootstrapBanner } from './identity/bootstrap-banner.js';
import { type BootstrapOutcome, IdentityService } from './identity/identity.service.js';
import { SigningKeys } from './identity/session-tokens/signing-keys.js';
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
  const refusal = plaintextRefusal(config.transport, config.identity.devMode);
  if (refusal) throw new ConfigError(refusal);
  const serverInfo = new ServerInfo(config.publicUrl);
  const module = AppModule.forRoot({ config, clock: options.clock ?? systemClock, logger, serverInfo });
  // abortOnError: false makes a failed start reject instead of exiting the process.
  const app = await NestFactory.create<NestExpressApplication>(module, { logger, abortOnError: false });
  try {
    configureHttp(app, logger);
    await app.init(); // TypeORM connects and runs pending migrations here
    const bootstrap = await app.get(IdentityService).bootstrapAdmin(config.bootstrapToken, { devMode: config.identity.devMode });
    await app.get(SigningKeys).signingKey(); // generated at first start, so the first login does not wait for it
    const listener = await listen(app, config);
    const url = defaultPublicUrl(config.host, listener.port, config.transport.tls ? 'https' : 'http');
    if (!config.publicUrlExplicit) serverInfo.setPublicUrl(url);
    logger.info('control plane listening', { url, publicUrl: serverInfo.publicUrl, tls: config.transport.tls !== undefined, database: config.database.kind, version: CONTROL_PLANE_VERSION });
    if (!config.transport.tls) {
      logger.warn('serving HTTP and gRPC WITHOUT TLS: tokens and agent assertions cross the wire in clear text; for development on this machine only', {
        host: config.host,
        because: config.identity.devMode ? 'AIRLOCK_DEV_MODE' : 'AIRLOCK_INSECURE_PLAINTEXT',
      });
    }
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
    tls: config.transport.tls,
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
  } else if (outcome.kind === 'dev') {
    logger.warn('DEV MODE: the token from AIRLOCK_BOOTSTRAP_TOKEN belongs to the local admin user, marked dev-only; no identity provider. Never run this in production', { user: `user:${outcome.user}` });
  }
}
