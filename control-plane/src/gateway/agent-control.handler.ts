import http2 from 'node:http2';
import { Inject, Injectable } from '@nestjs/common';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import {
  ConnectionType,
  ControlRequestSchema,
  ControlResponseSchema,
  ErrorCode,
  GrpcStatus,
  ReviewState,
  SessionMode,
  StatementProtocol,
  TlsMode,
} from '@airlock/proto';
import type { DecisionRequest, GrpcServerCall, SessionEvent, StatementExecuted } from '@airlock/proto';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { LOGGER, type StructuredLogger } from '../common/logger.js';
import type { AgentLink, DecisionNotice, OpenSessionOrder } from '../agents/agent-link.js';
import type { AgentEntity } from '../agents/agent.entity.js';
import { AgentRegistry } from '../agents/agent-registry.js';
import { AgentsService } from '../agents/agents.service.js';
import { AgentAuthenticator } from '../agents/agent-authenticator.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { type RecordedStatement, SessionsService } from '../sessions/sessions.service.js';
import { ConflictError, DomainError } from '../common/errors.js';
import { SessionRecordingsService } from '../sessions/session-recordings.service.js';
import { ReviewsService } from '../reviews/reviews.service.js';
import { SessionAttachError, SessionBroker } from './session-broker.js';
import { WIRE_CONNECTION_TYPES } from './wire-connection-types.js';
import { authenticateAgentCall } from './agent-call-auth.js';

export const HEARTBEAT_INTERVAL_MS = 5000;
/** How long a disconnected agent has to come back before the statements it held are given up. */
const AGENT_RETURN_GRACE_MS = 10_000;

const TLS_MODES = { disable: TlsMode.DISABLE, prefer: TlsMode.PREFER, require: TlsMode.REQUIRE, 'verify-full': TlsMode.VERIFY_FULL };
const REVIEW_STATES: Record<DecisionNotice['state'], ReviewState> = {
  pending: ReviewState.PENDING,
  approved: ReviewState.APPROVED,
  rejected: ReviewState.REJECTED,
  expired: ReviewState.EXPIRED,
  cancelled: ReviewState.CANCELLED,
};

const PROTOCOL_NAMES: Record<number, string> = {
  [StatementProtocol.SIMPLE]: 'simple',
  [StatementProtocol.EXTENDED]: 'extended',
  [StatementProtocol.EXEC]: 'exec',
  [StatementProtocol.SSH]: 'ssh',
  [StatementProtocol.HTTP]: 'http',
  [StatementProtocol.KUBERNETES]: 'kubernetes',
};

/** How long a closed control stream may take to deliver its final status before it is reset. */
const CLOSE_FLUSH_MS = 500;

/** The control plane's end of one agent's control stream. */
class GrpcAgentLink implements AgentLink {
  readonly connectedAt = new Date();
  /** Set by close(): nothing more the agent sends on this stream is applied. */
  closed = false;

  constructor(private readonly agent: AgentEntity, private readonly call: GrpcServerCall) {}

  get agentId(): string {
    return this.agent.id;
  }

  get agentName(): string {
    return this.agent.name;
  }

  send(message: MessageInitShape<typeof ControlResponseSchema>): void {
    this.call.write(toBinary(ControlResponseSchema, create(ControlResponseSchema, message)));
  }

  openSession(order: OpenSessionOrder): void {
    const c = order.connection;
    this.send({
      message: {
        case: 'openSession',
        value: {
          sessionId: order.sessionId,
          mode: order.mode === 'exec' ? SessionMode.EXEC : SessionMode.TUNNEL,
          execSql: order.execSql ?? '',
          execMaxRows: order.execMaxRows ?? 0,
          subject: order.subject,
          policy: order.policy,
          resume: order.resume !== undefined,
          peerReceivedBytes: BigInt(order.resume?.peerReceivedBytes ?? 0),
          connection: {
            name: c.name,
            type: WIRE_CONNECTION_TYPES[c.type],
            host: c.host,
            port: c.port,
            database: c.database ?? '',
            user: c.username ?? '',
            secretRef: c.secretRef ?? '',
            tlsMode: TLS_MODES[c.tlsMode],
            options: { ...(c.options ?? {}) },
          },
        },
      },
    });
  }

  kill(sessionId: string, reason: string): void {
    this.send({ message: { case: 'killSession', value: { sessionId, reason } } });
  }

  notifyDecision(notice: DecisionNotice): void {
    this.send({
      message: {
        case: 'decisionUpdate',
        value: { ...notice, reviewId: BigInt(notice.reviewId), state: REVIEW_STATES[notice.state], decidedBy: [...notice.decidedBy] },
      },
    });
  }

  close(reason: string, options: { revoked?: boolean } = {}): void {
    this.closed = true;
    this.call.finish(options.revoked ? GrpcStatus.PERMISSION_DENIED : GrpcStatus.UNAVAILABLE, reason);
    // The agent may not end its side; the stream must not outlive the link either way.
    setTimeout(() => {
      if (!this.call.stream.destroyed) this.call.stream.close(http2.constants.NGHTTP2_CANCEL);
    }, CLOSE_FLUSH_MS).unref();
  }
}

