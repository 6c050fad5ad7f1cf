/**
 * One Postgres session: terminates the client's startup (no password: the person is already
 * authenticated by the tunnel), logs in upstream with the agent-held credential, greets the client
 * with the server's parameters and an agent-issued cancel key, then relays.
 */
import { finished, type Duplex } from 'node:stream';
import type { SessionContext, SessionSummary } from '../engine.js';
import { endedMessage } from '../engine.js';
import { cancelRegistry as defaultCancelRegistry, type CancelRegistry } from './cancel-registry.js';
import { clientStartupParams, readClientStartup } from './client-startup.js';
import { FrontendParser, type FrontendFrame, type FrontendParserOptions } from './frontend-parser.js';
import { SessionCatalogResolver } from './catalog-resolver.js';
import { Relay } from './relay.js';
import { ResultRewriter } from './result-rewriter.js';
import * as ser from './serializer.js';
import { StatementTracker, type TrackerClock } from './statement-tracker.js';
import { loginUpstream, sendCancelRequest, UpstreamError, type UpstreamConnection, type UpstreamEndpoint } from './upstream-auth.js';

export interface PostgresSessionOptions {
  cancelRegistry?: CancelRegistry;
  parser?: FrontendParserOptions;
  maxServerMessageBytes?: number;
  loginTimeoutMs?: number;
  closeGraceMs?: number;
  clock?: TrackerClock;
}

type SummaryError = NonNullable<SessionSummary['error']>;

export class PostgresSession {
  private bytesFromClient = 0;
  private bytesToClient = 0;
  private error?: SummaryError;
  private readonly parser: FrontendParser;
  private readonly registry: CancelRegistry;

  constructor(
    private readonly client: Duplex,
    private readonly ctx: SessionContext,
    private readonly options: PostgresSessionOptions = {},
  ) {
    this.parser = new FrontendParser(options.parser);
    this.registry = options.cancelRegistry ?? defaultCancelRegistry;
  }

  /** Serves the session to its end. Never throws: failures are in the summary. */
  async run(): Promise<SessionSummary> {
    // A client stream error must never become an unhandled 'error' event; each phase handles its effect.
    const ignore = () => {};
    this.client.on('error', ignore);
    try {
      await this.serve();
    } catch (err) {
      this.ctx.logger.error('postgres session failed', { sessionId: this.ctx.sessionId, reason: (err as Error).message });
      this.error ??= { code: 'internal', message: `airlock: internal error in the Postgres session: ${(err as Error).message}` };
      this.client.destroy();
    }
    return { bytesFromClient: this.bytesFromClient, bytesToClient: this.bytesToClient, ...(this.error ? { error: this.error } : {}) };
  }

  private async serve(): Promise<void> {
    const startup = await readClientStartup(this.client, this.parser, (n) => (this.bytesFromClient += n), this.ctx.signal);
    switch (startup.kind) {
      case 'closed':
        if (this.ctx.signal.aborted) this.error = { code: 'killed', message: endedMessage(this.ctx.signal) };
        this.client.destroy();
        return;
      case 'violation':
        return this.refuse('protocol', '08P01', `airlock: invalid startup message from the client: ${startup.violation.message}`);
      case 'cancel':
        return this.forwardCancel(startup.processId, startup.secretKey);
      case 'startup': {
        const upstream = await this.login(startup.params);
        if (upstream) await this.relay(upstream, startup.pipelined);
      }
    }
  }

  private async login(clientParams: Record<string, string>): Promise<UpstreamConnection | undefined> {
    const { target } = this.ctx;
    try {
      return await loginUpstream({
        target,
        resolveSecret: (ref) => this.ctx.resolveSecret(ref),
        startupParams: clientStartupParams(clientParams),
        signal: this.ctx.signal,
        timeoutMs: this.options.loginTimeoutMs,
      });
    } catch (err) {
      if (this.ctx.signal.aborted) {
        await this.refuse('killed', '57P01', endedMessage(this.ctx.signal));
        return undefined;
      }
      const e = err instanceof UpstreamError ? err : new UpstreamError('protocol', (err as Error).message, '08P01');
      const message = e.kind === 'unreachable'
        ? `airlock: cannot reach target "${target.name}" at ${target.host}:${target.port}: ${e.detail}`
        : `airlock: login to target "${target.name}" as user "${target.user}" failed: ${e.reason}`;
      this.ctx.logger.warn('upstream login failed', { sessionId: this.ctx.sessionId, kind: e.kind, reason: e.reason });
      await this.refuse('target_unreachable', e.sqlstate, message);
      return undefined;
    }
  }

