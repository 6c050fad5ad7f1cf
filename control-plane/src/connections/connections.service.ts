import { validConnectionOptions } from './connection-options.js';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AgentRegistry } from '../agents/agent-registry.js';
import { AgentsService } from '../agents/agents.service.js';
import { AuditService } from '../audit/audit.service.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { ConflictError, InvalidRequestError, isUniqueViolation, NotFoundError } from '../common/errors.js';
import { LOGGER, type StructuredLogger } from '../common/logger.js';
import { PoliciesService } from '../policies/policies.service.js';
import type { ConnectionEntity, ConnectionType, TlsMode } from './connection.entity.js';
import { ConnectionsRepository } from './connections.repository.js';

export interface NewConnection {
  name: string;
  type: ConnectionType;
  /** Agent name. */
  agent: string;
  host: string;
  port: number;
  database?: string;
  user?: string;
  /** A reference (`env:VAR`, `file:/path`), already validated. */
  secret?: string;
  tlsMode?: TlsMode;
  tags?: Record<string, string>;
  options?: Record<string, string>;
}

/** A connection with the agent that serves it, as listings show it. */
export interface ConnectionDetails {
  readonly connection: ConnectionEntity;
  readonly agentName: string;
  readonly agentConnected: boolean;
  /** Names of the live policies that cover it. */
  readonly policies: string[];
  /** ssh connections: the host key the serving agent reported (null until it has). */
  readonly sshHostKey?: string | null;
}

@Injectable()
export class ConnectionsService {
  constructor(
    private readonly connections: ConnectionsRepository,
    private readonly agents: AgentsService,
    private readonly registry: AgentRegistry,
    private readonly policies: PoliciesService,
    private readonly audit: AuditService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: StructuredLogger,
  ) {}

  /** `actor` is who asked, for the audit log. */
  async create(input: NewConnection, actor: string): Promise<ConnectionDetails> {
    const agent = await this.agents.findByName(input.agent);
    const connection: ConnectionEntity = {
      id: randomUUID(),
      name: input.name,
      type: input.type,
      agentId: agent.id,
      host: input.host,
      port: input.port,
      database: input.database ?? null,
      username: input.user ?? null,
      secretRef: input.secret ?? null,
      tlsMode: input.tlsMode ?? 'prefer',
      tags: validTags(input.tags ?? {}),
      options: validConnectionOptions(input.type, input.options ?? {}),
      createdAt: this.clock.now(),
    };
    try {
      await this.connections.insert(connection);
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`connection "${input.name}" already exists`);
      throw error;
    }
    this.logger.info('connection created', { connectionId: connection.id, connectionName: connection.name, agentId: agent.id });
    await this.audit.record({
      actor,
      kind: 'connection.created',
      target: `connection/${connection.name}`,
      details: { connectionId: connection.id, type: connection.type, agent: agent.name, host: connection.host, port: connection.port, database: connection.database, secret: connection.secretRef },
    });
    const policies = (await this.policies.coveringPolicies([connection])).get(connection.name) ?? [];
    return {
      connection, agentName: agent.name, agentConnected: this.registry.isConnected(agent.id), policies,
      ...(connection.type === 'ssh' ? { sshHostKey: agent.sshHostKey ?? null } : {}),
    };
  }

  /** The connection named `name`; throws NotFoundError with a readable message if there is none. */
  async findByName(name: string): Promise<ConnectionEntity> {
    const connection = await this.connections.findByName(name);
    if (!connection) throw new NotFoundError(`connection "${name}" does not exist`);
    return connection;
  }

  async describe(name: string): Promise<ConnectionDetails> {
    const [details] = await this.withAgents([await this.findByName(name)]);
    return details;
  }

  async list(): Promise<ConnectionDetails[]> {
    return this.withAgents(await this.connections.listByName());
  }

  async delete(name: string, actor: string): Promise<void> {
    if (!(await this.connections.deleteByName(name))) throw new NotFoundError(`connection "${name}" does not exist`);
    this.logger.info('connection deleted', { connectionName: name });
    await this.audit.record({ actor, kind: 'connection.deleted', target: `connection/${name}` });
  }

  private async withAgents(connections: ConnectionEntity[]): Promise<ConnectionDetails[]> {
    const names = await this.agents.namesById(connections.map((c) => c.agentId));
    const policies = await this.policies.coveringPolicies(connections);
    const sshAgents = connections.filter((c) => c.type === 'ssh').map((c) => c.agentId);
    const hostKeys = sshAgents.length > 0 ? await this.agents.sshHostKeysById(sshAgents) : new Map<string, string | null>();
    return connections.map((connection) => ({
      connection,
      agentName: names.get(connection.agentId) ?? '',
      agentConnected: this.registry.isConnected(connection.agentId),
      policies: policies.get(connection.name) ?? [],
      ...(connection.type === 'ssh' ? { sshHostKey: hostKeys.get(connection.agentId) ?? null } : {}),
    }));
  }
}

const TAG_KEY = /^[a-z][a-z0-9_.-]{0,62}$/;
const TAG_VALUE = /^[A-Za-z0-9_.:@-]{0,128}$/;

/** Tags are matched by policies as `tag:KEY=VALUE`, so both sides stay simple tokens. */
function validTags(tags: Record<string, unknown>): Record<string, string> {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(tags)) {
    if (!TAG_KEY.test(key)) problems.push(`tags.${key}: a tag key is lower-case letters, digits, _ . - (starting with a letter)`);
    else if (typeof value !== 'string' || !TAG_VALUE.test(value)) problems.push(`tags.${key}: a tag value is up to 128 letters, digits or _ . : @ -`);
  }
  if (problems.length > 0) throw new InvalidRequestError(problems.join('; '));
  return tags as Record<string, string>;
}