/** Serves AgentService.Control: authenticates the agent, registers its link, applies its events. */
@Injectable()
export class AgentControlHandler {
  constructor(
    private readonly agents: AgentsService,
    private readonly authenticator: AgentAuthenticator,
    private readonly registry: AgentRegistry,
    private readonly sessions: SessionsService,
    private readonly recordings: SessionRecordingsService,
    private readonly broker: SessionBroker,
    private readonly reviews: ReviewsService,
    private readonly metrics: MetricsService,
    @Inject(LOGGER) private readonly logger: StructuredLogger,
  ) {}

  readonly serve = async (call: GrpcServerCall): Promise<void> => {
    const agent = await authenticateAgentCall(this.authenticator, call);
    if (!agent) return;
    const hello = await call.reader.readOne().catch(() => undefined);
    if (!hello) return call.finish(GrpcStatus.INVALID_ARGUMENT, 'the control stream must start with hello');
    const first = fromBinary(ControlRequestSchema, hello);
    if (first.message.case !== 'hello') return call.finish(GrpcStatus.INVALID_ARGUMENT, 'the control stream must start with hello');
    const link = new GrpcAgentLink(agent, call);
    this.registry.register(link);
    this.metrics.agentsConnected.set(this.registry.connectedCount);
    const { hostname, version, sshHostKey } = first.message.value;
    const admitted = await this.agents.markSeen(agent.id, { hostname, version, ...(sshHostKey ? { sshHostKey } : {}) });
    if (!admitted) this.registry.disconnect(agent.id, `agent "${agent.name}" was revoked`, { revoked: true }); // revoked while it connected
    link.send({ message: { case: 'welcome', value: { agentId: agent.id, agentName: agent.name, heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS } } });
    await this.reviews.cancelOrphans(agent.id, first.message.value.heldRequestIds, `agent:${agent.name}`);
    const watchdog = this.watchSilence(call, agent);
    try {
      for await (const payload of call.reader.messages()) {
        if (link.closed) break;
        watchdog.heard();
        // One message that cannot be applied must not cost the agent its link.
        await this.apply(agent, link, fromBinary(ControlRequestSchema, payload)).catch((error: Error) =>
          this.logger.error('could not apply an agent message', { agentId: agent.id, error: error.message }),
        );
      }
    } catch (error) {
      this.logger.warn('agent control stream failed', { agentId: agent.id, error: (error as Error).message });
    } finally {
      watchdog.stop();
      this.registry.unregister(link);
      this.metrics.agentsConnected.set(this.registry.connectedCount);
      if (!this.registry.isConnected(agent.id)) this.metrics.agentSessionsActive.remove({ agent: agent.name });
      this.broker.failAllFor(agent.id, new SessionAttachError(GrpcStatus.UNAVAILABLE, `agent "${agent.name}" disconnected`));
      this.cancelHeldReviewsUnlessBack(agent);
      call.finish(GrpcStatus.OK);
    }
  };

  /**
   * Statements an agent held die with it. A control-plane blip must not cancel them, so wait a
   * little: an agent that is back has re-asked (or the hello's held list settles it).
   */
  private cancelHeldReviewsUnlessBack(agent: AgentEntity): void {
    setTimeout(() => {
      if (this.registry.isConnected(agent.id)) return;
      void this.reviews
        .cancelOrphans(agent.id, [], `agent:${agent.name}`)
        .catch((error: Error) => this.logger.error('could not cancel the reviews of a lost agent', { agentId: agent.id, error: error.message }));
    }, AGENT_RETURN_GRACE_MS).unref();
  }

  /** An agent that stops heartbeating (a partition, a frozen host) is dropped, so sessions fail fast. */
  private watchSilence(call: GrpcServerCall, agent: AgentEntity): { heard(): void; stop(): void } {
    let lastHeard = Date.now();
    const timer = setInterval(() => {
      if (Date.now() - lastHeard <= HEARTBEAT_INTERVAL_MS * 3) return;
      this.logger.warn('agent silent for three heartbeats; dropping its link', { agentId: agent.id, agentName: agent.name });
      call.finish(GrpcStatus.UNAVAILABLE, 'no heartbeat for three intervals');
      call.stream.close();
    }, HEARTBEAT_INTERVAL_MS);
    timer.unref();
    return { heard: () => (lastHeard = Date.now()), stop: () => clearInterval(timer) };
  }