  private async relay(upstream: UpstreamConnection, pipelined: FrontendFrame[]): Promise<void> {
    const key = this.issueCancelKey(upstream);
    for (const [name, value] of upstream.parameters) this.ctx.gate?.onParameterStatus(name, value);
    const resolver = this.ctx.masking ? new SessionCatalogResolver(this.ctx, this.options.loginTimeoutMs) : undefined;
    try {
      this.writeToClient(this.greeting(upstream, key));
      const relay = new Relay(this.client, upstream.socket, this.parser, new StatementTracker(this.ctx.recorder, this.options.clock), {
        targetName: this.ctx.target.name,
        logger: this.ctx.logger,
        maxServerMessageBytes: this.options.maxServerMessageBytes,
        closeGraceMs: this.options.closeGraceMs,
        gate: this.ctx.gate,
        ...(this.ctx.masking && resolver ? { rewriter: this.rewriterFor(this.ctx.masking, resolver) } : {}),
      });
      const error = await relay.run(pipelined, upstream.leftover, this.ctx.signal);
      this.bytesFromClient += relay.bytesFromClient;
      this.bytesToClient += relay.bytesToClient;
      this.error = error;
    } finally {
      this.registry.release(key.processId);
      upstream.socket.destroy();
      resolver?.close();
    }
  }

  private rewriterFor(masking: NonNullable<SessionContext['masking']>, resolver: SessionCatalogResolver): ResultRewriter {
    return new ResultRewriter(masking, resolver, {
      maxMessageBytes: this.options.maxServerMessageBytes,
      statements: this.ctx.gate,
      // Fail closed: the result's columns are then masked as if every column rule matched them (a COPY is refused).
      onResolveError: (err) => this.ctx.logger.warn('masking could not name the result columns; masking them all', { sessionId: this.ctx.sessionId, reason: err.message }),
    });
  }

  /** AuthenticationOk, the server's parameters, the agent's own cancel key, ReadyForQuery: one write. */
  private greeting(upstream: UpstreamConnection, key: { processId: number; secretKey: number }): Buffer {
    return Buffer.concat([
      ser.authenticationOk(),
      ...upstream.parameters.map(([name, value]) => ser.parameterStatus(name, value)),
      ser.backendKeyData(key.processId, key.secretKey),
      ser.readyForQuery(upstream.status),
    ]);
  }

  private issueCancelKey(upstream: UpstreamConnection): { processId: number; secretKey: number } {
    const { target } = this.ctx;
    const endpoint: UpstreamEndpoint = {
      host: target.host,
      port: target.port,
      tlsMode: upstream.tls ? (target.tlsMode === 'verify-full' ? 'verify-full' : 'require') : 'disable',
    };
    // A server without BackendKeyData cannot be cancelled; the key then points at pid 0 and is never used.
    const real = upstream.backendKey ?? { processId: 0, secretKey: 0 };
    return this.registry.issue({ endpoint, ...real });
  }

  private async forwardCancel(processId: number, secretKey: number): Promise<void> {
    const target = this.registry.lookup(processId, secretKey);
    if (target && target.processId !== 0) {
      try {
        await sendCancelRequest(target.endpoint, target.processId, target.secretKey);
      } catch (err) {
        this.ctx.logger.warn('cancel request failed', { sessionId: this.ctx.sessionId, reason: (err as Error).message });
      }
    } else {
      // Like Postgres: an unknown key gets no answer, so the key space cannot be probed.
      this.ctx.logger.warn('cancel request with an unknown key', { sessionId: this.ctx.sessionId });
    }
    await this.closeClient();
  }

  /** Sends the client one FATAL ErrorResponse and closes; the summary carries the same sentence. */
  private async refuse(code: SummaryError['code'], sqlstate: string, message: string): Promise<void> {
    this.error = { code, message };
    await this.closeClient(ser.errorResponse({ severity: 'FATAL', code: sqlstate, message }));
  }

  private writeToClient(buf: Buffer): void {
    this.bytesToClient += buf.length;
    this.client.write(buf);
  }

  /** Ends the client stream and waits (bounded) for it to finish. */
  private closeClient(last?: Buffer): Promise<void> {
    if (last) this.bytesToClient += last.length;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.client.destroy();
        resolve();
      }, this.options.closeGraceMs ?? 5_000);
      finished(this.client, { readable: false }, () => {
        clearTimeout(timer);
        resolve();
      });
      this.client.end(last);
      this.client.resume(); // drain whatever the client still sends, so its side can end
    });
  }
}
