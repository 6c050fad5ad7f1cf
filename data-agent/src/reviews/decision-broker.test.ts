import { create } from '@bufbuild/protobuf';
import { DecisionUpdateSchema, ReviewState } from '@airlock/proto';
import { describe, expect, it } from 'vitest';
import type { ControlMessageInit } from '../link/control-link.js';
import type { HoldRequest } from '../protocols/engine.js';
import { DecisionBroker } from './decision-broker.js';

const hold: HoldRequest = { statement: 'delete from t', kinds: ['delete'], tables: ['public.t'], policyName: 'p', policyVersion: 2, reason: 'deletes need review', fingerprint: 'f' };

function setup() {
  const sent: ControlMessageInit[] = [];
  const broker = new DecisionBroker((m) => sent.push(m));
  const notices: string[] = [];
  const abort = new AbortController();
  const outcome = broker.hold('s1', hold, (n) => notices.push(n), abort.signal);
  const requestId = (sent[0]!.message as { value: { requestId: string } }).value.requestId;
  const update = (state: ReviewState, extra: Record<string, unknown> = {}) =>
    broker.onUpdate(create(DecisionUpdateSchema, { requestId, reviewId: 42n, state, approvals: 0, approvalsRequired: 2, ...extra }));
  return { sent, broker, notices, abort, outcome, requestId, update };
}

describe('DecisionBroker', () => {
  it('asks once, tells the client about progress, and releases on approval', async () => {
    const { sent, notices, outcome, update } = setup();
    expect(sent[0]!.message).toMatchObject({ case: 'decisionRequest', value: { sessionId: 's1', statement: 'delete from t', policyVersion: 2 } });
    update(ReviewState.PENDING);
    update(ReviewState.PENDING);
    update(ReviewState.PENDING, { approvals: 1 });
    expect(notices).toEqual([
      'airlock: statement held for review 42 (0 of 2 approvals) — airlock reviews approve 42',
      'airlock: statement held for review 42 (1 of 2 approvals) — airlock reviews approve 42',
    ]);
    update(ReviewState.APPROVED, { approvals: 2 });
    expect(await outcome).toEqual({ released: true, reviewId: 42 });
  });

  it('explains rejections, expiry and fail-fast mode', async () => {
    const rejected = setup();
    rejected.update(ReviewState.REJECTED, { decidedBy: ['user:bob'], reason: 'not now' });
    expect(await rejected.outcome).toEqual({ released: false, reviewId: 42, message: 'airlock: review 42 rejected by user:bob: not now' });
    const expired = setup();
    expired.update(ReviewState.EXPIRED);
    expect((await expired.outcome).released).toBe(false);
    const fast = setup();
    fast.update(ReviewState.PENDING, { failFast: true });
    expect(await fast.outcome).toMatchObject({ released: false, message: expect.stringContaining('send it again once approved') });
  });

  it('re-asks with the same id after a reconnect and withdraws when the session ends', async () => {
    const { sent, broker, abort, outcome, requestId } = setup();
    expect(broker.heldRequestIds()).toEqual([requestId]);
    broker.resendAll();
    expect((sent[1]!.message as { value: { requestId: string } }).value.requestId).toBe(requestId);
    abort.abort();
    expect(sent[2]!.message).toMatchObject({ case: 'decisionCancel', value: { requestId } });
    expect((await outcome).released).toBe(false);
    expect(broker.heldRequestIds()).toEqual([]);
  });
});
