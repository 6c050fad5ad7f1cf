import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { ConflictError, isForeignKeyViolation, isUniqueViolation, NotFoundError } from '../common/errors.js';
import { LOGGER, type StructuredLogger } from '../common/logger.js';
import { RefusalThrottle } from '../audit/refusal-throttle.js';
import { hashToken, issueToken, tokenMatchesHash } from '../common/tokens.js';
import { AgentEnrollmentError } from './agent-enrollment.error.js';
import { parseAgentPublicKey } from './agent-public-key.js';
import type { AgentEntity } from './agent.entity.js';
import { AgentRegistry } from './agent-registry.js';
import { AgentsRepository } from './agents.repository.js';
import { ControlPlaneIdentity } from './control-plane-identity.js';

export const DEFAULT_JOIN_TOKEN_TTL_SECONDS = 3600;

export interface CreatedAgent {
  readonly agent: AgentEntity;
  /** One-time secret: returned once, stored only as a hash. */
  readonly joinToken: string;
  readonly joinTokenExpiresAt: Date;
}

export interface AgentInfo {
  hostname?: string;
  version?: string;
  /** Reported in every hello: the agent keeps it in its state dir, so it changes only with a new agent install. */
  sshHostKey?: string;
}

export interface EnrolledAgent {
  readonly agentId: string;
  readonly agentName: string;
  /** What the agent's assertions must name as `aud`: this control plane. */
  readonly audience: string;
  readonly keyFingerprint: string;
}

@Injectable()
export class AgentsService {
  /** At most one `agent.enrollment_refused` event per source and reason a minute. */
  private readonly refusals = new RefusalThrottle();

  constructor(
    private readonly agents: AgentsRepository,
    private readonly registry: AgentRegistry,
    private readonly identity: ControlPlaneIdentity,
    private readonly audit: AuditService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: StructuredLogger,
  ) {}

