import { Inject, Injectable } from '@nestjs/common';
import { AgentRegistry } from '../agents/agent-registry.js';
import { AgentsService } from '../agents/agents.service.js';
import { AuditService } from '../audit/audit.service.js';
import { ConflictError, DomainError } from '../common/errors.js';
import { LOGGER, type StructuredLogger } from '../common/logger.js';
import type { Principal } from '../identity/principal.js';
import type { SessionEntity } from './session.entity.js';
import { SessionsService } from './sessions.service.js';

/** The agent serving a session has no live link to this control plane, so no order can reach it. */
export class AgentOfflineError extends DomainError {
  override readonly name = 'AgentOfflineError';
  readonly code = 'agent_offline';
  readonly httpStatus = 503;
}

export interface KillOrder {
  readonly session: SessionEntity;
  /** What the agent was told, and so what the client's 57P01 ErrorResponse says after "the session was ended: ". */
  readonly reason: string;
}

/**
 * An admin ends a live session: the order goes down its agent's control stream, and the agent ends
 * the session (the Postgres client gets 57P01) and reports the end as usual. The kill is recorded
 * in the audit log before the order leaves, so no session is ended without a trace.
 */
@Injectable()
export class SessionKillService {
  constructor(
    private readonly sessions: SessionsService,
    private readonly registry: AgentRegistry,
    private readonly agents: AgentsService,
    private readonly audit: AuditService,
    @Inject(LOGGER) private readonly logger: StructuredLogger,
  ) {}

  async kill(sessionId: string, actor: Principal, reason?: string): Promise<KillOrder> {
    const session = await this.sessions.get(sessionId);
    if (session.status === 'closed' || session.status === 'failed') {
      throw new ConflictError(`session ${sessionId} has already ended (${session.status})`);
    }
    const link = this.registry.get(session.agentId);
    if (!link) {
      const agent = (await this.agents.findById(session.agentId))?.name ?? session.agentId;
      throw new AgentOfflineError(
        `cannot kill session ${sessionId}: its agent "${agent}" is not connected to the control plane; try again once it reconnects`,
      );
    }
    const told = reason?.trim() ? `killed by ${actor.subject}: ${reason.trim()}` : `killed by ${actor.subject}`;
    await this.audit.record({
      actor: actor.subject,
      kind: 'session.killed',
      target: `session/${session.id}`,
      details: { reason: told, connection: session.connectionName, subject: session.subject, agentId: session.agentId },
    });
    link.kill(session.id, told);
    this.logger.info('session killed by an admin', { sessionId: session.id, agentId: session.agentId, by: actor.subject });
    return { session, reason: told };
  }
}
