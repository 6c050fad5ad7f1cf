import type { AgentLink, DecisionNotice, OpenSessionOrder } from '../agents/agent-link.js';

/**
 * Stands in for a connected agent's control stream (the gateway's GrpcAgentLink): register it in
 * the AgentRegistry and it records what the control plane pushes down the stream, so a test can
 * assert exactly what the agent holding a statement was told, without a real agent or gRPC.
 */
export class RecordingAgentLink implements AgentLink {
  readonly notices: DecisionNotice[] = [];
  readonly openOrders: OpenSessionOrder[] = [];
  readonly kills: Array<{ sessionId: string; reason: string }> = [];
  closedWith: string | undefined;

  constructor(
    readonly agentId: string,
    readonly agentName: string,
    readonly connectedAt: Date,
  ) {}

  openSession(order: OpenSessionOrder): void {
    this.openOrders.push(order);
  }

  kill(sessionId: string, reason: string): void {
    this.kills.push({ sessionId, reason });
  }

  notifyDecision(notice: DecisionNotice): void {
    this.notices.push(notice);
  }

  close(reason: string): void {
    this.closedWith = reason;
  }

  /** The notices pushed for one held statement, in order. */
  noticesFor(requestId: string): DecisionNotice[] {
    return this.notices.filter((n) => n.requestId === requestId);
  }
}
