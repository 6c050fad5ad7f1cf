import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, type Repository } from 'typeorm';
import { AgentEntity } from './agent.entity.js';

export interface NewAgent {
  id: string;
  name: string;
  joinTokenHash: string;
  joinTokenExpiresAt: Date;
  createdAt: Date;
}

export interface Enrollment {
  publicKey: string;
  keyFingerprint: string;
  hostname: string | null;
  version: string | null;
  at: Date;
}

@Injectable()
export class AgentsRepository {
  constructor(@InjectRepository(AgentEntity) private readonly agents: Repository<AgentEntity>) {}

  async insertAwaitingEnrollment(agent: NewAgent): Promise<AgentEntity> {
    const row = this.agents.create({
      ...agent,
      joinTokenUsedAt: null,
      publicKey: null,
      keyFingerprint: null,
      revokedAt: null,
      revokedBy: null,
      hostname: null,
      version: null,
      sshHostKey: null,
      enrolledAt: null,
      lastSeenAt: null,
    });
    await this.agents.insert(row);
    return row;
  }

  listByName(): Promise<AgentEntity[]> {
    return this.agents.find({ order: { name: 'ASC' } });
  }

  findByName(name: string): Promise<AgentEntity | null> {
    return this.agents.findOneBy({ name });
  }

  findById(id: string): Promise<AgentEntity | null> {
    return this.agents.findOneBy({ id });
  }

  findByIds(ids: string[]): Promise<AgentEntity[]> {
    return ids.length === 0 ? Promise.resolve([]) : this.agents.findBy(ids.map((id) => ({ id })));
  }

  findByJoinTokenHash(joinTokenHash: string): Promise<AgentEntity | null> {
    return this.agents.findOneBy({ joinTokenHash });
  }

  /**
   * Spends the join token and stores the agent's public key in one conditional update,
   * so two concurrent enrolments with the same token cannot both succeed.
   */
  async completeEnrollment(id: string, enrollment: Enrollment): Promise<boolean> {
    const result = await this.agents.update(
      { id, joinTokenUsedAt: IsNull(), revokedAt: IsNull() },
      {
        joinTokenUsedAt: enrollment.at,
        enrolledAt: enrollment.at,
        lastSeenAt: enrollment.at,
        publicKey: enrollment.publicKey,
        keyFingerprint: enrollment.keyFingerprint,
        hostname: enrollment.hostname,
        version: enrollment.version,
      },
    );
    return (result.affected ?? 0) === 1;
  }

  /** Marks the agent revoked unless it already is; false when it was (the first revocation stands). */
  async revoke(id: string, at: Date, by: string): Promise<boolean> {
    const result = await this.agents.update({ id, revokedAt: IsNull() }, { revokedAt: at, revokedBy: by });
    return (result.affected ?? 0) === 1;
  }

  /** False when the agent is revoked (or gone): nothing is updated then. */
  async markSeen(id: string, at: Date, info: { hostname?: string; version?: string; sshHostKey?: string }): Promise<boolean> {
    const result = await this.agents.update({ id, revokedAt: IsNull() }, { lastSeenAt: at, ...definedOnly(info) });
    return (result.affected ?? 0) === 1;
  }

  /** Names of the connections that route through this agent (they block its deletion). */
  async connectionNamesUsing(agentId: string): Promise<string[]> {
    const rows: Array<{ name: string }> = await this.agents.manager.query(
      'SELECT name FROM connections WHERE agent_id = $1 ORDER BY name',
      [agentId],
    );
    return rows.map((r) => r.name);
  }

  async deleteById(id: string): Promise<void> {
    await this.agents.delete({ id });
  }
}

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}
