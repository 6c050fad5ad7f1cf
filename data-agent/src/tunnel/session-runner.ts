import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  AgentServicePaths,
  ConnectionType,
  ResumableStream,
  ErrorCode,
  frameMessage,
  SessionMode,
  SessionRequestSchema,
  TlsMode,
} from '@airlock/proto';
import type { GrpcChannel, GrpcClientCall, OpenSession } from '@airlock/proto';
import type { ControlLink } from '../link/control-link.js';
import type { Logger } from '../logger.js';
import { EngineError } from '../protocols/engine.js';
import type { ConnectionTarget, ExecOutcome, ProtocolEngine, ResultMasking, SessionContext, SessionSummary, StatementGate } from '../protocols/engine.js';
import type { StatementBatcher } from '../recording/statement-batcher.js';
import { AsciicastRecorder, type RecordingChunkOut } from '../recording/terminal-recorder.js';
import type { EventJournal, RecordingFailureMode } from '../recording/event-journal.js';
import type { DecisionBroker } from '../reviews/decision-broker.js';
import { toWireOutcome } from './exec-outcome.js';

const ENGINE_ERROR_CODES: Record<EngineError['code'], ErrorCode> = {
  target_unreachable: ErrorCode.TARGET_UNREACHABLE,
  protocol: ErrorCode.PROTOCOL,
  internal: ErrorCode.INTERNAL,
  killed: ErrorCode.KILLED,
  unsupported: ErrorCode.INTERNAL,
};

/** How long a session whose stream was cut waits for the control plane to resume it. */
const RESUME_GRACE_MS = 60_000;

const TLS_MODES: Record<number, ConnectionTarget['tlsMode']> = {
  [TlsMode.DISABLE]: 'disable',
  [TlsMode.PREFER]: 'prefer',
  [TlsMode.REQUIRE]: 'require',
  [TlsMode.VERIFY_FULL]: 'verify-full',
};

const CONNECTION_TYPES: Record<number, ConnectionTarget['type']> = {
  [ConnectionType.POSTGRES]: 'postgres',
  [ConnectionType.TCP]: 'tcp',
  [ConnectionType.SSH]: 'ssh',
  [ConnectionType.HTTP]: 'http',
  [ConnectionType.KUBERNETES]: 'kubernetes',
};

export interface SessionRunnerDeps {
  channel: GrpcChannel;
  link: ControlLink;
  logger: Logger;
  engineFor: (type: ConnectionTarget['type']) => ProtocolEngine;
  resolveSecret: (ref: string) => string;
  decisions: DecisionBroker;
  statements: StatementBatcher;
  /** Session events on their way to the control plane, kept until it stored them. */
  events: EventJournal;
  /** Builds the statement gate for a session's policy; undefined means no gate (unrestricted). */
  gateFor: (sessionId: string, policy: OpenSession['policy']) => StatementGate | undefined;
  /** Builds result masking for a session's policy; undefined (or absent) means results pass unchanged. */
  maskingFor?: (policy: OpenSession['policy']) => ResultMasking | undefined;
}

/** Every policy of the session must allow running unrecorded; no policy (an unrestricted admin) means it must be recorded. */
export function recordingFailureMode(policy: OpenSession['policy']): RecordingFailureMode {
  const policies = policy?.policies ?? [];
  return policies.length > 0 && policies.every((p) => p.continueWithoutRecording) ? 'continue' : 'stop-session';
}

export function targetFromSpec(order: OpenSession): ConnectionTarget {
  const spec = order.connection!;
  return {
    name: spec.name,
    type: CONNECTION_TYPES[spec.type] ?? 'postgres',
    host: spec.host,
    port: spec.port,
    database: spec.database,
    user: spec.user,
    secretRef: spec.secretRef,
    tlsMode: TLS_MODES[spec.tlsMode] ?? 'prefer',
    options: { ...spec.options },
  };
}

/** Runs the sessions the control plane orders, each on its own Session stream. */
export class SessionRunner {
  private readonly active = new Map<string, AbortController>();
  /** Tunnel sessions by id, so a cut stream can be re-attached when the control plane comes back. */
  private readonly streams = new Map<string, ResumableStream>();

  constructor(private readonly deps: SessionRunnerDeps) {}

