import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  AgentServicePaths,
  ControlRequestSchema,
  ControlResponseSchema,
  GrpcStatus,
} from '@airlock/proto';
import type { ControlRequest, ControlResponse, GrpcChannel, GrpcClientCall } from '@airlock/proto';
import type { Logger } from '../logger.js';
import { Backoff } from './backoff.js';

export type LinkState = 'initial' | 'connecting' | 'connected' | 'backoff' | 'closed';

export type ControlMessageInit = MessageInitShape<typeof ControlRequestSchema>;

export interface ControlLinkOptions {
  channel: GrpcChannel;
  hello: () => ControlMessageInit;
  /** When set, used instead of the interval the control plane's welcome asks for. */
  heartbeatMs: number | undefined;
  logger: Logger;
  onOrder: (message: ControlResponse) => void;
  /** Called when the control plane refuses the agent's key: retrying cannot help. */
  onRejected: (message: string) => void;
  activeSessions: () => number;
  /** Called after each (re)connection, once queued messages went out. */
  onConnected?: () => void;
}

/** Events queued while disconnected; beyond this the oldest are dropped with a warning. */
const MAX_QUEUED_MESSAGES = 50_000;
const WELCOME_TIMEOUT_MS = 10_000;
const DEFAULT_HEARTBEAT_MS = 5_000;

/**
 * The agent's one long-lived control stream: initial → connecting → connected → backoff → …,
 * closed only by stop(). Heartbeats keep it alive; a silent control plane is treated as gone.
 */
export class ControlLink {
  private linkState: LinkState = 'initial';
  private call: GrpcClientCall | undefined;
  private readonly queue: ControlMessageInit[] = [];
  private readonly backoff = new Backoff();
  private wakeBackoff: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private connectedWaiters: (() => void)[] = [];

  constructor(private readonly options: ControlLinkOptions) {}

  get state(): LinkState {
    return this.linkState;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Sends now when connected, otherwise after the next reconnect, in order. */
  send(message: ControlMessageInit): void {
    if (this.linkState === 'connected' && this.call && this.queue.length === 0) {
      this.call.write(toBinary(ControlRequestSchema, create(ControlRequestSchema, message)));
      return;
    }
    if (this.queue.length >= MAX_QUEUED_MESSAGES) {
      this.queue.shift();
      this.options.logger.warn('control plane unreachable for long: dropping the oldest queued event');
    }
    this.queue.push(message);
  }

  whenConnected(): Promise<void> {
    if (this.linkState === 'connected') return Promise.resolve();
    return new Promise((resolve) => this.connectedWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.setState('closed');
    this.wakeBackoff?.();
    if (this.call) {
      this.flushQueue();
      this.call.end();
      this.call.cancel();
    }
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.linkState !== 'closed') {
      this.setState('connecting');
      const outcome = await this.runOnce().catch((err: Error) => ({ code: GrpcStatus.UNAVAILABLE, message: err.message }));
      this.call = undefined;
      if (this.isClosed()) break;
      if (outcome.code === GrpcStatus.UNAUTHENTICATED || outcome.code === GrpcStatus.PERMISSION_DENIED) {
        this.setState('closed');
        this.options.onRejected(outcome.message);
        break;
      }
      const delay = this.backoff.nextDelayMs();
      this.options.logger.warn('control stream down; reconnecting', { reason: outcome.message, retryInMs: delay });
      this.setState('backoff');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wakeBackoff = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** One connection's lifetime; resolves with the status that ended it. */
  private async runOnce(): Promise<{ code: number; message: string }> {
    const call = this.options.channel.open(AgentServicePaths.control);
    this.call = call;
    call.write(toBinary(ControlRequestSchema, create(ControlRequestSchema, this.options.hello())));
    const welcomeTimer = setTimeout(() => call.cancel(), WELCOME_TIMEOUT_MS);
    let first: Buffer;
    try {
      first = await call.readOrFail();
    } catch (err) {
      return { code: (err as { code?: number }).code ?? GrpcStatus.UNAVAILABLE, message: (err as Error).message };
    } finally {
      clearTimeout(welcomeTimer);
    }
    const welcome = fromBinary(ControlResponseSchema, first);
    if (welcome.message.case !== 'welcome') return { code: GrpcStatus.INTERNAL, message: 'control plane sent no welcome' };
    this.options.logger.info('connected to the control plane', { agent: welcome.message.value.agentName });
    this.backoff.reset();
    this.setState('connected');
    this.flushQueue();
    this.options.onConnected?.();
    const stopHeartbeat = this.startHeartbeat(call, this.options.heartbeatMs ?? (welcome.message.value.heartbeatIntervalMs || DEFAULT_HEARTBEAT_MS));
    try {
      for await (const payload of call.reader.messages()) {
        this.lastHeard = Date.now();
        const message = fromBinary(ControlResponseSchema, payload);
        if (message.message.case !== 'heartbeatAck') this.options.onOrder(message);
      }
    } catch {
      // the status below says why
    } finally {
      stopHeartbeat();
    }
    return call.status;
  }

  private lastHeard = 0;

  private startHeartbeat(call: GrpcClientCall, intervalMs: number): () => void {
    let sequence = 0n;
    this.lastHeard = Date.now();
    const timer = setInterval(() => {
      if (Date.now() - this.lastHeard > intervalMs * 3) {
        this.options.logger.warn('control plane silent for three heartbeats; reconnecting');
        call.cancel();
        return;
      }
      sequence++;
      this.send({ message: { case: 'heartbeat', value: { sequence, activeSessions: this.options.activeSessions() } } });
    }, intervalMs);
    return () => clearInterval(timer);
  }

  private flushQueue(): void {
    const call = this.call;
    if (!call) return;
    while (this.queue.length > 0) {
      call.write(toBinary(ControlRequestSchema, create(ControlRequestSchema, this.queue.shift()!)));
    }
  }

  /** A method, not a field read, because stop() can close the link while run() awaits. */
  private isClosed(): boolean {
    return this.linkState === 'closed';
  }

  private setState(next: LinkState): void {
    if (this.linkState === 'closed') return;
    this.linkState = next;
    if (next === 'connected') {
      for (const resolve of this.connectedWaiters.splice(0)) resolve();
    }
  }
}
