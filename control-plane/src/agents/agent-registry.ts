import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, type StructuredLogger } from '../common/logger.js';
import type { AgentLink, AgentStream } from './agent-link.js';

/**
 * The agents connected to this process right now, by agent id, with the session streams each has
 * open. In memory: a link is a live stream.
 */
@Injectable()
export class AgentRegistry {
  private readonly links = new Map<string, AgentLink>();
  private readonly streams = new Map<string, Set<AgentStream>>();

  constructor(@Inject(LOGGER) private readonly logger: StructuredLogger) {}

  /** Makes `link` the agent's current link; an older link of the same agent is closed (the agent reconnected). */
  register(link: AgentLink): void {
    const previous = this.links.get(link.agentId);
    this.links.set(link.agentId, link);
    this.logger.info('agent connected', { agentId: link.agentId, agentName: link.agentName });
    if (previous && previous !== link) this.closeQuietly(link.agentId, () => previous.close('replaced by a newer connection of the same agent'));
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

  /** Remembers a session stream of the agent until the returned function is called (when it ends). */
  trackStream(agentId: string, stream: AgentStream): () => void {
    let streams = this.streams.get(agentId);
    if (!streams) this.streams.set(agentId, (streams = new Set()));
    streams.add(stream);
    return () => {
      streams.delete(stream);
      if (streams.size === 0 && this.streams.get(agentId) === streams) this.streams.delete(agentId);
    };
  }

  /**
   * Closes the agent's control link and every session stream it has open here, e.g. when it is
   * deleted or revoked; returns how many streams were closed.
   */
  disconnect(agentId: string, reason: string, options: { revoked?: boolean } = {}): number {
    let closed = 0;
    const link = this.links.get(agentId);
    if (link) {
      this.links.delete(agentId);
      this.closeQuietly(agentId, () => link.close(reason, options));
      closed += 1;
    }
    const streams = this.streams.get(agentId);
    this.streams.delete(agentId);
    for (const stream of streams ?? []) {
      this.closeQuietly(agentId, () => stream.close(reason));
      closed += 1;
    }
    return closed;
  }

  private closeQuietly(agentId: string, close: () => void): void {
    try {
      close();
    } catch (error) {
      this.logger.warn('closing an agent stream failed', { agentId, error: String(error) });
    }
  }
}