  get activeCount(): number {
    return this.active.size;
  }

  open(order: OpenSession): void {
    if (order.resume) return void this.resume(order).catch((err: Error) => this.refuseResume(order.sessionId, err.message));
    const controller = new AbortController();
    this.active.set(order.sessionId, controller);
    this.deps.events.track(order.sessionId, recordingFailureMode(order.policy));
    void this.run(order, controller.signal)
      .catch((err: Error) => this.deps.logger.error('session failed', { session: order.sessionId, error: err.message }))
      .finally(() => {
        this.active.delete(order.sessionId);
        this.deps.events.untrack(order.sessionId);
      });
  }

  private sendRecording(sessionId: string, chunk: RecordingChunkOut): void {
    this.deps.statements.flush(); // statements and recording chunks reach the control plane in the order they happened
    this.deps.events.sendEvents([{ sessionId, event: { case: 'recording', value: { format: chunk.format, sequence: BigInt(chunk.sequence), data: chunk.data } } }]);
  }

  kill(sessionId: string, reason: string): void {
    this.active.get(sessionId)?.abort(new Error(reason));
  }

  killAll(reason: string): void {
    for (const controller of this.active.values()) controller.abort(new Error(reason));
  }

  private async run(order: OpenSession, signal: AbortSignal): Promise<void> {
    const target = targetFromSpec(order);
    const logger = this.deps.logger.child({ session: order.sessionId, connection: target.name });
    const recorder = this.deps.statements.recorderFor(order.sessionId);
    const ctx: SessionContext = {
      sessionId: order.sessionId,
      target,
      resolveSecret: this.deps.resolveSecret,
      recorder,
      logger,
      signal,
      gate: this.deps.gateFor(order.sessionId, order.policy),
    };
    const masking = this.deps.maskingFor?.(order.policy);
    if (masking) ctx.masking = masking;
    const terminal = new AsciicastRecorder((chunk) => this.sendRecording(order.sessionId, chunk));
    ctx.terminal = terminal;
    const call = this.deps.channel.open(AgentServicePaths.session);
    call.write(toBinary(SessionRequestSchema, create(SessionRequestSchema, { frame: { case: 'attach', value: { sessionId: order.sessionId } } })));
    const engine = this.deps.engineFor(target.type);
    if (order.mode === SessionMode.EXEC) {
      await this.runExec(order, engine, ctx, call);
      this.deps.statements.flush();
      return;
    }
    const summary = await this.runTunnel(engine, ctx, call);
    terminal.flush();
    this.deps.statements.flush();
    this.deps.events.sendEvents([
      {
        sessionId: order.sessionId,
        event: {
          case: 'ended',
          value: {
            endedAt: timestampFromDate(new Date()),
            bytesFromClient: BigInt(summary.bytesFromClient),
            bytesToClient: BigInt(summary.bytesToClient),
            error: summary.error ? { code: ENGINE_ERROR_CODES[summary.error.code], message: summary.error.message } : undefined,
          },
        },
      },
    ]);
  }

  private async runTunnel(engine: ProtocolEngine, ctx: SessionContext, call: GrpcClientCall): Promise<SessionSummary> {
    const client = new ResumableStream({ source: call.stream, sink: call.stream });
    client.on('error', () => undefined);
    this.streams.set(ctx.sessionId, client);
    // A cut without a close is the control plane going away: keep the session for a while.
    let giveUp: NodeJS.Timeout | undefined;
    client.on('detached', () => {
      ctx.logger.warn('session stream cut; waiting for the control plane to resume it');
      giveUp = setTimeout(() => client.destroy(new Error('the control plane did not resume the session')), RESUME_GRACE_MS);
      giveUp.unref();
    });
    client.on('resumed', () => clearTimeout(giveUp));
    try {
      const summary = await engine.serveTunnel(client, ctx);
      if (summary.error) client.closeWithError(ENGINE_ERROR_CODES[summary.error.code], summary.error.message);
      else if (!client.writableEnded) client.end();
      return summary;
    } finally {
      clearTimeout(giveUp);
      this.streams.delete(ctx.sessionId);
    }
  }

