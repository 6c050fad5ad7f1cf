import { Injectable } from '@nestjs/common';
import type { GrpcServerCall } from '@airlock/proto';

export class SessionAttachError extends Error {
  constructor(readonly grpcCode: number, message: string) {
    super(message);
    this.name = 'SessionAttachError';
  }
}

/** The agent's session stream, and what it says it has already received (non-zero on a resume). */
export interface AttachedStream {
  call: GrpcServerCall;
  receivedBytes: number;
}

interface PendingAttach {
  agentId: string;
  resolve: (attached: AttachedStream) => void;
  reject: (error: SessionAttachError) => void;
  timer: NodeJS.Timeout;
}

/**
 * Matches the Session stream an agent opens to the tunnel or exec call waiting for it.
 * The waiting side orders the session first, then awaits the attach here.
 */
@Injectable()
export class SessionBroker {
  private readonly pending = new Map<string, PendingAttach>();

  expect(sessionId: string, agentId: string, timeoutMs: number, onTimeout: () => SessionAttachError): Promise<AttachedStream> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(sessionId);
        reject(onTimeout());
      }, timeoutMs);
      this.pending.set(sessionId, { agentId, resolve, reject, timer });
    });
  }

  /** Returns false when nobody waits for this session or it belongs to another agent. */
  attach(sessionId: string, agentId: string, call: GrpcServerCall, receivedBytes = 0): boolean {
    const waiting = this.pending.get(sessionId);
    if (!waiting || waiting.agentId !== agentId) return false;
    this.settle(sessionId, waiting);
    waiting.resolve({ call, receivedBytes });
    return true;
  }

  fail(sessionId: string, agentId: string, error: SessionAttachError): void {
    const waiting = this.pending.get(sessionId);
    if (!waiting || waiting.agentId !== agentId) return;
    this.settle(sessionId, waiting);
    waiting.reject(error);
  }

  /** The agent went away: everything it was about to open fails now rather than at the timeout. */
  failAllFor(agentId: string, error: SessionAttachError): void {
    for (const [sessionId, waiting] of this.pending) {
      if (waiting.agentId === agentId) this.fail(sessionId, agentId, error);
    }
  }

  cancel(sessionId: string): void {
    const waiting = this.pending.get(sessionId);
    if (waiting) this.settle(sessionId, waiting);
  }

  private settle(sessionId: string, waiting: PendingAttach): void {
    clearTimeout(waiting.timer);
    this.pending.delete(sessionId);
  }
}
