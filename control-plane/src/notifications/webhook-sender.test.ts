import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { backoffDelayMs } from './backoff.js';
import { sendWebhook, type WebhookRequest } from './webhook-sender.js';
import { signWebhook, verifyWebhook } from './webhook-signature.js';

const SECRET = 'sender-test-secret-0123456789';

/** A local HTTP server that handles each request with `handle`; stands in for a customer's endpoint. */
async function endpoint(handle: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server }> {
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, server };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

function request(url: string, more: Partial<WebhookRequest> = {}): WebhookRequest {
  return { url, secret: SECRET, id: 'd-1', eventType: 'review.created', body: '{"id":"d-1"}', timestamp: 1_790_000_000, timeoutMs: 2_000, ...more };
}

describe('sendWebhook', () => {
  it('succeeds only on 2xx and reports other answers with a short excerpt of the body', async () => {
    const statuses = [204, 302, 418];
    const { url } = await endpoint((_req, res) => {
      const status = statuses.shift()!;
      res.writeHead(status, status === 302 ? { location: 'http://127.0.0.1:1/elsewhere' } : {}).end(status === 418 ? `${'x'.repeat(500)}` : '');
    });
    expect(await sendWebhook(request(url))).toEqual({ ok: true });
    expect(await sendWebhook(request(url))).toEqual({ ok: false, error: 'HTTP 302' });
    expect(await sendWebhook(request(url))).toEqual({ ok: false, error: `HTTP 418: ${'x'.repeat(200)}` });
  });

  it('gives up on an endpoint that does not answer within the timeout', async () => {
    const { url } = await endpoint(() => undefined); // never answers
    const started = Date.now();
    expect(await sendWebhook(request(url, { timeoutMs: 200 }))).toEqual({ ok: false, error: 'no answer within 200 ms' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('reports a refused connection', async () => {
    const { url, server } = await endpoint(() => undefined);
    await new Promise((resolve) => server.close(resolve));
    expect(await sendWebhook(request(url))).toEqual({ ok: false, error: expect.stringContaining('ECONNREFUSED') });
  });
});

describe('signatures', () => {
  it('is HMAC-SHA256 of "<timestamp>.<body>" and verifies only within the tolerance', () => {
    const signature = signWebhook(SECRET, 1_790_000_000, '{"a":1}');
    // A fixed vector, so receivers in other languages can check their implementation against it.
    expect(signature).toBe('sha256=a29b4156d74b5edabd1517114a935788d9b45d5f0ca800a6832dfc56efe3f8fd');
    const headers = { timestamp: '1790000000', signature };
    expect(verifyWebhook(SECRET, headers, '{"a":1}', 1_790_000_100)).toBe(true);
    expect(verifyWebhook(SECRET, headers, '{"a":2}', 1_790_000_000)).toBe(false);
    expect(verifyWebhook(SECRET, { ...headers, timestamp: '1790000001' }, '{"a":1}', 1_790_000_000)).toBe(false);
    expect(verifyWebhook(SECRET, headers, '{"a":1}', 1_790_000_301)).toBe(false);
    expect(verifyWebhook(SECRET, { timestamp: undefined, signature }, '{"a":1}', 1_790_000_000)).toBe(false);
  });
});

describe('backoffDelayMs', () => {
  const policy = { baseMs: 1_000, capMs: 300_000 };

  it('doubles from the base up to the cap, jittered within the upper half', () => {
    expect([1, 2, 3, 4, 9, 10, 20].map((n) => backoffDelayMs(n, policy, () => 1))).toEqual([1_000, 2_000, 4_000, 8_000, 256_000, 300_000, 300_000]);
    expect([1, 2, 10].map((n) => backoffDelayMs(n, policy, () => 0))).toEqual([500, 1_000, 150_000]);
  });
});