  /** Re-attaches a live session to the new stream the control plane asked for, resending what was lost. */
  private async resume(order: OpenSession): Promise<void> {
    const stream = this.streams.get(order.sessionId);
    if (!stream || stream.destroyed) throw new Error(`session ${order.sessionId} is no longer running on this agent`);
    const call = this.deps.channel.open(AgentServicePaths.session);
    call.stream.on('error', () => undefined);
    call.write(
      toBinary(
        SessionRequestSchema,
        create(SessionRequestSchema, { frame: { case: 'attach', value: { sessionId: order.sessionId, receivedBytes: BigInt(stream.receivedBytes) } } }),
      ),
    );
    stream.attach({ source: call.stream, sink: call.stream }, Number(order.peerReceivedBytes));
    stream.emit('resumed');
    this.deps.logger.info('session resumed', { session: order.sessionId });
  }

  private refuseResume(sessionId: string, message: string): void {
    this.deps.link.send({ message: { case: 'sessionOpenFailed', value: { sessionId, error: { code: ErrorCode.UNKNOWN_CONNECTION, message } } } });
  }

  /** airlock exec goes through the same policy as a tunnelled statement; a refusal is a 42501 result. */
  private async judgeExec(sql: string, ctx: SessionContext, call: GrpcClientCall): Promise<ExecOutcome | undefined> {
    if (!ctx.gate) return undefined;
    const verdict = await ctx.gate.judgeQuery(sql);
    if (verdict.action === 'allow') return undefined;
    let message: string;
    let reviewId: number | undefined;
    if (verdict.action === 'deny') message = `airlock: ${verdict.reason}`;
    else {
      // The caller waits on its Exec call: progress goes there, and its end (Ctrl-C) withdraws the hold.
      const withdrawn = new AbortController();
      const withdraw = () => withdrawn.abort();
      ctx.signal.addEventListener('abort', withdraw, { once: true });
      call.stream.resume(); // nothing comes this way but the end of the call
      call.stream.once('close', withdraw);
      call.stream.once('end', withdraw);
      void call.status.then(withdraw);
      const progress = (line: string) =>
        call.write(toBinary(SessionRequestSchema, create(SessionRequestSchema, { frame: { case: 'execProgress', value: line } })));
      const outcome = await ctx.gate.hold(verdict.hold, progress, withdrawn.signal).finally(() => {
        ctx.signal.removeEventListener('abort', withdraw);
        call.stream.off('close', withdraw);
        call.stream.off('end', withdraw);
      });
      if (outcome.released) return undefined;
      message = outcome.message;
      reviewId = outcome.reviewId;
    }
    ctx.recorder.record({
      sequence: 1, text: sql, startedAt: new Date(), durationUs: 0, commandTag: '', errorSqlstate: '42501', errorMessage: message,
      protocol: 'exec', verdict: verdict.action === 'deny' ? 'denied' : 'rejected', ...(reviewId ? { reviewId } : {}),
    });
    return { results: [], databaseError: { sqlstate: '42501', message, detail: '', hint: '' } };
  }

  private async runExec(order: OpenSession, engine: ProtocolEngine, ctx: SessionContext, call: GrpcClientCall): Promise<void> {
    let outcome: ExecOutcome;
    try {
      if (!engine.exec) throw new EngineError('unsupported', `exec is not supported for ${ctx.target.type} connections; use airlock connect`);
      const refusal = await this.judgeExec(order.execSql, ctx, call);
      outcome = refusal ?? (await engine.exec(order.execSql, order.execMaxRows || 10_000, ctx));
    } catch (err) {
      const code = err instanceof EngineError ? ENGINE_ERROR_CODES[err.code] : ErrorCode.INTERNAL;
      const message = err instanceof EngineError ? err.message : 'the agent failed to run the statement';
      if (!(err instanceof EngineError)) ctx.logger.error('exec failed', { error: (err as Error).message });
      call.stream.end(frameMessage(toBinary(SessionRequestSchema, create(SessionRequestSchema, { frame: { case: 'close', value: { error: { code, message } } } }))));
      await call.status;
      return;
    }
    call.write(toBinary(SessionRequestSchema, create(SessionRequestSchema, { frame: { case: 'execOutcome', value: toWireOutcome(outcome) } })));
    call.stream.end(frameMessage(toBinary(SessionRequestSchema, create(SessionRequestSchema, { frame: { case: 'close', value: {} } }))));
    await call.status;
  }
}