  private async apply(agent: AgentEntity, link: GrpcAgentLink, request: ReturnType<typeof fromBinary<typeof ControlRequestSchema>>): Promise<void> {
    switch (request.message.case) {
      case 'heartbeat':
        link.send({ message: { case: 'heartbeatAck', value: { sequence: request.message.value.sequence } } });
        this.metrics.agentSessionsActive.set({ agent: agent.name }, request.message.value.activeSessions);
        // Revoked through another replica: this one finds out here, within a heartbeat.
        if (!(await this.agents.markSeen(agent.id))) this.registry.disconnect(agent.id, `agent "${agent.name}" was revoked`, { revoked: true });
        return;
      case 'sessionEvents': {
        const { events, batch } = request.message.value;
        try {
          await this.applySessionEvents(events);
        } catch (error) {
          if (!(error instanceof DomainError)) {
            // Not acknowledged: the agent keeps the batch and sends it again; its policy decides what happens if that lasts.
            this.logger.error('could not store session events; the agent will resend them', { agent: agent.name, batch: Number(batch), error: (error as Error).message });
            return;
          }
          // Resending cannot fix it (an unknown session): acknowledged so it does not block what follows.
          this.logger.error('refused session events', { agent: agent.name, batch: Number(batch), error: error.message });
        }
        if (batch > 0n) link.send({ message: { case: 'eventsStored', value: { throughBatch: batch } } });
        return;
      }
      case 'decisionRequest':
        await this.holdForReview(agent, link, request.message.value);
        return;
      case 'decisionCancel':
        await this.reviews.cancelRequest(request.message.value.requestId, `agent:${agent.name}`, request.message.value.reason || 'withdrawn by the agent');
        return;
      case 'sessionOpenFailed': {
        const failed = request.message.value;
        const message = failed.error?.message || 'the agent could not open the session';
        this.broker.fail(failed.sessionId, agent.id, new SessionAttachError(GrpcStatus.FAILED_PRECONDITION, message));
        return;
      }
      default:
        return;
    }
  }

  /** A statement is held on the agent: open (or find again, after a reconnect) its review. */
  private async holdForReview(agent: AgentEntity, link: GrpcAgentLink, request: DecisionRequest): Promise<void> {
    const refuse = (reason: string) =>
      link.notifyDecision({ requestId: request.requestId, reviewId: 0, state: 'cancelled', approvals: 0, approvalsRequired: 0, reason, decidedBy: [], failFast: false });
    const session = await this.sessions.get(request.sessionId).catch(() => null);
    if (!session || session.agentId !== agent.id) return refuse('the session is unknown to the control plane');
    try {
      await this.reviews.request({
        requestId: request.requestId,
        agentId: agent.id,
        sessionId: session.id,
        connectionName: session.connectionName,
        requester: session.subject,
        statement: request.statement,
        kinds: request.kinds,
        tables: request.tables,
        policyName: request.policyName,
        policyVersion: request.policyVersion,
        reason: request.reason,
        fingerprint: request.fingerprint,
      });
    } catch (error) {
      this.logger.error('could not open a review', { sessionId: session.id, error: (error as Error).message });
      refuse(`the review could not be opened: ${(error as Error).message}`);
    }
  }

  /** Stores a batch; throws when any of it could not be stored. Resent events are stored once. */
  private async applySessionEvents(events: SessionEvent[]): Promise<void> {
    const statementsBySession = new Map<string, Parameters<SessionsService['recordStatements']>[1]>();
    for (const event of events) {
      switch (event.event.case) {
        case 'statement': {
          const list = statementsBySession.get(event.sessionId) ?? [];
          list.push(recordedStatement(event.event.value));
          statementsBySession.set(event.sessionId, list);
          break;
        }
        case 'recording':
          await this.flushStatements(statementsBySession);
          await this.recordings.append(event.sessionId, { ...event.event.value, sequence: Number(event.event.value.sequence) });
          break;
        case 'gap':
          await this.flushStatements(statementsBySession);
          await this.sessions.recordGap(event.sessionId, Number(event.event.value.lostEvents), event.event.value.reason);
          break;
        case 'ended': {
          await this.flushStatements(statementsBySession);
          const ended = event.event.value;
          await this.sessions.end(event.sessionId, {
            endedAt: ended.endedAt ? timestampDate(ended.endedAt) : new Date(),
            bytesFromClient: Number(ended.bytesFromClient),
            bytesToClient: Number(ended.bytesToClient),
            errorCode: ended.error ? ErrorCode[ended.error.code]?.toLowerCase() : undefined,
            errorMessage: ended.error?.message,
          }).catch((error: Error) => {
            // Already ended (a resent batch, or killed from here): nothing to store twice.
            if (!(error instanceof ConflictError)) throw error;
          });
          break;
        }
      }
    }
    await this.flushStatements(statementsBySession);
  }

  private async flushStatements(bySession: Map<string, Parameters<SessionsService['recordStatements']>[1]>): Promise<void> {
    if (bySession.size === 0) return;
    const batch = [...bySession].map(([sessionId, statements]) => ({ sessionId, statements }));
    bySession.clear();
    await this.sessions.recordStatementBatch(batch, 'ignore');
  }

}

function recordedStatement(s: StatementExecuted): RecordedStatement {
  return {
    sequence: Number(s.sequence),
    text: s.text,
    startedAt: s.startedAt ? timestampDate(s.startedAt) : new Date(),
    durationUs: Number(s.durationUs),
    rows: s.rows === undefined ? null : Number(s.rows),
    commandTag: s.commandTag || null,
    errorSqlstate: s.errorSqlstate || null,
    errorMessage: s.errorMessage || null,
    protocol: PROTOCOL_NAMES[s.protocol] ?? 'simple',
    verdict: s.verdict || null,
    reviewId: s.reviewId ? Number(s.reviewId) : null,
  };
}
