/**
 * The credential the agent presents to an HTTP or Kubernetes target, and the credentials a client
 * must never get through: whatever identity the client brings (Authorization, Proxy-Authorization,
 * the connection's own credential header, cookies) is removed, so every request reaches the target as
 * the agent's identity and is judged by airlock's policy only. Cookies go both ways: a session cookie
 * the target sets after the agent logged in is a credential derived from the agent's, so Set-Cookie
 * never reaches the client, and a Cookie header from the client is never passed on. Pure.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

export const CREDENTIAL_KINDS = ['none', 'bearer', 'basic', 'header', 'client-cert'] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

export interface CredentialPlan {
  kind: CredentialKind;
  /** Lower-case header name for `header` credentials. */
  header?: string;
}

export class CredentialConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialConfigError';
  }
}

/**
 * Reads `options.credential` (and `options.header`). Without a `credential` option a connection with
 * a secret presents it as a bearer token, one without a secret presents nothing.
 */
export function credentialPlan(options: Record<string, string>, hasSecret: boolean): CredentialPlan {
  const kind = (options.credential ?? (hasSecret ? 'bearer' : 'none')) as CredentialKind;
  if (!CREDENTIAL_KINDS.includes(kind)) {
    throw new CredentialConfigError(`airlock: unknown credential kind "${kind}" (expected ${CREDENTIAL_KINDS.join(', ')})`);
  }
  if (kind !== 'none' && !hasSecret) throw new CredentialConfigError(`airlock: credential "${kind}" needs a secret on the connection (--secret env:VAR)`);
  if (kind === 'header') {
    const header = options.header?.trim().toLowerCase();
    if (!header) throw new CredentialConfigError('airlock: credential "header" needs options.header, the header that carries the secret');
    return { kind, header };
  }
  if (kind === 'client-cert' && !options.client_cert) {
    throw new CredentialConfigError('airlock: credential "client-cert" needs options.client_cert, a reference to the PEM certificate (the secret is its key)');
  }
  return { kind };
}

/** Request headers that carry a client's own credentials. */
const CLIENT_CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie'];

/** Removes every credential the client sent, in place; returns the names removed (for the log, never the values). */
export function stripClientCredentials(headers: IncomingHttpHeaders, plan: CredentialPlan): string[] {
  const names = plan.header ? [...CLIENT_CREDENTIAL_HEADERS, plan.header] : CLIENT_CREDENTIAL_HEADERS;
  const removed: string[] = [];
  for (const name of names) {
    if (headers[name] !== undefined) {
      delete headers[name];
      removed.push(name);
    }
  }
  return removed;
}

/** The headers that present the agent's credential; client certificates go in the TLS handshake instead. */
export function credentialHeaders(plan: CredentialPlan, secret: string): Record<string, string> {
  switch (plan.kind) {
    case 'bearer':
      return { authorization: `Bearer ${secret.trim()}` };
    case 'basic': {
      if (!secret.includes(':')) throw new CredentialConfigError('airlock: the secret of a "basic" credential must be user:password');
      return { authorization: `Basic ${Buffer.from(secret.replace(/\r?\n$/, ''), 'utf8').toString('base64')}` };
    }
    case 'header':
      return { [plan.header!]: secret.trim() };
    case 'none':
    case 'client-cert':
      return {};
  }
}

/** Response headers the client must not get: cookies the target set for the agent's identity. */
export function stripResponseCredentials(headers: IncomingHttpHeaders | OutgoingHttpHeaders): void {
  delete headers['set-cookie'];
  delete headers['set-cookie2'];
}
