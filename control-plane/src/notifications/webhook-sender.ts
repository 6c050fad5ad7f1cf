import { CONTROL_PLANE_VERSION } from '../version.js';
import { signWebhook } from './webhook-signature.js';

export interface WebhookRequest {
  url: string;
  secret: string;
  id: string;
  eventType: string;
  body: string;
  /** Unix seconds; signed together with the body. */
  timestamp: number;
  timeoutMs: number;
}

export type WebhookResult = { ok: true } | { ok: false; error: string };

const ERROR_BODY_CHARS = 200;

/**
 * POSTs one signed delivery. Only a 2xx is success; redirects are not followed (the body and its
 * signature go to the configured endpoint only). Never throws: network errors and timeouts are results.
 */
export async function sendWebhook(request: WebhookRequest): Promise<WebhookResult> {
  try {
    const response = await fetch(request.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(request.timeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': `airlock-control-plane/${CONTROL_PLANE_VERSION}`,
        'x-airlock-event': request.eventType,
        'x-airlock-delivery': request.id,
        'x-airlock-timestamp': String(request.timestamp),
        'x-airlock-signature': signWebhook(request.secret, request.timestamp, request.body),
      },
      body: request.body,
    });
    const text = await response.text().catch(() => '');
    if (response.status >= 200 && response.status < 300) return { ok: true };
    const excerpt = text.trim().slice(0, ERROR_BODY_CHARS);
    return { ok: false, error: `HTTP ${response.status}${excerpt ? `: ${excerpt}` : ''}` };
  } catch (error) {
    return { ok: false, error: describeFailure(error, request.timeoutMs) };
  }
}

function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${timeoutMs} ms`;
  // fetch wraps socket errors: "fetch failed" with the real one (ECONNREFUSED, ENOTFOUND, ...) as its cause.
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error) return cause.message;
  return error instanceof Error ? error.message : String(error);
}
