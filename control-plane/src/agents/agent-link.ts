import type { ConnectionType, TlsMode } from '../connections/connection.entity.js';
import type { SessionPolicyPlain } from '../policies/policy-compiler.js';

/** The target an agent must reach for a session: references only, never secret values. */
export interface OpenSessionConnection {
  readonly id: string;
  readonly name: string;
  readonly type: ConnectionType;
  readonly host: string;
  readonly port: number;
  readonly database: string | null;
  readonly username: string | null;
  /** `env:VAR` or `file:/abs/path`, resolved by the agent itself. */
  readonly secretRef: string | null;
  readonly tlsMode: TlsMode;
  readonly options?: Record<string, string>;
}

/** An order, pushed down an agent's control stream, to open one session. */
export interface OpenSessionOrder {
  readonly sessionId: string;
  readonly connection: OpenSessionConnection;
  readonly mode: 'tunnel' | 'exec';
  readonly execSql?: string;
  readonly execMaxRows?: number;
  readonly subject: string;
  /** The rules the agent enforces for this session, compiled for its subject and connection. */
  readonly policy: SessionPolicyPlain;
  /** Re-attach a live session whose stream was cut; the client has received this many data bytes. */
  readonly resume?: { peerReceivedBytes: number };
}

/** A review's state, pushed to the agent holding the statement. */
export interface DecisionNotice {
  readonly requestId: string;
  readonly reviewId: number;
  readonly state: 'pending' | 'approved' | 'rejected' | 'expired' | 'cancelled';
  readonly approvals: number;
  readonly approvalsRequired: number;
  readonly reason: string;
  readonly decidedBy: readonly string[];
  readonly failFast: boolean;
}

/** A live control stream to one agent. The gateway implements it; the registry only holds it. */
export interface AgentLink {
  readonly agentId: string;
  readonly agentName: string;
  readonly connectedAt: Date;
  openSession(order: OpenSessionOrder): void;
  kill(sessionId: string, reason: string): void;
  notifyDecision(notice: DecisionNotice): void;
  /** Ends the control stream; `revoked` tells the agent it is refused for good (it stops retrying). */
  close(reason: string, options?: { revoked?: boolean }): void;
}

/** A session stream an agent opened, held by whoever relays it; closing it ends that session. */
export interface AgentStream {
  close(reason: string): void;
}
