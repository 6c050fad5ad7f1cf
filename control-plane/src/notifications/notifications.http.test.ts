import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricsService } from '../metrics/metrics.service.js';
import { ReviewsRepository } from '../reviews/reviews.repository.js';
import { type HeldStatement, ReviewsService } from '../reviews/reviews.service.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { apiClient, ManualClock, startTestControlPlane, TEST_ADMIN_TOKEN, type TestControlPlane } from '../testing/test-control-plane.js';
import { type ReceivedWebhook, WebhookReceiver } from '../testing/webhook-receiver.js';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import { verifyWebhook } from './webhook-signature.js';

/**
 * Review webhooks end to end: a real control plane on a fresh Postgres database raises review events
 * through the real ReviewsService (requests as the gateway makes them, decisions over REST), and a
 * real HTTP server on 127.0.0.1 stands in for the customer's endpoint. Time is a ManualClock, so
 * backoff is passed by moving it rather than by sleeping; waits are bounded polls.
 */

const SECRET = 'test-webhook-secret-0123456789';
const MINUTE = 60_000;
const HOOKS = `apiVersion: airlock/v1
kind: Policy
metadata: { name: hooks }
spec:
  subjects: ["*"]
  connections: ["prod-*"]
  default: review
  review:
    reviewers: ["group:dba"]
    approvals: 1
    timeout: 10m
`;

type Received = ReceivedWebhook<{ id: string; type: string; occurredAt: string; review: Record<string, unknown> }>;

