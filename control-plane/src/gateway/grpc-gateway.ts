import { Inject, Injectable } from '@nestjs/common';
import { AgentServicePaths, ClientServicePaths, GrpcRouter } from '@airlock/proto';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { LOGGER, type StructuredLogger } from '../common/logger.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { AgentControlHandler } from './agent-control.handler.js';
import { AgentSessionHandler } from './agent-session.handler.js';
import { EnrollHandler } from './enroll.handler.js';
import { ExecHandler } from './exec.handler.js';
import { TunnelHandler } from './tunnel.handler.js';

/** Metric labels are bounded to the methods we serve; anything else counts as "other". */
const KNOWN_METHODS = new Set<string>([...Object.values(AgentServicePaths), ...Object.values(ClientServicePaths)]);

/** Every gRPC method the control plane serves, on one router fed by the HTTP/2 side of the port. */
@Injectable()
export class GrpcGateway {
  readonly router: GrpcRouter;

  constructor(
    enroll: EnrollHandler,
    control: AgentControlHandler,
    session: AgentSessionHandler,
    tunnel: TunnelHandler,
    exec: ExecHandler,
    private readonly metrics: MetricsService,
    @Inject(LOGGER) logger: StructuredLogger,
  ) {
    this.router = new GrpcRouter({
      maxMessageBytes: 64 * 1024 * 1024,
      onError: (error, path) => logger.error('gRPC handler failed', { path, error: (error as Error).message }),
    })
      .route(AgentServicePaths.enroll, enroll.serve)
      .route(AgentServicePaths.control, control.serve)
      .route(AgentServicePaths.session, session.serve)
      .route(ClientServicePaths.tunnel, tunnel.serve)
      .route(ClientServicePaths.exec, exec.serve);
  }

  /** Feeds the router and counts open calls, so a leaked call shows up in /metrics. */
  readonly handleStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void => {
    const method = String(headers[':path'] ?? 'unknown');
    const label = KNOWN_METHODS.has(method) ? method : 'other';
    this.metrics.grpcCallsOpen.inc({ method: label });
    stream.once('close', () => this.metrics.grpcCallsOpen.dec({ method: label }));
    this.router.handleStream(stream, headers);
  };
}
