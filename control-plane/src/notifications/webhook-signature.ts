import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * How receivers verify a review webhook.
 *
 * Every request carries `X-Airlock-Timestamp: <unix seconds>` and
 * `X-Airlock-Signature: sha256=<hex>`, where <hex> is HMAC-SHA256, keyed with AIRLOCK_WEBHOOK_SECRET,
 * of the string `<timestamp>.<raw request body>`. To verify: recompute it over the raw body bytes
 * exactly as received (before any JSON parsing), compare in constant time, and refuse timestamps more
 * than a few minutes from your clock, so a captured request cannot be replayed later. Retries of one
 * delivery carry the same `X-Airlock-Delivery` id (also the body's `id`): deduplicate on it, since
 * delivery is at least once.
 */
export const SIGNATURE_PREFIX = 'sha256=';

export function signWebhook(secret: string, timestamp: number, body: string): string {
  return SIGNATURE_PREFIX + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** What a receiver runs; `toleranceSeconds` bounds how old (or how far ahead) a timestamp may be. */
export function verifyWebhook(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  if (!headers.timestamp || !headers.signature || !/^\d+$/.test(headers.timestamp)) return false;
  const timestamp = Number(headers.timestamp);
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(headers.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
