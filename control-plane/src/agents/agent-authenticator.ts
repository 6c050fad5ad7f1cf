import { createPublicKey } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { compactVerify, errors } from 'jose';
import { AuditService } from '../audit/audit.service.js';
import { RefusalThrottle } from '../audit/refusal-throttle.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { LOGGER, type StructuredLogger } from '../common/logger.js';
import { AgentAuthenticationError, checkAssertionClaims, claimedAgentId } from './agent-assertion.js';
import type { AgentEntity } from './agent.entity.js';
import { AgentsRepository } from './agents.repository.js';
import { AssertionReplayCache } from './assertion-replay-cache.js';
import { ControlPlaneIdentity } from './control-plane-identity.js';

/** Where a call came from, for the log and the audit record. */
export interface AgentCallContext {
  /** The peer's address, without the port. */
  readonly source: string;
  /** The gRPC method, e.g. `/airlock.v1.AgentService/Control`. */
  readonly method: string;
}

const ALGORITHMS = ['EdDSA', 'Ed25519'];

/**
 * Proves which agent a Control or Session call comes from: its assertion must be signed by the key
 * the agent registered at enrolment, be addressed to this control plane, be current, and be used
 * once. Every refusal is logged and audited (at most one event per source, reason and agent a
 * minute, like refused logins), then thrown for the gateway to answer in gRPC terms.
 */
@Injectable()
export class AgentAuthenticator {
  private readonly replays = new AssertionReplayCache();
  private readonly refusals = new RefusalThrottle();

  constructor(
    private readonly agents: AgentsRepository,
    private readonly identity: ControlPlaneIdentity,
    private readonly audit: AuditService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: StructuredLogger,
  ) {}

  async authenticate(assertion: string | undefined, context: AgentCallContext): Promise<AgentEntity> {
    try {
      return await this.verify(assertion);
    } catch (error) {
      if (error instanceof AgentAuthenticationError) await this.recordRefusal(error, context);
      throw error;
    }
  }

  private async verify(assertion: string | undefined): Promise<AgentEntity> {
    if (!assertion) {
      throw new AgentAuthenticationError('missing', 'no agent assertion: every agent call carries "authorization: Bearer <assertion signed by the agent key>"');
    }
    const agentId = claimedAgentId(assertion);
    const agent = await this.agents.findById(agentId);
    if (!agent) {
      throw new AgentAuthenticationError('unknown_agent', `no agent has id ${agentId} (was it deleted?); create it again and enrol with a new join token`);
    }
    const named = { id: agent.id, name: agent.name };
    if (!agent.publicKey) {
      throw new AgentAuthenticationError('not_enrolled', `agent "${agent.name}" has no enrolled key; start it once with its join token`, named);
    }
    const payload = await verifiedPayload(assertion, agent);
    if (agent.revokedAt) {
      throw new AgentAuthenticationError(
        'revoked',
        `agent "${agent.name}" was revoked at ${agent.revokedAt.toISOString()} by ${agent.revokedBy ?? 'an admin'}; it can no longer connect`,
        named,
        true,
      );
    }
    const now = this.clock.now();
    const claims = checkAssertionClaims(payload, { agent: named, audience: await this.identity.agentAudience(), now });
    if (!this.replays.admit(agent.id, claims.jti, claims.expiresAt, now)) {
      throw new AgentAuthenticationError('replayed', `the assertion of agent "${agent.name}" (jti ${claims.jti}) was already used; each call needs a fresh one`, named);
    }
    return agent;
  }

  private async recordRefusal(error: AgentAuthenticationError, context: AgentCallContext): Promise<void> {
    const agent = error.agent;
    this.logger.warn('agent call refused', { reason: error.reason, proven: error.proven, agentId: agent?.id, agentName: agent?.name, source: context.source, method: context.method, message: error.message });
    const admitted = this.refusals.admit(`${context.source}|${error.reason}|${agent?.id ?? '-'}`, this.clock.now());
    if (!admitted) return;
    await this.audit
      .record({
        actor: agent && error.proven ? `agent:${agent.name}` : `anonymous:${context.source}`,
        kind: 'agent.refused',
        target: agent ? `agent/${agent.name}` : 'agent/unknown',
        details: {
          reason: error.reason,
          message: error.message,
          source: context.source,
          method: context.method,
          agentId: agent?.id ?? null,
          signatureVerified: error.proven,
          unrecordedSincePrevious: admitted.unrecorded,
        },
      })
      .catch((failure: Error) => this.logger.error('could not audit a refused agent call', { error: failure.message }));
  }
}

/** The payload of an assertion whose signature `agent`'s registered key verifies. */
async function verifiedPayload(assertion: string, agent: AgentEntity): Promise<unknown> {
  const named = { id: agent.id, name: agent.name };
  try {
    const { payload } = await compactVerify(assertion, createPublicKey(agent.publicKey!), { algorithms: ALGORITHMS });
    return JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch (error) {
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      throw new AgentAuthenticationError('bad_signature', `the assertion for agent "${agent.name}" is not signed by its enrolled key (fingerprint ${agent.keyFingerprint})`, named);
    }
    if (error instanceof errors.JOSEAlgNotAllowed) {
      throw new AgentAuthenticationError('malformed', `the assertion for agent "${agent.name}" must be signed with EdDSA (Ed25519)`, named);
    }
    throw new AgentAuthenticationError('malformed', `the assertion for agent "${agent.name}" is malformed: ${(error as Error).message}`, named);
  }
}
