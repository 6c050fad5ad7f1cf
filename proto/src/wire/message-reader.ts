import type { Readable } from 'node:stream';
import { GrpcFrameDecoder } from './grpc-frame.js';

/**
 * Pulls whole gRPC messages out of an HTTP/2 stream. Reads on demand (paused mode), so a
 * caller that stops asking stops the stream, and the stream can later be piped raw.
 */
export class GrpcMessageReader {
  readonly decoder: GrpcFrameDecoder;
  private ended = false;
  private failure: Error | undefined;

  constructor(private readonly source: Readable, maxMessageBytes?: number) {
    this.decoder = new GrpcFrameDecoder(maxMessageBytes);
    source.once('end', () => (this.ended = true));
    source.once('close', () => (this.ended = true));
    source.once('error', (err) => (this.failure = err));
  }

  /** The next message, or undefined when the stream ended cleanly between messages. */
  async readOne(): Promise<Buffer | undefined> {
    for (;;) {
      const message = this.decoder.next();
      if (message) return message;
      const chunk = this.source.read() as Buffer | null;
      if (chunk) {
        this.decoder.append(chunk);
        continue;
      }
      if (this.failure) throw this.failure;
      if (this.ended || this.source.readableEnded || this.source.destroyed) {
        if (this.decoder.bufferedBytes > 0) throw new Error('stream ended in the middle of a gRPC message');
        return undefined;
      }
      await this.waitReadable();
    }
  }

  async *messages(): AsyncGenerator<Buffer> {
    for (;;) {
      const message = await this.readOne();
      if (message === undefined) return;
      yield message;
    }
  }

  private waitReadable(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.source.off('readable', done);
        this.source.off('end', done);
        this.source.off('close', done);
        this.source.off('error', done);
        resolve();
      };
      this.source.on('readable', done);
      this.source.on('end', done);
      this.source.on('close', done);
      this.source.on('error', done);
    });
  }
}
