/**
 * The agent's own SSH login to the target, with the credential it holds: a private key or a
 * password per `options.credential` (by default: a key when the secret looks like one). The target's
 * host key is checked against `options.host_key` (`SHA256:...`) when the connection pins one.
 */
import ssh2 from 'ssh2';
import type { ConnectConfig } from 'ssh2';
import type { ConnectionTarget, SessionContext } from '../engine.js';
import { fingerprintMatches, sshFingerprint } from './host-key.js';
import { CIPHERS } from './algorithms.js';

export class UpstreamError extends Error {
  constructor(
    readonly code: 'target_unreachable' | 'killed',
    message: string,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

export interface UpstreamOptions {
  connectTimeoutMs: number;
  /** Set when the session may forward the client's agent: the target's agent requests go to it. */
  agent?: ssh2.BaseAgent;
}

export type Credential = { kind: 'password'; password: string } | { kind: 'key'; privateKey: string };

/** Which credential the secret is; throws with a readable reason (never the secret) when it cannot be used. */
export function credentialFor(target: ConnectionTarget, secret: string): Credential {
  const declared = target.options.credential?.toLowerCase();
  const looksLikeKey = /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(secret);
  if (declared === 'password' || (declared === undefined && !looksLikeKey)) return { kind: 'password', password: secret };
  if (declared !== 'key' && declared !== undefined) {
    throw new Error(`connection option credential=${declared} is not one airlock knows for ssh (password | key)`);
  }
  if (!looksLikeKey) throw new Error(`secret ${target.secretRef} is not a private key (credential=key)`);
  const parsed = ssh2.utils.parseKey(secret);
  if (parsed instanceof Error) throw new Error(`the private key in ${target.secretRef} cannot be used: ${parsed.message}`);
  return { kind: 'key', privateKey: secret };
}

export function connectUpstream(ctx: SessionContext, options: UpstreamOptions): Promise<ssh2.Client> {
  const { target } = ctx;
  const where = `target "${target.name}" at ${target.host}:${target.port}`;
  let credential: Credential;
  try {
    credential = credentialFor(target, ctx.resolveSecret(target.secretRef));
  } catch (err) {
    return Promise.reject(new UpstreamError('target_unreachable', `airlock: cannot log in to ${where}: ${(err as Error).message}`));
  }
  const pinned = target.options.host_key;
  let presented: string | undefined;
  const config: ConnectConfig = {
    host: target.host,
    port: target.port,
    username: target.user,
    readyTimeout: options.connectTimeoutMs,
    keepaliveInterval: 15_000,
    algorithms: { cipher: [...CIPHERS] },
    hostVerifier: (key: Buffer) => {
      presented = sshFingerprint(key);
      return pinned ? fingerprintMatches(pinned, key) : true;
    },
    // Only the agent's own credential: never keyboard-interactive prompts, never the forwarded agent.
    ...(credential.kind === 'password'
      ? { authHandler: ['password'], password: credential.password }
      : { authHandler: ['publickey'], privateKey: credential.privateKey }),
    // The agent only: each channel asks the target to forward it when its client asked (-A), not every one.
    ...(options.agent ? { agent: options.agent } : {}),
  };
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    const onAbort = () => {
      client.end();
      fail(new UpstreamError('killed', 'the session was ended'));
    };
    const fail = (err: Error) => {
      ctx.signal.removeEventListener('abort', onAbort);
      client.end();
      reject(err instanceof UpstreamError ? err : new UpstreamError('target_unreachable', describeFailure(err, where, target, pinned, presented)));
    };
    client.once('error', fail);
    client.once('ready', () => {
      ctx.signal.removeEventListener('abort', onAbort);
      client.off('error', fail);
      client.on('error', (err) => ctx.logger.warn('ssh target connection error', { error: err.message }));
      if (!pinned) ctx.logger.info('target host key not pinned; set connection option host_key to pin it', { hostKey: presented });
      resolve(client);
    });
    if (ctx.signal.aborted) return onAbort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    client.connect(config);
  });
}

function describeFailure(err: Error & { level?: string; code?: string }, where: string, target: ConnectionTarget, pinned: string | undefined, presented: string | undefined): string {
  if (pinned && presented && /host.*(verif|denied)/i.test(err.message)) {
    return `airlock: ${where} presented host key ${presented}, not the pinned ${pinned}: refusing to log in`;
  }
  if (err.level === 'client-authentication') {
    return `airlock: ${where} refused the agent's credential for user "${target.user}"`;
  }
  if (err.level === 'client-timeout' || /timed out/i.test(err.message)) return `airlock: cannot reach ${where}: timed out`;
  const reason = err.code === 'ECONNREFUSED' ? 'connection refused' : err.code === 'ENOTFOUND' ? 'unknown host' : err.message;
  return `airlock: cannot reach ${where}: ${reason}`;
}
