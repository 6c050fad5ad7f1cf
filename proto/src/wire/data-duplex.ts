import { Duplex } from 'node:stream';
import type { Readable, Writable } from 'node:stream';
import { FRAME_HEADER_BYTES, frameMessage, GrpcFrameDecoder } from './grpc-frame.js';
import { dataFrameHeader, encodeCloseFrame, MAX_DATA_FRAME_BYTES, readCloseFrame, readDataFrame } from './data-frame.js';
import type { CloseFrame } from './data-frame.js';

export interface DataDuplexOptions {
  /** Bytes already read from the source and not yet decoded (framed). */
  pending?: Buffer;
  /** Called for messages that are neither data nor close (e.g. TunnelOpened). */
  onControlMessage?: (payload: Buffer) => void;
  maxMessageBytes?: number;
}

/**
 * The data frames of one tunnel or session call as a plain byte Duplex, so a socket or a
 * protocol engine can be piped to it. Backpressure crosses both ways: a full HTTP/2 window
 * delays write callbacks, and an unread Duplex pauses the HTTP/2 stream.
 * Ending the writable side sends our StreamClose and half-closes the call.
 */
export class DataFrameDuplex extends Duplex {
  /** The close the peer sent; undefined until it arrives, or if the call died without one. */
  peerClose: CloseFrame | undefined;
  private readonly decoder: GrpcFrameDecoder;
  private closeSent = false;
  private readableEndPushed = false;

  constructor(
    private readonly source: Readable,
    private readonly sink: Writable,
    private readonly options: DataDuplexOptions = {},
  ) {
    super({ allowHalfOpen: true, readableHighWaterMark: 256 * 1024, writableHighWaterMark: 64 * 1024 });
    this.decoder = new GrpcFrameDecoder(options.maxMessageBytes);
    if (options.pending?.length) this.decoder.append(options.pending);
    source.on('data', (chunk: Buffer) => this.onSourceData(chunk));
    source.once('end', () => this.onSourceEnd());
    // A call torn down with its connection (the relay restarted) closes without 'end' or 'error'.
    source.once('close', () => this.onSourceEnd());
    source.once('error', (err) => this.destroy(err));
    sink.once('error', (err) => this.destroy(err));
    queueMicrotask(() => this.drainDecoder());
  }

  /** Sends a close carrying an error, then ends the call. Safe to call more than once. */
  closeWithError(code: number, message: string): void {
    this.sendClose({ code, message });
    this.endReadable();
  }

  private endReadable(): void {
    if (this.readableEndPushed) return;
    this.readableEndPushed = true;
    this.push(null);
  }

  override _read(): void {
    this.source.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // After the peer's close nothing we send is read; writing would only wait on a window that never reopens.
    if (this.peerClose || this.sink.writableEnded || this.sink.destroyed) return callback();
    let ok = true;
    this.sink.cork();
    for (let offset = 0; offset < chunk.length; offset += MAX_DATA_FRAME_BYTES) {
      const part = chunk.subarray(offset, offset + MAX_DATA_FRAME_BYTES);
      this.sink.write(dataFrameHeader(part.length));
      ok = this.sink.write(part);
    }
    this.sink.uncork();
    if (ok) callback();
    else this.sink.once('drain', () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.sendClose(undefined);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.closeSent && error) this.sendClose({ code: 6, message: error.message });
    callback(error);
  }

  private sendClose(error: { code: number; message: string } | undefined): void {
    if (this.closeSent) return;
    this.closeSent = true;
    if (this.sink.writableEnded || this.sink.destroyed) return;
    this.sink.end(frameMessage(encodeCloseFrame(error)));
  }

  private onSourceData(chunk: Buffer): void {
    this.decoder.append(chunk);
    this.drainDecoder();
  }

  private drainDecoder(): void {
    try {
      for (let payload = this.decoder.next(); payload; payload = this.decoder.next()) {
        const data = readDataFrame(payload);
        if (data) {
          if (this.readableEndPushed) continue;
          if (!this.push(data)) this.source.pause();
          continue;
        }
        const close = readCloseFrame(payload);
        if (close) {
          this.peerClose = close;
          this.endReadable();
          continue;
        }
        this.options.onControlMessage?.(payload);
      }
    } catch (err) {
      this.destroy(err as Error);
    }
  }

  private onSourceEnd(): void {
    if (this.peerClose) return;
    // The call ended without a close frame: the peer or the relay went away.
    this.peerClose = { error: { code: 6, message: 'the stream ended without a close' } };
    this.endReadable();
  }
}


