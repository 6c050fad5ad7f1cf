/** The SSH protocol engine: each tunnelled connection is an SshSession (ssh2 server toward the client, ssh2 client toward the target). */
import type { Duplex } from 'node:stream';
import type { ProtocolEngine, SessionContext, SessionSummary } from '../engine.js';
import { agentHostKey, type SshHostKey } from './host-key.js';
import { SshSession } from './session.js';

export interface SshEngineOptions {
  /** The host key clients see; by default the agent's persisted key (installed at start). */
  hostKey?: () => SshHostKey;
  connectTimeoutMs?: number;
}

export class SshEngine implements ProtocolEngine {
  readonly type = 'ssh' as const;

  constructor(private readonly options: SshEngineOptions = {}) {}

  serveTunnel(client: Duplex, ctx: SessionContext): Promise<SessionSummary> {
    const hostKey = (this.options.hostKey ?? agentHostKey)();
    return new SshSession(client, ctx, { hostKey, connectTimeoutMs: this.options.connectTimeoutMs ?? 15_000 }).run();
  }
}
