/**
 * The tunnel stream as node's http.Server wants a socket. Two things a plain Duplex lacks:
 *  - the socket methods the server and its upgrade path call (setTimeout, setNoDelay, ...);
 *  - noticing the client's end while the server writes a large response: node stops reading a socket
 *    whose writes back up, and a tunnel (unlike TCP) never fails a write once the client is gone, so
 *    the end would wait behind the paused read forever. This socket keeps reading the tunnel, buffers
 *    up to a bound for the server, and when the tunnel ends while the server is not reading, ends the
 *    connection at once (node's own rule for a client's FIN: httpAllowHalfOpen is off).
 * It also counts the bytes each way for the session summary.
 */
import { Duplex } from 'node:stream';

/** Bytes read ahead of a paused server before the tunnel is paused too (then its end waits for the server). */
const READ_AHEAD_BYTES = 1024 * 1024;

export class TunnelSocket extends Duplex {
  bytesFromClient = 0;
  bytesToClient = 0;
  private tunnelPaused = false;
  /** The client ended its side (for HTTP: it is gone, see above). */
  private peerEnded = false;

  constructor(private readonly tunnel: Duplex) {
    super({ allowHalfOpen: true });
    tunnel.on('data', (chunk: Buffer) => {
      this.bytesFromClient += chunk.length;
      this.push(chunk);
      if (this.readableLength > READ_AHEAD_BYTES) {
        this.tunnelPaused = true;
        tunnel.pause();
      }
    });
    tunnel.once('end', () => {
      this.peerEnded = true;
      this.push(null);
      // With a response under way (writes pending) node may stop reading at any moment and never see
      // this end; with nobody reading (a held upgrade) it would not be seen either.
      if (this.readableFlowing !== true || this.writableLength > 0 || this.writableNeedDrain) this.destroy();
    });
    tunnel.once('close', () => this.destroy());
    tunnel.on('error', () => this.destroy());
  }

  // What node's http server calls on sockets; a tunnel has no timers or Nagle to set.
  setTimeout(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }

  override _read(): void {
    if (this.tunnelPaused) {
      this.tunnelPaused = false;
      this.tunnel.resume();
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.bytesToClient += chunk.length;
    this.tunnel.write(chunk, (err) => callback(err ?? null));
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.tunnel.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (error) this.tunnel.destroy(error);
    else if (this.tunnel.writableEnded) this.tunnel.destroy();
    // The client is gone: what is queued for it need not arrive (and may never be acknowledged).
    else if (this.peerEnded) this.tunnel.destroy(new Error('the client closed the connection'));
    // Otherwise end in order: what is queued is still sent, then the close.
    else this.tunnel.end();
    callback(error);
  }
}
