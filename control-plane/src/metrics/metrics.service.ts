import { Injectable } from '@nestjs/common';
import promClient from 'prom-client';

const { collectDefaultMetrics, Counter, Gauge, Registry } = promClient;

/**
 * The control plane's Prometheus metrics. One registry per process (not prom-client's global), so
 * tests that start several control planes in one process do not share counters.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  /** Open gRPC calls by method: after sessions end, only control streams should remain. */
  readonly grpcCallsOpen = new Gauge({
    name: 'airlock_grpc_calls_open',
    help: 'gRPC calls currently open, by method',
    labelNames: ['method'] as const,
    registers: [this.registry],
  });

  readonly sessionsActive = new Gauge({
    name: 'airlock_sessions_active',
    help: 'Sessions currently relayed by this control plane, by mode',
    labelNames: ['mode'] as const,
    registers: [this.registry],
  });

  readonly sessionsTotal = new Counter({
    name: 'airlock_sessions_total',
    help: 'Sessions opened through this control plane, by mode and outcome',
    labelNames: ['mode', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly agentsConnected = new Gauge({
    name: 'airlock_agents_connected',
    help: 'Agents with a live control stream to this control plane',
    registers: [this.registry],
  });

  readonly agentSessionsActive = new Gauge({
    name: 'airlock_agent_sessions_active',
    help: 'Sessions an agent reports running, from its last heartbeat',
    labelNames: ['agent'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'airlock_control_plane_' });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
