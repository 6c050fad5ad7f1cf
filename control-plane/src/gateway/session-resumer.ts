import { Inject, Injectable } from '@nestjs/common';
import { GrpcCallError, GrpcStatus } from '@airlock/proto';
import type { GrpcServerCall } from '@airlock/proto';
import { LOGGER, type StructuredLogger } from '../common/logger.js';
import { AgentRegistry } from '../agents/agent-registry.js';
import type { ConnectionEntity } from '../connections/connection.entity.js';
import { ConnectionsService } from '../connections/connections.service.js';
import type { Principal } from '../identity/principal.js';
import type { SessionEntity } from '../sessions/session.entity.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { SessionAttachError, SessionBroker } from './session-broker.js';
import { ATTACH_TIMEOUT_MS } from './session-opener.js';

export interface ResumedSession {
  session: SessionEntity;
  connection: ConnectionEntity;
  agentCall: GrpcServerCall;
  /** Data bytes the agent had received from the client when it re-attached. */
  agentReceivedBytes: number;
}

/**
 * Re-attaches a tunnel to a session that is still running on its agent after the control plane
 * restarted: both sides resend what the other did not receive, so the client loses nothing.
 */
@Injectable()
export class SessionResumer {
  constructor(
    private readonly sessions: SessionsService,
    private readonly connections: ConnectionsService,
    private readonly registry: AgentRegistry,
    private readonly broker: SessionBroker,
    @Inject(LOGGER) private readonly logger: StructuredLogger,
  ) {}

  async resume(request: { sessionId: string; principal: Principal; clientReceivedBytes: number }): Promise<ResumedSession> {
    const session = await this.sessions.get(request.sessionId).catch(() => null);
    if (!session || session.subject !== request.principal.subject || session.mode !== 'tunnel') {
      throw new GrpcCallError(GrpcStatus.NOT_FOUND, `session ${request.sessionId} cannot be resumed: no such tunnel of yours`);
    }
    const link = this.registry.get(session.agentId);
    // Not final: the agent may still be reconnecting after the same restart.
    if (!link) throw new GrpcCallError(GrpcStatus.UNAVAILABLE, `the agent of session ${session.id} has not reconnected yet`);
    if (!(await this.sessions.reopenForResume(session.id))) {
      throw new GrpcCallError(GrpcStatus.FAILED_PRECONDITION, `session ${session.id} has ended and cannot be resumed`);
    }
    const connection = await this.connections.findByName(session.connectionName);
    const attached = this.broker.expect(
      session.id,
      session.agentId,
      ATTACH_TIMEOUT_MS,
      () => new SessionAttachError(GrpcStatus.DEADLINE_EXCEEDED, `agent "${link.agentName}" did not resume session ${session.id} in time`),
    );
    link.openSession({
      sessionId: session.id,
      connection,
      mode: 'tunnel',
      subject: session.subject,
      policy: { policies: [], unrestricted: false }, // unused on resume: the agent keeps the session's own rules
      resume: { peerReceivedBytes: request.clientReceivedBytes },
    });
    try {
      const { call, receivedBytes } = await attached;
      this.logger.info('session resumed', { sessionId: session.id });
      return { session, connection, agentCall: call, agentReceivedBytes: receivedBytes };
    } catch (error) {
      const failure = error instanceof SessionAttachError ? error : new SessionAttachError(GrpcStatus.INTERNAL, 'the session could not be resumed');
      // The agent no longer has it (it restarted too): the session is over.
      await this.sessions.fail(session.id, 'resume_failed', failure.message).catch(() => undefined);
      throw new GrpcCallError(GrpcStatus.FAILED_PRECONDITION, failure.message);
    }
  }
}
