/**
 * gRPC length-prefixed message framing (1 byte compressed flag + 4 byte big-endian length).
 * Pure and incremental: frames may arrive split across any number of chunks.
 */
export const FRAME_HEADER_BYTES = 5;
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export class FrameTooLargeError extends Error {
  constructor(readonly size: number, readonly limit: number) {
    super(`gRPC message of ${size} bytes exceeds the limit of ${limit} bytes`);
    this.name = 'FrameTooLargeError';
  }
}

export class CompressedFrameError extends Error {
  constructor() {
    super('compressed gRPC messages are not supported');
    this.name = 'CompressedFrameError';
  }
}

export function frameHeader(payloadLength: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header[0] = 0;
  header.writeUInt32BE(payloadLength, 1);
  return header;
}

export function frameMessage(payload: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  framed[0] = 0;
  framed.writeUInt32BE(payload.length, 1);
  framed.set(payload, FRAME_HEADER_BYTES);
  return framed;
}

export class GrpcFrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES) {}

  get bufferedBytes(): number {
    return this.buffered;
  }

  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** Returns the next complete message payload, or undefined until more bytes arrive. */
  next(): Buffer | undefined {
    if (this.buffered < FRAME_HEADER_BYTES) return undefined;
    const header = this.peek(FRAME_HEADER_BYTES);
    if (header[0] !== 0) throw new CompressedFrameError();
    const length = header.readUInt32BE(1);
    if (length > this.maxMessageBytes) throw new FrameTooLargeError(length, this.maxMessageBytes);
    const total = FRAME_HEADER_BYTES + length;
    if (this.buffered < total) return undefined;
    return this.take(total).subarray(FRAME_HEADER_BYTES);
  }

  /** Hands back every byte not yet returned as a message, still framed, and empties the decoder. */
  takeRemainder(): Buffer {
    const rest = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    this.chunks = [];
    this.buffered = 0;
    return rest;
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) return first;
    return Buffer.concat(this.chunks, this.buffered).subarray(0, n);
  }

  /** Removes n bytes from the front, copying only when they span chunks. */
  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    this.buffered -= n;
    if (first.length === n) {
      this.chunks.shift();
      return first;
    }
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0]!;
      const want = n - filled;
      if (chunk.length <= want) {
        chunk.copy(out, filled);
        filled += chunk.length;
        this.chunks.shift();
      } else {
        chunk.copy(out, filled, 0, want);
        this.chunks[0] = chunk.subarray(want);
        filled += want;
      }
    }
    return out;
  }
}
