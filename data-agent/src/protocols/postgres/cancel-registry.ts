/**
 * Maps the BackendKeyData the agent gives its clients to the real server's key. Clients never see
 * the server's pid or secret; a CancelRequest with an agent-issued key is forwarded to the right backend.
 */
import { randomInt } from 'node:crypto';
import type { UpstreamEndpoint } from './upstream-auth.js';

export interface CancelTarget {
  endpoint: UpstreamEndpoint;
  processId: number;
  secretKey: number;
}

export interface IssuedKey {
  processId: number;
  secretKey: number;
}

const MAX_INT32 = 2 ** 31 - 1;

export class CancelRegistry {
  private readonly entries = new Map<number, { secretKey: number; target: CancelTarget }>();

  /** Issues a fresh agent key for a session; release it when the session ends. */
  issue(target: CancelTarget): IssuedKey {
    let processId: number;
    do processId = randomInt(1, MAX_INT32);
    while (this.entries.has(processId));
    const secretKey = randomInt(-MAX_INT32, MAX_INT32);
    this.entries.set(processId, { secretKey, target });
    return { processId, secretKey };
  }

  /** The real backend for an agent key, or undefined when the key is unknown or the secret is wrong. */
  lookup(processId: number, secretKey: number): CancelTarget | undefined {
    const entry = this.entries.get(processId);
    return entry && entry.secretKey === secretKey ? entry.target : undefined;
  }

  release(processId: number): void {
    this.entries.delete(processId);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** One per agent process: a CancelRequest arrives on a new connection, separate from the session it cancels. */
export const cancelRegistry = new CancelRegistry();
