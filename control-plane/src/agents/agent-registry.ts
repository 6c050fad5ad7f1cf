import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, type StructuredLogger } from '../common/logger.js';
import type { AgentLink } from './agent-link.js';

/** The agents connected to this process right now, by agent id. In memory: a link is a live stream. */
@Injectable()
export class AgentRegistry {
  private readonly links = new Map<string, AgentLink>();

  constructor(@Inject(LOGGER) private readonly logger: StructuredLogger) {}

  /** Makes `link` the agent's current link; an older link of the same agent is closed (the agent reconnected). */
  register(link: AgentLink): void {
    const previous = this.links.get(link.agentId);
    this.links.set(link.agentId, link);
    this.logger.info('agent connected', { agentId: link.agentId, agentName: link.agentName });
    if (previous && previous !== link) this.closeQuietly(previous, 'replaced by a newer connection of the same agent');
  }

  /** Forgets `link` only if it is still the current one, so a late cleanup never evicts its replacement. */
  unregister(link: AgentLink): void {
    if (this.links.get(link.agentId) !== link) return;
    this.links.delete(link.agentId);
    this.logger.info('agent disconnected', { agentId: link.agentId, agentName: link.agentName });
  }

  get(agentId: string): AgentLink | undefined {
    return this.links.get(agentId);
  }

  get connectedCount(): number {
    return this.links.size;
  }

  isConnected(agentId: string): boolean {
    return this.links.has(agentId);
  }

  connectedAt(agentId: string): Date | null {
    return this.links.get(agentId)?.connectedAt ?? null;
  }

  /** Closes the agent's link, if any, e.g. when the agent is deleted. */
  disconnect(agentId: string, reason: string): void {
    const link = this.links.get(agentId);
    if (!link) return;
    this.links.delete(agentId);
    this.closeQuietly(link, reason);
  }

  private closeQuietly(link: AgentLink, reason: string): void {
    try {
      link.close(reason);
    } catch (error) {
      this.logger.warn('closing an agent link failed', { agentId: link.agentId, error: String(error) });
    }
  }
}
