/**
 * How the agent reaches an HTTP or Kubernetes target for one session: scheme, a keep-alive agent
 * (TLS always verified: against `options.ca` when given, else the system's CAs), and the credential,
 * read once from the agent's own secrets when the session opens.
 */
import http from 'node:http';
import https from 'node:https';
import type { SessionContext } from '../engine.js';
import { credentialHeaders, credentialPlan, type CredentialPlan } from './credentials.js';

export interface Upstream {
  protocol: 'http:' | 'https:';
  host: string;
  port: number;
  /** host:port as people read it in errors. */
  address: string;
  agent: http.Agent;
  plan: CredentialPlan;
  /** Headers that present the agent's credential (empty for none and client-cert). */
  credentialHeaders: Record<string, string>;
}

export class UpstreamConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpstreamConfigError';
  }
}

/** Throws UpstreamConfigError with a sentence for the client (never a secret's value). */
export function openUpstream(ctx: SessionContext, defaultScheme: 'http' | 'https'): Upstream {
  const { target } = ctx;
  const options = target.options;
  const scheme = options.scheme ?? defaultScheme;
  if (scheme !== 'http' && scheme !== 'https') throw new UpstreamConfigError(`airlock: connection "${target.name}" has an unknown scheme "${scheme}"`);
  const read = (ref: string, what: string): string => {
    try {
      return ctx.resolveSecret(ref);
    } catch (err) {
      throw new UpstreamConfigError(`airlock: the agent cannot read ${what} for connection "${target.name}": ${(err as Error).message}`);
    }
  };
  let plan: CredentialPlan;
  let headers: Record<string, string>;
  let clientCert: { cert: string; key: string } | undefined;
  try {
    plan = credentialPlan(options, target.secretRef !== '');
    const secret = plan.kind === 'none' ? '' : read(target.secretRef, 'the credential');
    headers = credentialHeaders(plan, secret);
    if (plan.kind === 'client-cert') clientCert = { key: secret, cert: read(options.client_cert!, 'the client certificate') };
  } catch (err) {
    if (err instanceof UpstreamConfigError) throw err;
    throw new UpstreamConfigError(`${(err as Error).message} (connection "${target.name}")`);
  }
  if (scheme === 'http' && clientCert) throw new UpstreamConfigError(`airlock: connection "${target.name}" uses a client certificate, which needs scheme https`);
  const agentOptions = { keepAlive: true, maxSockets: 8 };
  const agent =
    scheme === 'https'
      ? new https.Agent({
          ...agentOptions,
          rejectUnauthorized: true,
          ...(options.ca ? { ca: read(options.ca, 'the CA certificate') } : {}),
          ...(clientCert ?? {}),
        })
      : new http.Agent(agentOptions);
  return {
    protocol: scheme === 'https' ? 'https:' : 'http:',
    host: target.host,
    port: target.port,
    address: `${target.host}:${target.port}`,
    agent,
    plan,
    credentialHeaders: headers,
  };
}