/** Retries an assertion every 20 ms until it passes or `timeoutMs` runs out (then throws its last failure). */
async function eventually(assertion: () => unknown | Promise<unknown>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await assertion();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** The receiver's side of the scheme, written out independently of the code under test. */
function expectSigned(hook: Received): void {
  const timestamp = hook.headers['x-airlock-timestamp'] as string;
  expect(timestamp).toMatch(/^\d+$/);
  const expected = createHmac('sha256', SECRET).update(`${timestamp}.${hook.body}`).digest('hex');
  expect(hook.headers['x-airlock-signature']).toBe(`sha256=${expected}`);
  expect(hook.headers['content-type']).toBe('application/json');
  expect(hook.headers['x-airlock-event']).toBe(hook.json.type);
  expect(hook.headers['x-airlock-delivery']).toBe(hook.json.id);
}

describe('review webhooks', () => {
  let db: TestDatabase;
  let receiver: WebhookReceiver<Received['json']>;
  let cp: TestControlPlane;
  let version: number;
  /** bob's token: a dba, so he may decide alice's reviews. */
  let bobToken: string;
  const clock = new ManualClock();

  async function start(webhook: boolean): Promise<TestControlPlane> {
    const started = await startTestControlPlane(
      { databaseUrl: db.url, bootstrapToken: TEST_ADMIN_TOKEN, ...(webhook ? { webhookUrl: receiver.url, webhookSecret: SECRET } : {}) },
      clock,
    );
    // Expiry only when a test calls expireDue(), so moving the clock never races a sweep.
    started.app.get(ReviewsService).onApplicationShutdown();
    return started;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    receiver = await WebhookReceiver.start<Received['json']>();
    cp = await start(true);
    const admin = apiClient(cp.url, TEST_ADMIN_TOKEN);
    const applied = await admin('POST', '/v1/policies:apply', { document: HOOKS });
    expect(applied.status).toBe(200);
    version = applied.body.version;
    const bob = await admin('POST', '/v1/users', { name: 'bob', groups: ['dba'], role: 'reviewer' });
    expect(bob.status).toBe(201);
    bobToken = bob.body.token;
  });
  afterAll(async () => {
    await cp?.close();
    await receiver?.close();
    await db?.drop();
  });

  /** What the gateway passes on when an agent holds alice's DELETE; returns the new review's id. */
  async function holdStatement(statement = 'DELETE FROM public.orders WHERE id = 42'): Promise<{ id: number; held: HeldStatement }> {
    const held: HeldStatement = {
      requestId: randomUUID(),
      agentId: randomUUID(),
      sessionId: randomUUID(),
      connectionName: 'prod-eu',
      requester: 'user:alice',
      statement,
      kinds: ['delete'],
      tables: ['public.orders'],
      policyName: 'hooks',
      policyVersion: version,
      reason: 'default of hooks',
      fingerprint: randomUUID(),
    };
    await cp.app.get(ReviewsService).request(held);
    const review = await cp.app.get(ReviewsRepository).findByRequestId(held.requestId);
    return { id: review!.id, held };
  }

  it('sends created and every decision in the order they happened, each signed with the secret', async () => {
    const reviewer = apiClient(cp.url, bobToken);
    const createdAt = clock.now();
    const approved = await holdStatement();
    const rejected = await holdStatement('DELETE FROM public.orders WHERE id = 43');
    clock.advance(MINUTE);
    expect((await reviewer('POST', `/v1/reviews/${approved.id}/approve`, { comment: 'fine' })).status).toBe(200);
    expect((await reviewer('POST', `/v1/reviews/${rejected.id}/reject`, { reason: 'not on a Friday' })).status).toBe(200);
    const cancelled = await holdStatement('DELETE FROM public.orders WHERE id = 44');
    await cp.app.get(ReviewsService).cancelRequest(cancelled.held.requestId, 'user:alice', 'the client went away');
    const expired = await holdStatement('DELETE FROM public.orders WHERE id = 45');
    clock.advance(11 * MINUTE);
    await cp.app.get(ReviewsService).expireDue();

    const hooks = await receiver.waitForCount(8);
    expect(hooks.map((h) => [h.json.type, h.json.review.id])).toEqual([
      ['review.created', approved.id],
      ['review.created', rejected.id],
      ['review.approved', approved.id],
      ['review.rejected', rejected.id],
      ['review.created', cancelled.id],
      ['review.cancelled', cancelled.id],
      ['review.created', expired.id],
      ['review.expired', expired.id],
    ]);
    hooks.forEach(expectSigned);
    expect(new Set(hooks.map((h) => h.json.id)).size).toBe(8);

    const decidedAt = new Date(createdAt.getTime() + MINUTE).toISOString();
    expect(hooks[0].json).toEqual({
      id: hooks[0].headers['x-airlock-delivery'],
      type: 'review.created',
      occurredAt: createdAt.toISOString(),
      review: {
        id: approved.id,
        kind: 'statement',
        state: 'pending',
        connection: 'prod-eu',
        requester: 'user:alice',
        statement: 'DELETE FROM public.orders WHERE id = 42',
        accessSeconds: null,
        reason: 'default of hooks',
        reviewers: ['group:dba'],
        approvals: 0,
        approvalsRequired: 1,
        stateReason: null,
        createdAt: createdAt.toISOString(),
        expiresAt: new Date(createdAt.getTime() + 10 * MINUTE).toISOString(),
        decidedAt: null,
      },
    });
    expect(hooks[2].json).toMatchObject({ type: 'review.approved', occurredAt: decidedAt, review: { state: 'approved', approvals: 1, decidedAt } });
    expect(hooks[3].json).toMatchObject({ type: 'review.rejected', review: { state: 'rejected', approvals: 0, stateReason: 'not on a Friday' } });
    expect(hooks[5].json.review).toMatchObject({ state: 'cancelled', stateReason: 'the client went away' });
    expect(hooks[7].json.review).toMatchObject({ state: 'expired', stateReason: 'nobody decided before the review timed out' });

    // The shipped verifier accepts them, and refuses a changed body or a stale timestamp.
    const first = hooks[0];
    const headers = { timestamp: first.headers['x-airlock-timestamp'] as string, signature: first.headers['x-airlock-signature'] as string };
    const sentAt = Number(headers.timestamp);
    expect(verifyWebhook(SECRET, headers, first.body, sentAt + 10)).toBe(true);
    expect(verifyWebhook(SECRET, headers, first.body.replace('id = 42', 'id = 41'), sentAt)).toBe(false);
    expect(verifyWebhook('another-secret-0123456789', headers, first.body, sentAt)).toBe(false);
    expect(verifyWebhook(SECRET, headers, first.body, sentAt + 10 * MINUTE / 1000)).toBe(false);

    await eventually(async () => {
      const rows = await cp.app.get(WebhookDeliveriesRepository).listInOrder();
      expect(rows.map((r) => [r.id, r.state, r.attempts])).toEqual(hooks.map((h) => [h.json.id, 'delivered', 1]));
    });
    expect(await cp.app.get(MetricsService).render()).toMatch(/^airlock_webhook_deliveries_total\{outcome="delivered"\} 8$/m);
    expect(JSON.stringify(cp.logs)).not.toContain(SECRET);
  });

  it('retries a failing delivery with the same id, and nothing behind it overtakes it', async () => {
    const deliveries = cp.app.get(WebhookDeliveriesRepository);
    const before = receiver.received.length;
    receiver.answer(500, 500);
    const first = await holdStatement('UPDATE public.orders SET paid = true');
    const second = await holdStatement('UPDATE public.orders SET paid = false');

    // Each failure sets the next attempt a backoff away on the (manual) clock; moving past the 5 min cap makes it due.
    for (const attempt of [1, 2]) {
      const hooks = await receiver.waitForCount(before + attempt);
      await eventually(async () => expect((await deliveries.findById(hooks.at(-1)!.json.id))?.attempts).toBe(attempt));
      const row = (await deliveries.findById(hooks.at(-1)!.json.id))!;
      expect(row).toMatchObject({ state: 'pending', lastError: 'HTTP 500: receiver is down for maintenance' });
      expect(row.nextAttemptAt.getTime()).toBeGreaterThan(clock.now().getTime());
      clock.advance(6 * MINUTE);
    }
    const hooks = (await receiver.waitForCount(before + 4)).slice(before);
    expect(hooks.map((h) => [h.json.type, h.json.review.id])).toEqual([
      ['review.created', first.id],
      ['review.created', first.id],
      ['review.created', first.id],
      ['review.created', second.id],
    ]);
    expect(new Set(hooks.slice(0, 3).map((h) => h.json.id)).size).toBe(1);
    expect(new Set(hooks.slice(0, 3).map((h) => h.body)).size).toBe(1);
    hooks.forEach(expectSigned);
    // The timestamp (and so the signature) is that of each attempt.
    expect(new Set(hooks.slice(0, 3).map((h) => h.headers['x-airlock-timestamp'])).size).toBe(3);
    await eventually(async () => expect(await deliveries.findById(hooks[3].json.id)).toMatchObject({ state: 'delivered', attempts: 1 }));
    expect(await deliveries.findById(hooks[0].json.id)).toMatchObject({ state: 'delivered', attempts: 3, lastError: 'HTTP 500: receiver is down for maintenance' });
    expect(await cp.app.get(MetricsService).render()).toMatch(/^airlock_webhook_deliveries_total\{outcome="retry"\} 2$/m);
  });

  it('gives a delivery up after 20 attempts, logs it, and moves on to the next', async () => {
    const dispatcher = cp.app.get(WebhookDispatcher);
    const deliveries = cp.app.get(WebhookDeliveriesRepository);
    await dispatcher.stop(); // driven by hand from here: one attempt per deliverNext()
    const before = receiver.received.length;
    receiver.answer(...Array<number>(20).fill(503));
    const doomed = await holdStatement('TRUNCATE public.orders');
    const next = await holdStatement('DELETE FROM public.carts');

    for (let attempt = 1; attempt <= 20; attempt += 1) {
      expect(await dispatcher.deliverNext()).toBe('attempted');
      if (attempt < 20) expect(await dispatcher.deliverNext()).toBe('waiting');
      clock.advance(6 * MINUTE);
    }
    const hooks = receiver.received.slice(before);
    expect(hooks).toHaveLength(20);
    expect(new Set(hooks.map((h) => h.json.id)).size).toBe(1);
    expect(await deliveries.findById(hooks[0].json.id)).toMatchObject({ state: 'failed', attempts: 20, lastError: 'HTTP 503: receiver is down for maintenance' });
    expect(cp.logs).toContainEqual(expect.objectContaining({ level: 'error', msg: 'review webhook failed for good; the queue moves on', reviewId: doomed.id, attempts: 20 }));

    expect(await dispatcher.deliverNext()).toBe('attempted');
    expect(receiver.received.slice(before + 20).map((h) => [h.json.type, h.json.review.id])).toEqual([['review.created', next.id]]);
    expect(await dispatcher.deliverNext()).toBe('idle');
    expect(await cp.app.get(MetricsService).render()).toMatch(/^airlock_webhook_deliveries_total\{outcome="failed"\} 1$/m);
  });

  it('delivers what was enqueued before a restart after the control plane comes back (the outbox)', async () => {
    await cp.app.get(WebhookDispatcher).stop(); // as if the process died before sending
    const before = receiver.received.length;
    const held = await holdStatement('DELETE FROM public.invoices');
    const pending = await cp.app.get(WebhookDeliveriesRepository).head();
    expect(pending).toMatchObject({ reviewId: held.id, eventType: 'review.created', state: 'pending', attempts: 0 });
    await cp.close();
    expect(receiver.received.length).toBe(before);

    cp = await start(true);
    const [hook] = (await receiver.waitForCount(before + 1)).slice(before);
    expect(hook.json).toMatchObject({ id: pending!.id, type: 'review.created', review: { id: held.id } });
    expectSigned(hook);
    await eventually(async () => expect(await cp.app.get(WebhookDeliveriesRepository).findById(pending!.id)).toMatchObject({ state: 'delivered' }));
  });

  it('enqueues nothing when no webhook is configured', async () => {
    await cp.close();
    cp = await start(false);
    const deliveries = cp.app.get(WebhookDeliveriesRepository);
    const rows = (await deliveries.listInOrder()).length;
    const before = receiver.received.length;
    const held = await holdStatement('DELETE FROM public.sessions');
    expect((await apiClient(cp.url, bobToken)('POST', `/v1/reviews/${held.id}/approve`, {})).status).toBe(200);
    expect((await deliveries.listInOrder()).length).toBe(rows);
    expect(await cp.app.get(WebhookDispatcher).deliverNext()).toBe('idle');
    expect(receiver.received.length).toBe(before);
  });
});
