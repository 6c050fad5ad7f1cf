import { randomUUID } from 'node:crypto';
import { ReviewState } from '@airlock/proto';
import type { DecisionUpdate } from '@airlock/proto';
import type { ControlMessageInit } from '../link/control-link.js';
import type { HoldOutcome, HoldRequest } from '../protocols/engine.js';

interface Waiting {
  sessionId: string;
  hold: HoldRequest;
  notify: (message: string) => void;
  resolve: (outcome: HoldOutcome) => void;
  lastNotice: string;
}

/**
 * The agent's side of reviews: sends a decision request for each held statement and resolves it
 * when the control plane pushes the decision. Requests keep their id across reconnects and are
 * re-sent after each one, so a control-plane restart never loses a held statement.
 */
export class DecisionBroker {
  private readonly waiting = new Map<string, Waiting>();

  constructor(private readonly send: (message: ControlMessageInit) => void) {}

  hold(sessionId: string, hold: HoldRequest, notify: (message: string) => void, signal: AbortSignal): Promise<HoldOutcome> {
    const requestId = randomUUID();
    return new Promise((resolve) => {
      const finish = (outcome: HoldOutcome) => {
        this.waiting.delete(requestId);
        resolve(outcome);
      };
      if (signal.aborted) return finish({ released: false, reviewId: 0, message: 'the session ended' });
      this.waiting.set(requestId, { sessionId, hold, notify, resolve: finish, lastNotice: '' });
      signal.addEventListener(
        'abort',
        () => {
          if (!this.waiting.has(requestId)) return;
          this.send({ message: { case: 'decisionCancel', value: { requestId, reason: 'the client went away or the session ended' } } });
          finish({ released: false, reviewId: 0, message: 'the session ended' });
        },
        { once: true },
      );
      this.sendRequest(requestId);
    });
  }

  /** Applies a decision pushed by the control plane. */
  onUpdate(update: DecisionUpdate): void {
    const waiting = this.waiting.get(update.requestId);
    if (!waiting) return;
    const id = Number(update.reviewId);
    switch (update.state) {
      case ReviewState.PENDING:
        if (update.failFast) {
          return waiting.resolve({ released: false, pending: true, reviewId: id, message: `airlock: ${heldNoun(waiting.hold)} needs review ${id}; send it again once approved and it runs once — airlock reviews approve ${id}` });
        }
        return this.notifyOnce(waiting, `airlock: ${heldNoun(waiting.hold)} held for review ${id} (${update.approvals} of ${update.approvalsRequired} approvals) — airlock reviews approve ${id}`);
      case ReviewState.APPROVED:
        return waiting.resolve({ released: true, reviewId: id });
      case ReviewState.REJECTED:
        return waiting.resolve({ released: false, reviewId: id, message: `airlock: review ${id} rejected by ${update.decidedBy.join(', ') || 'a reviewer'}${update.reason ? `: ${update.reason}` : ''}` });
      case ReviewState.EXPIRED:
        return waiting.resolve({ released: false, reviewId: id, message: `airlock: review ${id} expired: nobody decided in time` });
      default:
        return waiting.resolve({ released: false, reviewId: id, message: `airlock: ${id ? `review ${id}` : 'the review'} was cancelled${update.reason ? `: ${update.reason}` : ''}` });
    }
  }

  heldRequestIds(): string[] {
    return [...this.waiting.keys()];
  }

  /** After a reconnect: ask again for everything still held, with the same ids. */
  resendAll(): void {
    for (const requestId of this.waiting.keys()) this.sendRequest(requestId);
  }

  private sendRequest(requestId: string): void {
    const { sessionId, hold } = this.waiting.get(requestId)!;
    this.send({ message: { case: 'decisionRequest', value: { requestId, sessionId, ...hold } } });
  }

  private notifyOnce(waiting: Waiting, message: string): void {
    if (waiting.lastNotice === message) return;
    waiting.lastNotice = message;
    waiting.notify(message);
  }
}

/** What the person is waiting on, in their protocol's words. */
function heldNoun(hold: HoldRequest): string {
  const kind = hold.kinds[0] ?? '';
  if (kind.startsWith('ssh-')) return 'command';
  if (/^[A-Z]+$/.test(kind)) return 'request'; // an HTTP method
  return 'statement';
}
