/**
 * One SSH connection through airlock: an ssh2 Server speaks to the person's client over the tunnel
 * (they are already authenticated by their airlock token, so any SSH login is accepted), and an ssh2
 * Client logs in to the target with the agent's own credential. Each client channel gets a matching
 * channel to the target (see SessionChannel); forwarding is served by forwarding.ts.
 */
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { Connection } from 'ssh2';
import type { SessionContext, SessionSummary, StatementRecord } from '../engine.js';
import { endedMessage, UNRESTRICTED_FEATURES } from '../engine.js';
import { CIPHERS } from './algorithms.js';
import { ForwardedAgent, relayRemoteForwards, serveForwarding } from './forwarding.js';
import type { SshHostKey } from './host-key.js';
import { SessionChannel } from './session-channel.js';
import { connectUpstream, UpstreamError } from './upstream.js';

export interface SshSessionOptions {
  hostKey: SshHostKey;
  connectTimeoutMs: number;
}

export class SshSession {
  private readonly summary: SessionSummary = { bytesFromClient: 0, bytesToClient: 0 };
  private upstream: Promise<ssh2.Client> | undefined;
  private upstreamClient: ssh2.Client | undefined;
  private conn: Connection | undefined;
  private readonly channels = new Set<SessionChannel>();
  private sequence = 0;
  private terminalClaimed = false;
  private readonly features;

  constructor(
    private readonly client: Duplex,
    private readonly ctx: SessionContext,
    private readonly options: SshSessionOptions,
  ) {
    this.features = ctx.gate?.features ?? UNRESTRICTED_FEATURES;
  }

  run(): Promise<SessionSummary> {
    return new Promise((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        this.ctx.signal.removeEventListener('abort', onAbort);
        // Everything the session opened on the target goes with it.
        for (const channel of this.channels) channel.dispose();
        this.upstreamClient?.end();
        void this.upstream?.then((c) => c.end(), () => undefined);
        // A client that vanished leaves the tunnel half open: end it. With an error, the runner ends it with the reason.
        if (!this.summary.error && !this.client.writableEnded) this.client.end();
        resolve(this.summary);
      };
      const onAbort = () => this.kill(finish);
      this.countBytes();
      this.client.on('error', () => undefined);
      this.client.once('close', finish);
      const server = new ssh2.Server({ hostKeys: [this.options.hostKey.privateKey], ident: 'airlock', algorithms: { cipher: [...CIPHERS] } }, (conn) => {
        this.conn = conn;
        this.serve(conn);
        conn.once('end', finish);
        conn.once('close', finish);
      });
      server.on('error', (err: Error) => this.ctx.logger.warn('ssh server error', { error: err.message }));
      if (this.ctx.signal.aborted) return onAbort();
      this.ctx.signal.addEventListener('abort', onAbort, { once: true });
      server.injectSocket(this.client as unknown as import('node:net').Socket);
    });
  }

  private serve(conn: Connection): void {
    conn.on('error', (err: Error & { level?: string }) => {
      // A client that goes away mid-transfer is a normal end; anything else is worth a line in the log.
      if (err.level !== 'socket') this.ctx.logger.warn('ssh client connection error', { error: err.message, level: err.level });
    });
    // The person is already authenticated by their airlock token: whatever login the client offers is accepted.
    conn.on('authentication', (auth) => auth.accept());
    conn.once('ready', () => this.startUpstream(conn));
    conn.on('session', (accept) => {
      const session = accept();
      const channel = new SessionChannel(session, {
        ctx: this.ctx,
        upstream: () => this.upstream ?? Promise.reject(new UpstreamError('target_unreachable', 'airlock: not logged in to the target yet')),
        agentForwardingAllowed: this.features.sshAgentForwarding,
        record: (entry) => this.record(entry),
        claimTerminal: () => (this.terminalClaimed ? undefined : ((this.terminalClaimed = true), this.ctx.terminal)),
      });
      this.channels.add(channel);
      session.once('close', () => this.channels.delete(channel));
    });
    serveForwarding({
      ctx: this.ctx,
      conn,
      upstream: () => this.upstream ?? Promise.reject(new Error('not connected')),
      allowed: this.features.sshPortForwarding,
      record: (entry) => this.record(entry),
    });
  }

  private startUpstream(conn: Connection): void {
    const agent = this.features.sshAgentForwarding ? new ForwardedAgent(conn) : undefined;
    this.upstream = connectUpstream(this.ctx, { connectTimeoutMs: this.options.connectTimeoutMs, ...(agent ? { agent } : {}) });
    this.upstream.then(
      (upstream) => {
        this.upstreamClient = upstream;
        if (this.features.sshPortForwarding) relayRemoteForwards(upstream, conn);
        // The target went away (or the session ended it): nothing more can be served.
        upstream.once('close', () => conn.end());
      },
      (err: UpstreamError) => {
        if (err.code === 'killed') return;
        this.summary.error = { code: 'target_unreachable', message: err.message };
        this.ctx.logger.warn('cannot log in to the ssh target', { error: err.message });
        // Channels already waiting tell the client why; give them a moment, then hang up.
        setTimeout(() => conn.end(), 1000).unref();
      },
    );
  }

  /** The control plane ended the session (kill, revoked grant, agent stopping): say so on every channel. */
  private kill(finish: () => void): void {
    const message = endedMessage(this.ctx.signal);
    this.summary.error = { code: 'killed', message };
    for (const channel of this.channels) channel.terminate(message);
    this.upstreamClient?.end();
    // A moment for the messages to reach the client before the connection goes.
    setTimeout(() => {
      this.conn?.end();
      finish();
    }, 100).unref();
  }

  private record(entry: Omit<StatementRecord, 'sequence' | 'protocol'>): void {
    this.ctx.recorder.record({ ...entry, sequence: ++this.sequence, protocol: 'ssh' });
  }

  private countBytes(): void {
    this.client.on('data', (chunk: Buffer) => (this.summary.bytesFromClient += chunk.length));
    const write = this.client.write.bind(this.client) as (chunk: Buffer, ...rest: unknown[]) => boolean;
    this.client.write = ((chunk: Buffer, ...rest: unknown[]) => {
      this.summary.bytesToClient += chunk.length;
      return write(chunk, ...rest);
    }) as Duplex['write'];
  }
}
