/**
 * Port forwarding (local -L, remote -R, and their Unix-socket forms) and agent forwarding (-A):
 * refused unless a policy of the session turns them on; when on, carried out by the agent's own
 * connection to the target, so the target sees them as its user's. Every attempt is recorded.
 */
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { Connection } from 'ssh2';
import type { SessionContext, StatementRecord } from '../engine.js';

export interface ForwardingDeps {
  ctx: SessionContext;
  conn: Connection;
  upstream(): Promise<ssh2.Client>;
  allowed: boolean;
  record(entry: Omit<StatementRecord, 'sequence' | 'protocol'>): void;
}

/** Answers the client's forwarding requests on `conn`. */
export function serveForwarding(deps: ForwardingDeps): void {
  const { conn } = deps;
  const note = (text: string, allowed: boolean) =>
    deps.record({
      text, startedAt: new Date(), durationUs: 0, commandTag: 'forward', errorSqlstate: '',
      errorMessage: allowed ? '' : 'airlock: port forwarding is off for this session (policy ssh.portForwarding)',
      ...(deps.ctx.gate ? { verdict: allowed ? 'allowed' : 'denied' } : {}),
    });

  conn.on('tcpip', (accept, reject, info) => {
    const text = `forward to ${info.destIP}:${info.destPort}`;
    note(text, deps.allowed);
    if (!deps.allowed) return reject();
    void deps.upstream().then(
      (upstream) => upstream.forwardOut(info.srcIP, info.srcPort, info.destIP, info.destPort, (err, up) => (err ? reject() : splice(accept(), up))),
      () => reject(),
    );
  });

  conn.on('openssh.streamlocal', (accept, reject, info) => {
    note(`forward to unix socket ${info.socketPath}`, deps.allowed);
    if (!deps.allowed) return reject();
    void deps.upstream().then(
      (upstream) => upstream.openssh_forwardOutStreamLocal(info.socketPath, (err, up) => (err ? reject() : splice(accept(), up))),
      () => reject(),
    );
  });

  conn.on('request', (accept, reject, name, info) => {
    const remote = remoteForward(name, info as unknown as Record<string, unknown>);
    if (!remote) return reject?.();
    if (remote.listen) note(remote.text, deps.allowed);
    if (!deps.allowed) return reject?.();
    void deps.upstream().then((upstream) => remote.apply(upstream, accept, reject), () => reject?.());
  });
}

type Accept = ((port?: number) => void) | undefined;
type Reject = (() => void) | undefined;

interface RemoteForward {
  text: string;
  /** A new listener (not a cancellation). */
  listen: boolean;
  apply(upstream: ssh2.Client, accept: Accept, reject: Reject): void;
}

function remoteForward(name: string, info: Record<string, unknown>): RemoteForward | undefined {
  const bindAddr = String(info.bindAddr ?? '');
  const bindPort = Number(info.bindPort ?? 0);
  const socketPath = String(info.socketPath ?? '');
  const done = (accept: Accept, reject: Reject) => (err: Error | null | undefined, port?: number) => (err ? reject?.() : accept?.(port));
  switch (name) {
    case 'tcpip-forward':
      return { text: `listen on the target at ${bindAddr}:${bindPort}`, listen: true, apply: (up, a, r) => up.forwardIn(bindAddr, bindPort, done(a, r)) };
    case 'cancel-tcpip-forward':
      return { text: '', listen: false, apply: (up, a, r) => up.unforwardIn(bindAddr, bindPort, done(a, r)) };
    case 'streamlocal-forward@openssh.com':
      return { text: `listen on the target at unix socket ${socketPath}`, listen: true, apply: (up, a, r) => up.openssh_forwardInStreamLocal(socketPath, done(a, r)) };
    case 'cancel-streamlocal-forward@openssh.com':
      return { text: '', listen: false, apply: (up, a, r) => up.openssh_unforwardInStreamLocal(socketPath, done(a, r)) };
    default:
      return undefined;
  }
}

/** Connections the target accepts on a remote forward are opened back to the client. */
export function relayRemoteForwards(upstream: ssh2.Client, conn: Connection): void {
  upstream.on('tcp connection', (details, accept, reject) => {
    conn.forwardOut(details.destIP, details.destPort, details.srcIP, details.srcPort, (err, down) => (err ? reject() : splice(down, accept())));
  });
  upstream.on('unix connection', (details, accept, reject) => {
    conn.openssh_forwardOutStreamLocal(details.socketPath, (err, down) => (err ? reject() : splice(down, accept())));
  });
}

function splice(a: Duplex, b: Duplex): void {
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
  a.pipe(b);
  b.pipe(a);
}

const MAX_WINDOW = 2 * 1024 * 1024;
const PACKET_SIZE = 32 * 1024;

/**
 * The person's own ssh-agent, reached through their client (-A), offered to the target. ssh2's server
 * has no public call to open an `auth-agent@openssh.com` channel to the client, so this uses its
 * channel manager the way its own openChannel does for forwarded-tcpip.
 */
export class ForwardedAgent extends ssh2.BaseAgent {
  constructor(private readonly conn: Connection) {
    super();
  }

  override getIdentities(cb: (err: Error | undefined, keys?: ssh2.ParsedKey[]) => void): void {
    cb(new Error('the forwarded agent is offered to the target only, never used to log in'));
  }

  override sign(_pubKey: unknown, _data: Buffer, _options: unknown, cb?: unknown): void {
    const callback = (typeof _options === 'function' ? _options : cb) as (err: Error) => void;
    callback(new Error('the forwarded agent is offered to the target only, never used to log in'));
  }

  getStream(cb: (err: Error | undefined, stream?: Duplex) => void): void {
    const internals = this.conn as unknown as {
      _chanMgr: { add(handler: unknown): number };
      _protocol: { openssh_authAgent(chan: number, window: number, packet: number): void };
    };
    const handler = Object.assign((err: Error | undefined, stream: Duplex) => cb(err, stream), { type: 'auth-agent@openssh.com' });
    const local = internals._chanMgr.add(handler);
    if (local === -1) return cb(new Error('no free channel to the client'));
    internals._protocol.openssh_authAgent(local, MAX_WINDOW, PACKET_SIZE);
  }
}
