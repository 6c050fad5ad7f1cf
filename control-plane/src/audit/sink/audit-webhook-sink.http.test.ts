import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../testing/test-database.js';
import { apiClient, startTestControlPlane, TEST_ADMIN_TOKEN, type TestControlPlane } from '../../testing/test-control-plane.js';
import { WebhookReceiver } from '../../testing/webhook-receiver.js';
import { verifyWebhook } from '../../notifications/webhook-signature.js';
import type { AuditEventView } from '../audit.views.js';

/**
 * The audit log to a SIEM webhook, end to end: a real control plane on a fresh Postgres database, a
 * real HTTP server on 127.0.0.1 as the SIEM endpoint, which fails on purpose for a while.
 */
const SECRET = 'audit-sink-secret-0123456789';

type Batch = { id: string; type: string; events: AuditEventView[] };

describe('audit webhook sink', () => {
  let db: TestDatabase;
  let receiver: WebhookReceiver<Batch>;
  let cp: TestControlPlane | undefined;

  const start = () => startTestControlPlane({ databaseUrl: db.url, bootstrapToken: TEST_ADMIN_TOKEN, auditWebhookUrl: receiver.url, auditWebhookSecret: SECRET });
  const FAILED_ATTEMPTS = 2;
  /** Event ids of the requests answered 200 (all but the first two), in delivery order, each once. */
  const delivered = () => [...new Set(receiver.received.slice(FAILED_ATTEMPTS).flatMap((r) => r.json.events.map((e) => e.id)))];
  const waitForDelivery = async (count: number) => {
    for (let i = 0; i < 200 && delivered().length < count; i++) await new Promise((r) => setTimeout(r, 100));
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    receiver = await WebhookReceiver.start<Batch>();
  });
  afterAll(async () => {
    await cp?.close();
    await receiver?.close();
    await db?.drop();
  });

  it('delivers every event in order, signed, retrying a failing endpoint without skipping any, and resumes after a restart', async () => {
    // The first two attempts fail: the same events must come again, and nothing after them first.
    receiver.answer(503, 500);
    cp = await start();
    const admin = apiClient(cp.url, TEST_ADMIN_TOKEN);
    for (const name of ['ann', 'ben', 'cat']) expect((await admin('POST', '/v1/users', { name, groups: ['eng'] })).status).toBe(201);
    const auditIds = async () => ((await apiClient(cp!.url, TEST_ADMIN_TOKEN)('GET', '/v1/audit?limit=1000')).body.events as AuditEventView[]).map((e) => e.id).sort((a, b) => a - b);
    const expected = await auditIds();
    await waitForDelivery(expected.length);
    expect(receiver.received.length).toBeGreaterThanOrEqual(3);
    expect(receiver.received[1]!.json.events.map((e) => e.id)).toEqual(receiver.received[0]!.json.events.map((e) => e.id));
    expect(delivered()).toEqual(expected);
    for (const r of receiver.received) {
      expect(verifyWebhook(SECRET, { timestamp: r.headers['x-airlock-timestamp'] as string, signature: r.headers['x-airlock-signature'] as string }, r.body, Math.floor(Date.now() / 1000))).toBe(true);
      // The chain travels with the events, so the SIEM can check it too.
      for (const e of r.json.events) expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
    }

    // A restart resumes after what was acknowledged: no event delivered twice, new ones follow.
    await cp.close();
    const before = receiver.received.length;
    cp = await start();
    expect((await apiClient(cp.url, TEST_ADMIN_TOKEN)('POST', '/v1/users', { name: 'dan', groups: ['eng'] })).status).toBe(201);
    const all = await auditIds();
    await waitForDelivery(all.length);
    expect(delivered()).toEqual(all);
    const resent = receiver.received.slice(before).flatMap((r) => r.json.events.map((e) => e.id)).filter((id) => expected.includes(id));
    expect(resent).toEqual([]);
  }, 60_000);
});
