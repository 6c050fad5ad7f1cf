import net from 'node:net';
import type { GrpcChannel } from '@airlock/proto';
import { openTunnel } from './tunnel.js';

export interface LocalListenerEvents {
  onSessionOpened?: (sessionId: string, peer: string) => void;
  /** One readable line per failed or abnormally ended local connection. */
  onSessionError: (message: string) => void;
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
