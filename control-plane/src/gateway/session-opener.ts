import { Inject, Injectable } from '@nestjs/common';
import { GrpcCallError, GrpcStatus } from '@airlock/proto';
import type { GrpcServerCall } from '@airlock/proto';
import { ConflictError, NotFoundError } from '../common/errors.js';
import { LOGGER, type StructuredLogger } from '../common/logger.js';
import { AgentRegistry } from '../agents/agent-registry.js';
import { AgentsService } from '../agents/agents.service.js';
import type { ConnectionEntity } from '../connections/connection.entity.js';
import { ConnectionsService } from '../connections/connections.service.js';
import type { GrantEntity } from '../grants/grant.entity.js';
import { GrantsService } from '../grants/grants.service.js';
import type { SessionEntity } from '../sessions/session.entity.js';
import { SessionsService } from '../sessions/sessions.service.js';
import type { Principal } from '../identity/principal.js';
import { PoliciesService } from '../policies/policies.service.js';
import type { SessionPolicyPlain } from '../policies/policy-compiler.js';
import { SessionAttachError, SessionBroker } from './session-broker.js';

export const ATTACH_TIMEOUT_MS = 15_000;

export interface SessionRequest {
  connectionName: string;
  principal: Principal;
  mode: 'tunnel' | 'exec';
  clientAddress: string;
  execSql?: string;
  execMaxRows?: number;
}

export interface OpenedSession {
  session: SessionEntity;
  connection: ConnectionEntity;
  agentCall: GrpcServerCall;
}

/**
 * Opens a session on the agent that serves a connection: records it, orders the agent over its
 * control stream, and waits for the agent to dial back with the session's stream.
 */
@Injectable()
export class SessionOpener {
  constructor(
    private readonly connections: ConnectionsService,
    private readonly agents: AgentsService,
    private readonly registry: AgentRegistry,
    private readonly sessions: SessionsService,
    private readonly broker: SessionBroker,
    private readonly policies: PoliciesService,
    private readonly grants: GrantsService,
    @Inject(LOGGER) private readonly logger: StructuredLogger,
  ) {}

  async open(request: SessionRequest): Promise<OpenedSession> {
    const connection = await this.findConnection(request.connectionName);
    const policy = await this.policyFor(request.principal, connection);
    const grant = await this.grantFor(request.principal, connection);
    const link = this.registry.get(connection.agentId);
    if (!link) {
      const agent = await this.agents.findById(connection.agentId);
      throw new GrpcCallError(
        GrpcStatus.UNAVAILABLE,
        `agent "${agent?.name ?? connection.agentId}" that serves connection "${connection.name}" is offline`,
      );
    }
    const session = await this.sessions.open({
      connection,
      agentId: connection.agentId,
      subject: request.principal.subject,
      mode: request.mode,
      clientAddress: request.clientAddress,
      grantId: grant?.id ?? null,
    });
    const attached = this.broker.expect(
      session.id,
      connection.agentId,
      ATTACH_TIMEOUT_MS,
      () => new SessionAttachError(GrpcStatus.DEADLINE_EXCEEDED, `agent "${link.agentName}" did not open the session within ${ATTACH_TIMEOUT_MS / 1000}s`),
    );
    link.openSession({
      sessionId: session.id,
      connection,
      mode: request.mode,
      execSql: request.execSql,
      execMaxRows: request.execMaxRows,
      subject: request.principal.subject,
      policy,
    });
    try {
      const { call: agentCall } = await attached;
      await this.sessions.markOpen(session.id).catch((error: unknown) => {
        // The agent may end a session before this runs (a target that refuses at once): its stream
        // still carries the reason to the client, so the session is spliced as usual.
        if (!(error instanceof ConflictError)) throw error;
      });
      return { session, connection, agentCall };
    } catch (error) {
      const failure = error instanceof SessionAttachError ? error : new SessionAttachError(GrpcStatus.INTERNAL, 'the session could not be opened');
      await this.sessions.fail(session.id, 'open_failed', failure.message);
      this.logger.warn('session open failed', { sessionId: session.id, connection: connection.name, error: failure.message });
      throw new GrpcCallError(failure.grpcCode, failure.message);
    }
  }

  /** Policies bind everyone; a connection no policy covers is for admins only (and unrestricted for them). */
  private async policyFor(principal: Principal, connection: ConnectionEntity): Promise<SessionPolicyPlain> {
    const policy = await this.policies.compileFor(principal, { name: connection.name, tags: connection.tags });
    if (!policy) {
      throw new GrpcCallError(GrpcStatus.PERMISSION_DENIED, `no policy lets ${principal.subject} use connection "${connection.name}"`);
    }
    return policy;
  }

  /**
   * Where a policy says `access: review`, only an approved, unexpired, unrevoked grant lets the
   * principal in; the session remembers it, so ending the grant ends the session.
   */
  private async grantFor(principal: Principal, connection: ConnectionEntity): Promise<GrantEntity | null> {
    const access = await this.policies.accessFor(principal, { name: connection.name, tags: connection.tags });
    if (access?.access !== 'review') return null;
    const grant = await this.grants.activeFor(principal.subject, connection.name);
    if (!grant) {
      throw new GrpcCallError(
        GrpcStatus.PERMISSION_DENIED,
        `connection "${connection.name}" needs approved access: airlock request ${connection.name} --for 30m --reason "..."`,
      );
    }
    return grant;
  }

  private async findConnection(name: string): Promise<ConnectionEntity> {
    try {
      return await this.connections.findByName(name);
    } catch (error) {
      if (error instanceof NotFoundError) {
        throw new GrpcCallError(GrpcStatus.NOT_FOUND, `connection "${name}" does not exist; airlock connections list shows the ones you can use`);
      }
      throw error;
    }
  }
}
