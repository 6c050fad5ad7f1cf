/**
 * Shared low-level pieces of the Postgres wire codec: the violation error, a bounds-checked
 * body reader and a growable writer. Pure: no I/O.
 */

/** Bytes that do not form a valid protocol message. The session ends with SQLSTATE 08P01. */
export class ProtocolViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolViolation';
  }
}

/** Reads fields from one message body; every read is bounds-checked and throws ProtocolViolation. */
export class BodyReader {
  private pos: number;

  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** A NUL-terminated UTF-8 string. */
  cstring(): string {
    const nul = this.buf.indexOf(0, this.pos);
    if (nul < 0 || nul >= this.end) throw new ProtocolViolation(`${this.what}: string is not NUL-terminated`);
    const s = this.buf.toString('utf8', this.pos, nul);
    this.pos = nul + 1;
    return s;
  }

  bytes(n: number): Buffer {
    if (n < 0) throw new ProtocolViolation(`${this.what}: negative length ${n}`);
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  rest(): Buffer {
    return this.bytes(this.remaining);
  }

  /** Trailing bytes mean the peer and we disagree about the layout: reject rather than guess. */
  done(): void {
    if (this.pos !== this.end) {
      throw new ProtocolViolation(`${this.what}: ${this.end - this.pos} unexpected trailing byte(s)`);
    }
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new ProtocolViolation(`${this.what}: message is truncated`);
  }
}

/** Builds one message; `finish()` fills in the length. */
export class MessageWriter {
  private buf = Buffer.allocUnsafe(256);
  private len = 0;
  private readonly lengthAt: number;

  /** tag undefined = untagged (startup-phase) message. */
  constructor(tag?: string) {
    if (tag !== undefined) this.byte(tag.charCodeAt(0));
    this.lengthAt = this.len;
    this.int32(0);
  }

  byte(v: number): this {
    this.ensure(1);
    this.buf[this.len++] = v;
    return this;
  }

  int16(v: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.len);
    this.len += 2;
    return this;
  }

  int32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v | 0, this.len);
    this.len += 4;
    return this;
  }

  cstring(s: string): this {
    const n = Buffer.byteLength(s);
    this.ensure(n + 1);
    this.buf.write(s, this.len, 'utf8');
    this.len += n;
    this.buf[this.len++] = 0;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  finish(): Buffer {
    this.buf.writeInt32BE(this.len - this.lengthAt, this.lengthAt);
    return this.buf.subarray(0, this.len);
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
}

/**
 * Accumulates the chunks of one partial frame without re-copying on every push (a 10 MB Query that
 * arrives in 64 KiB chunks is joined once, not 160 times).
 */
export class PartialFrame {
  private chunks: Buffer[] = [];
  private size = 0;

  get length(): number {
    return this.size;
  }

  add(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** The first n bytes (n ≤ 8), for reading a header that may straddle chunks. */
  peek(n: number): Buffer {
    if (this.chunks.length === 1 || this.chunks[0]!.length >= n) return this.chunks[0]!.subarray(0, n);
    return Buffer.concat(this.chunks, Math.min(n, this.size)).subarray(0, n);
  }

  /** Everything accumulated, as one buffer; resets. */
  take(): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
    this.chunks = [];
    this.size = 0;
    return all;
  }
}

/** Joins frames that sit back to back in the same chunk, so a batch is forwarded with few writes and no copies. */
export function coalesce(raws: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (const raw of raws) {
    const last = out[out.length - 1];
    if (last && last.buffer === raw.buffer && last.byteOffset + last.length === raw.byteOffset) {
      out[out.length - 1] = Buffer.from(last.buffer, last.byteOffset, last.length + raw.length);
    } else {
      out.push(raw);
    }
  }
  return out;
}
