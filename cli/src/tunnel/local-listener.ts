import net from 'node:net';
import type { GrpcChannel } from '@airlock/proto';
import { GrpcCallError, GrpcStatus } from '@airlock/proto';
import { openTunnel, resumeTunnel, type OpenTunnel } from './tunnel.js';

/** How long a cut tunnel keeps trying to resume (a control-plane restart) before giving up. */
const RESUME_FOR_MS = 60_000;
/** Answers that mean the session cannot come back: stop trying. */
const FINAL = new Set<number>([GrpcStatus.NOT_FOUND, GrpcStatus.FAILED_PRECONDITION, GrpcStatus.PERMISSION_DENIED, GrpcStatus.UNAUTHENTICATED]);

export interface LocalListenerEvents {
  onSessionOpened?: (sessionId: string, peer: string) => void;
  /** One readable line per failed or abnormally ended local connection. */
  onSessionError: (message: string) => void;
  /** One readable line when a cut tunnel was resumed. */
  onSessionResumed?: (sessionId: string) => void;
}

/**
 * Accepts local TCP connections and gives each its own tunnel stream. It moves bytes only:
 * every protocol (psql, ssh, a driver) works because nothing here looks inside them.
 */
export class LocalListener {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly channel: GrpcChannel, private readonly connection: string, private readonly events: LocalListenerEvents) {
    this.server = net.createServer((socket) => void this.serve(socket));
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  get activeConnections(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.end();
    });
  }

  /** Keeps the local connection open while the tunnel is re-attached; the client sees nothing but a pause. */
  private async resume(tunnel: OpenTunnel): Promise<void> {
    const deadline = Date.now() + RESUME_FOR_MS;
    let delay = 200;
    while (!tunnel.stream.destroyed && !tunnel.stream.attached) {
      try {
        await resumeTunnel(this.channel, this.connection, tunnel);
        this.events.onSessionResumed?.(tunnel.sessionId);
        return;
      } catch (error) {
        const final = error instanceof GrpcCallError && FINAL.has(error.code);
        if (final || Date.now() > deadline) {
          this.events.onSessionError(`session ${tunnel.sessionId} could not be resumed: ${(error as Error).message}`);
          tunnel.stream.destroy(new Error('the session could not be resumed'));
          return;
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 2000);
      }
    }
  }

  private async serve(socket: net.Socket): Promise<void> {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.setNoDelay(true);
    socket.pause();
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.on('error', () => undefined);
    let tunnel;
    try {
      tunnel = await openTunnel(this.channel, this.connection, peer);
    } catch (error) {
      this.events.onSessionError(`connection from ${peer} refused: ${(error as Error).message}`);
      socket.destroy();
      return;
    }
    this.events.onSessionOpened?.(tunnel.sessionId, peer);
    const { stream } = tunnel;
    stream.on('detached', () => void this.resume(tunnel));
    stream.on('error', (error) => {
      this.events.onSessionError(`session ${tunnel.sessionId} failed: ${error.message}`);
      socket.destroy();
    });
    socket.once('error', (error) => stream.destroy(error));
    // A socket can close without 'end' (reset): the session must still be closed on the far side.
    socket.once('close', () => {
      if (!stream.writableEnded && !stream.destroyed) stream.end();
      stream.resume(); // discard what is still in flight, so the stream's window never stalls the session
    });
    stream.once('end', () => {
      const failure = stream.peerClose?.error;
      if (failure) this.events.onSessionError(`session ${tunnel.sessionId} ended: ${failure.message}`);
    });
    socket.pipe(stream);
    stream.pipe(socket);
    socket.resume();
  }
}