  /** Registers an agent by name and issues its one-time join token; `actor` is who asked, for the audit log. */
  async create(name: string, ttlSeconds: number | undefined, actor: string): Promise<CreatedAgent> {
    const join = issueToken('join');
    const now = this.clock.now();
    const joinTokenExpiresAt = new Date(now.getTime() + (ttlSeconds ?? DEFAULT_JOIN_TOKEN_TTL_SECONDS) * 1000);
    try {
      const agent = await this.agents.insertAwaitingEnrollment({
        id: randomUUID(),
        name,
        joinTokenHash: join.hash,
        joinTokenExpiresAt,
        createdAt: now,
      });
      this.logger.info('agent created', { agentId: agent.id, agentName: name });
      await this.audit.record({ actor, kind: 'agent.created', target: `agent/${name}`, details: { agentId: agent.id, joinTokenExpiresAt } });
      return { agent, joinToken: join.token, joinTokenExpiresAt };
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`agent "${name}" already exists`);
      throw error;
    }
  }

  list(): Promise<AgentEntity[]> {
    return this.agents.listByName();
  }

  async findByName(name: string): Promise<AgentEntity> {
    const agent = await this.agents.findByName(name);
    if (!agent) throw new NotFoundError(`agent "${name}" does not exist`);
    return agent;
  }

  findById(id: string): Promise<AgentEntity | null> {
    return this.agents.findById(id);
  }

  /** Agents by id, for views that show the agent behind each connection. */
  async namesById(ids: string[]): Promise<Map<string, string>> {
    const rows = await this.agents.findByIds([...new Set(ids)]);
    return new Map(rows.map((a) => [a.id, a.name]));
  }

  /** The SSH host keys the agents reported, by agent id (null until an agent reported one). */
  async sshHostKeysById(ids: string[]): Promise<Map<string, string | null>> {
    const rows = await this.agents.findByIds([...new Set(ids)]);
    return new Map(rows.map((a) => [a.id, a.sshHostKey ?? null]));
  }

  /** Deletes an agent that no connection uses, and drops its live link. */
  async delete(name: string, actor: string): Promise<void> {
    const agent = await this.findByName(name);
    await this.refuseIfInUse(agent);
    try {
      await this.agents.deleteById(agent.id);
    } catch (error) {
      if (isForeignKeyViolation(error)) await this.refuseIfInUse(agent);
      throw error;
    }
    this.registry.disconnect(agent.id, 'agent deleted');
    this.logger.info('agent deleted', { agentId: agent.id, agentName: name });
    await this.audit.record({ actor, kind: 'agent.deleted', target: `agent/${name}`, details: { agentId: agent.id } });
  }

  /**
   * Revokes an agent for good: its control and session streams close now, and every later call
   * (or enrolment with its join token) is refused. The row stays, so the audit trail keeps its name.
   */
  async revoke(name: string, actor: string): Promise<AgentEntity> {
    const agent = await this.findByName(name);
    const at = this.clock.now();
    if (agent.revokedAt || !(await this.agents.revoke(agent.id, at, actor))) {
      const current = (await this.agents.findById(agent.id)) ?? agent;
      throw new ConflictError(`agent "${name}" is already revoked (at ${current.revokedAt?.toISOString()} by ${current.revokedBy})`);
    }
    const closed = this.registry.disconnect(agent.id, `agent "${name}" was revoked by ${actor}`, { revoked: true });
    this.logger.warn('agent revoked', { agentId: agent.id, agentName: name, by: actor, closedStreams: closed });
    await this.audit.record({
      actor,
      kind: 'agent.revoked',
      target: `agent/${name}`,
      details: { agentId: agent.id, keyFingerprint: agent.keyFingerprint, closedStreams: closed },
    });
    return { ...agent, revokedAt: at, revokedBy: actor };
  }

  /**
   * Spends a join token (once) and registers the public key the agent generated; the control
   * plane never sees the private key. `source` is the caller's address, for refusals' audit.
   */
  async enroll(joinToken: string, publicKeyPem: string, info: AgentInfo, source = 'unknown'): Promise<EnrolledAgent> {
    try {
      return await this.spendJoinToken(joinToken, publicKeyPem, info);
    } catch (error) {
      if (error instanceof AgentEnrollmentError) await this.recordEnrollmentRefusal(error, source);
      throw error;
    }
  }

  /**
   * Records that the agent was heard from; false when it has been revoked meanwhile (possibly
   * through another replica), so its caller drops the link.
   */
  async markSeen(agentId: string, info: AgentInfo = {}): Promise<boolean> {
    return this.agents.markSeen(agentId, this.clock.now(), info);
  }

  private async spendJoinToken(joinToken: string, publicKeyPem: string, info: AgentInfo): Promise<EnrolledAgent> {
    const now = this.clock.now();
    const agent = usableJoinTokenOwner(joinToken, await this.agents.findByJoinTokenHash(hashToken(joinToken)), now);
    const key = parseAgentPublicKey(publicKeyPem);
    const spent = await this.agents.completeEnrollment(agent.id, {
      publicKey: key.pem,
      keyFingerprint: key.fingerprint,
      hostname: info.hostname ?? null,
      version: info.version ?? null,
      at: now,
    });
    if (!spent) {
      const current = await this.agents.findById(agent.id);
      throw current?.revokedAt ? revokedBeforeEnrolment(agent.name) : alreadyUsed(agent.name);
    }
    this.logger.info('agent enrolled', { agentId: agent.id, agentName: agent.name, hostname: info.hostname, keyFingerprint: key.fingerprint });
    await this.audit.record({
      actor: `agent:${agent.name}`,
      kind: 'agent.enrolled',
      target: `agent/${agent.name}`,
      details: { agentId: agent.id, keyFingerprint: key.fingerprint, hostname: info.hostname ?? null, version: info.version ?? null },
    });
    return { agentId: agent.id, agentName: agent.name, audience: await this.identity.agentAudience(), keyFingerprint: key.fingerprint };
  }

  private async recordEnrollmentRefusal(error: AgentEnrollmentError, source: string): Promise<void> {
    this.logger.warn('enrolment refused', { reason: error.reason, agentName: error.agentName, source, message: error.message });
    const admitted = this.refusals.admit(`${source}|${error.reason}|${error.agentName ?? '-'}`, this.clock.now());
    if (!admitted) return;
    await this.audit.record({
      actor: `anonymous:${source}`,
      kind: 'agent.enrollment_refused',
      target: error.agentName ? `agent/${error.agentName}` : 'agent/unknown',
      details: { reason: error.reason, message: error.message, source, unrecordedSincePrevious: admitted.unrecorded },
    });
  }

  private async refuseIfInUse(agent: AgentEntity): Promise<void> {
    const names = await this.agents.connectionNamesUsing(agent.id);
    if (names.length > 0) {
      throw new ConflictError(`agent "${agent.name}" still serves connections ${names.map((n) => `"${n}"`).join(', ')}; delete them first`);
    }
  }
}

/** The agent a join token belongs to, if the token can still be spent at `now`. */
function usableJoinTokenOwner(joinToken: string, agent: AgentEntity | null, now: Date): AgentEntity {
  if (!agent || agent.joinTokenHash === null || !tokenMatchesHash(joinToken, agent.joinTokenHash)) {
    throw new AgentEnrollmentError('unknown_token', 'the join token is not valid; ask an admin for a new one');
  }
  if (agent.revokedAt !== null) throw revokedBeforeEnrolment(agent.name);
  if (agent.joinTokenUsedAt !== null) throw alreadyUsed(agent.name);
  if (agent.joinTokenExpiresAt !== null && agent.joinTokenExpiresAt.getTime() <= now.getTime()) {
    throw new AgentEnrollmentError(
      'expired',
      `the join token for agent "${agent.name}" expired at ${agent.joinTokenExpiresAt.toISOString()}`,
      agent.name,
    );
  }
  return agent;
}

function alreadyUsed(agentName: string): AgentEnrollmentError {
  return new AgentEnrollmentError(
    'already_used',
    `the join token for agent "${agentName}" was already used; a join token enrols one agent only once`,
    agentName,
  );
}

function revokedBeforeEnrolment(agentName: string): AgentEnrollmentError {
  return new AgentEnrollmentError('revoked', `agent "${agentName}" was revoked; its join token can no longer enrol it`, agentName);
}
