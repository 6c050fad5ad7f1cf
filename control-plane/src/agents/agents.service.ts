import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { ConflictError, isForeignKeyViolation, isUniqueViolation, NotFoundError } from '../common/errors.js';
import { LOGGER, type StructuredLogger } from '../common/logger.js';
import { hashToken, issueToken, tokenMatchesHash, tokenPrefix } from '../common/tokens.js';
import { AgentEnrollmentError } from './agent-enrollment.error.js';
import type { AgentEntity } from './agent.entity.js';
import { AgentRegistry } from './agent-registry.js';
import { AgentsRepository } from './agents.repository.js';

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
}

export interface EnrolledAgent {
  readonly agentId: string;
  readonly agentName: string;
  /** The agent's long-lived credential: returned once, stored only as a hash. */
  readonly agentKey: string;
}

@Injectable()
export class AgentsService {
  constructor(
    private readonly agents: AgentsRepository,
    private readonly registry: AgentRegistry,
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

  /** Spends a join token (once) and issues the agent's own key. */
  async enroll(joinToken: string, info: AgentInfo): Promise<EnrolledAgent> {
    const now = this.clock.now();
    const agent = usableJoinTokenOwner(joinToken, await this.agents.findByJoinTokenHash(hashToken(joinToken)), now);
    const key = issueToken('agent');
    const spent = await this.agents.completeEnrollment(agent.id, {
      keyPrefix: key.prefix,
      keyHash: key.hash,
      hostname: info.hostname ?? null,
      version: info.version ?? null,
      at: now,
    });
    if (!spent) throw alreadyUsed(agent.name);
    this.logger.info('agent enrolled', { agentId: agent.id, agentName: agent.name, hostname: info.hostname });
    await this.audit.record({
      actor: `agent:${agent.name}`,
      kind: 'agent.enrolled',
      target: `agent/${agent.name}`,
      details: { agentId: agent.id, keyPrefix: key.prefix, hostname: info.hostname ?? null, version: info.version ?? null },
    });
    return { agentId: agent.id, agentName: agent.name, agentKey: key.token };
  }

  /** The agent an agent key belongs to, or null; compared in constant time. */
  async authenticateKey(key: string): Promise<AgentEntity | null> {
    const candidates = await this.agents.findByKeyPrefix(tokenPrefix(key));
    return candidates.find((a) => a.keyHash !== null && tokenMatchesHash(key, a.keyHash)) ?? null;
  }

  async markSeen(agentId: string, info: AgentInfo = {}): Promise<void> {
    await this.agents.markSeen(agentId, this.clock.now(), info);
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
  if (agent.joinTokenUsedAt !== null) throw alreadyUsed(agent.name);
  if (agent.joinTokenExpiresAt !== null && agent.joinTokenExpiresAt.getTime() <= now.getTime()) {
    throw new AgentEnrollmentError(
      'expired',
      `the join token for agent "${agent.name}" expired at ${agent.joinTokenExpiresAt.toISOString()}`,
    );
  }
  return agent;
}

function alreadyUsed(agentName: string): AgentEnrollmentError {
  return new AgentEnrollmentError(
    'already_used',
    `the join token for agent "${agentName}" was already used; a join token enrols one agent only once`,
  );
}
