/**
 * Incremental parser for the client → server side of the Postgres wire protocol (v3.0).
 * Pure: bytes in, typed messages out, no I/O. The agent faces untrusted bytes, so every frame's
 * declared length is checked against a maximum before anything is buffered.
 */
import { BodyReader, PartialFrame, ProtocolViolation } from './wire.js';

export const SSL_REQUEST_CODE = 80877103;
export const GSSENC_REQUEST_CODE = 80877104;
export const CANCEL_REQUEST_CODE = 80877102;
export const PROTOCOL_3_0 = 196608;

export type FrontendMessage =
  | { type: 'SSLRequest' }
  | { type: 'GSSENCRequest' }
  | { type: 'CancelRequest'; processId: number; secretKey: number }
  | { type: 'StartupMessage'; protocolVersion: number; params: Record<string, string> }
  | { type: 'Query'; sql: string }
  | { type: 'Parse'; name: string; sql: string; paramTypes: number[] }
  | { type: 'Bind'; portal: string; statement: string; paramCount: number }
  | { type: 'Execute'; portal: string; maxRows: number }
  | { type: 'Describe'; kind: 'S' | 'P'; name: string }
  | { type: 'Close'; kind: 'S' | 'P'; name: string }
  | { type: 'Sync' }
  | { type: 'Flush' }
  | { type: 'CopyData'; data: Buffer }
  | { type: 'CopyDone' }
  | { type: 'CopyFail'; message: string }
  | { type: 'Terminate' }
  | { type: 'PasswordMessage'; data: Buffer };

/** One decoded message and its exact bytes (a subarray, so it can be forwarded without re-encoding). */
export interface FrontendFrame {
  message: FrontendMessage;
  raw: Buffer;
}

export interface FrontendPushResult {
  frames: FrontendFrame[];
  /** Set when the bytes are not valid protocol; frames before the bad one are still returned. */
  violation?: ProtocolViolation;
}

export interface FrontendParserOptions {
  /** Largest tagged message accepted, including its header. */
  maxMessageBytes?: number;
  /** Largest startup-phase message accepted. */
  maxStartupBytes?: number;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_STARTUP_BYTES = 10 * 1024;

type Phase = 'startup' | 'tagged' | 'cancelled';

export class FrontendParser {
  private phase: Phase = 'startup';
  private readonly partial = new PartialFrame();
  private partialNeeded = 0;
  private failure?: ProtocolViolation;
  private readonly maxMessage: number;
  private readonly maxStartup: number;

  constructor(options: FrontendParserOptions = {}) {
    this.maxMessage = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.maxStartup = options.maxStartupBytes ?? DEFAULT_MAX_STARTUP_BYTES;
  }

  /** True once the StartupMessage has been read. */
  get started(): boolean {
    return this.phase === 'tagged';
  }

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.partial.length;
  }

  push(chunk: Buffer): FrontendPushResult {
    const frames: FrontendFrame[] = [];
    if (this.failure) return { frames, violation: this.failure };
    try {
      const buf = this.completeBuffer(chunk);
      if (buf) this.parseFrames(buf, frames);
      return { frames };
    } catch (err) {
      if (!(err instanceof ProtocolViolation)) throw err;
      this.failure = err;
      return { frames, violation: err };
    }
  }

  /** The client closed: a half-received frame is an error, not something to drop silently. */
  end(): ProtocolViolation | undefined {
    if (this.failure || this.partial.length === 0) return this.failure;
    return new ProtocolViolation(`connection closed in the middle of a message (${this.partial.length} byte(s) received)`);
  }

  /** Returns the bytes to parse now, or undefined while a partial frame is still incomplete. */
  private completeBuffer(chunk: Buffer): Buffer | undefined {
    if (this.partial.length === 0) return chunk;
    this.partial.add(chunk);
    const header = this.headerSize();
    if (this.partialNeeded === 0 && this.partial.length >= header) {
      this.partialNeeded = this.frameLength(this.partial.peek(header), 0);
    }
    if (this.partialNeeded === 0 || this.partial.length < this.partialNeeded) return undefined;
    this.partialNeeded = 0;
    return this.partial.take();
  }

  private parseFrames(buf: Buffer, out: FrontendFrame[]): void {
    let pos = 0;
    for (;;) {
      const avail = buf.length - pos;
      if (avail === 0) return;
      if (this.phase === 'cancelled') throw new ProtocolViolation('unexpected bytes after CancelRequest');
      if (avail < this.headerSize()) break;
      const total = this.frameLength(buf, pos);
      if (avail < total) {
        this.partialNeeded = total;
        break;
      }
      const raw = buf.subarray(pos, pos + total);
      out.push({ message: this.decode(raw), raw });
      pos += total;
    }
    this.partial.add(buf.subarray(pos));
  }

  private headerSize(): number {
    return this.phase === 'startup' ? 4 : 5;
  }

  /** Validates the declared length of the frame at pos (before buffering it) and returns its full size. */
  private frameLength(buf: Buffer, pos: number): number {
    if (this.phase === 'startup') {
      const len = buf.readInt32BE(pos);
      if (len < 8) throw new ProtocolViolation(`invalid startup packet length ${len}`);
      if (len > this.maxStartup) {
        throw new ProtocolViolation(`startup packet of ${len} bytes exceeds the limit of ${this.maxStartup} bytes`);
      }
      return len;
    }
    const tag = buf[pos]!;
    if (!TAGGED_DECODERS.has(tag)) throw new ProtocolViolation(`unknown message type ${describeTag(tag)}`);
    const len = buf.readInt32BE(pos + 1);
    if (len < 4) throw new ProtocolViolation(`invalid length ${len} for message type ${describeTag(tag)}`);
    if (len + 1 > this.maxMessage) {
      throw new ProtocolViolation(
        `message type ${describeTag(tag)} of ${len + 1} bytes exceeds the limit of ${this.maxMessage} bytes`,
      );
    }
    return len + 1;
  }

  private decode(raw: Buffer): FrontendMessage {
    if (this.phase === 'startup') {
      const msg = decodeStartupPhase(raw);
      if (msg.type === 'StartupMessage') this.phase = 'tagged';
      if (msg.type === 'CancelRequest') this.phase = 'cancelled';
      return msg;
    }
    const tag = raw[0]!;
    const decoder = TAGGED_DECODERS.get(tag)!;
    return decoder(new BodyReader(raw, TAG_NAMES.get(tag)!, 5));
  }
}

function decodeStartupPhase(raw: Buffer): FrontendMessage {
  const code = raw.readInt32BE(4);
  if (code === SSL_REQUEST_CODE || code === GSSENC_REQUEST_CODE) {
    if (raw.length !== 8) throw new ProtocolViolation('invalid length for SSLRequest/GSSENCRequest');
    return { type: code === SSL_REQUEST_CODE ? 'SSLRequest' : 'GSSENCRequest' };
  }
  if (code === CANCEL_REQUEST_CODE) {
    if (raw.length !== 16) throw new ProtocolViolation('invalid length for CancelRequest');
    return { type: 'CancelRequest', processId: raw.readInt32BE(8), secretKey: raw.readInt32BE(12) };
  }
  if (code !== PROTOCOL_3_0) {
    throw new ProtocolViolation(`unsupported frontend protocol ${code >>> 16}.${code & 0xffff}: only 3.0 is supported`);
  }
  return { type: 'StartupMessage', protocolVersion: code, params: decodeStartupParams(raw) };
}

function decodeStartupParams(raw: Buffer): Record<string, string> {
  const r = new BodyReader(raw, 'StartupMessage', 8);
  const params: Record<string, string> = Object.create(null);
  for (;;) {
    const name = r.cstring();
    if (name === '') break;
    params[name] = r.cstring();
  }
  r.done();
  return params;
}

type Decoder = (r: BodyReader) => FrontendMessage;

function finish<T>(r: BodyReader, msg: T): T {
  r.done();
  return msg;
}

function decodeParse(r: BodyReader): FrontendMessage {
  const name = r.cstring();
  const sql = r.cstring();
  const count = r.int16();
  if (count < 0) throw new ProtocolViolation('Parse: negative parameter type count');
  const paramTypes: number[] = [];
  for (let i = 0; i < count; i++) paramTypes.push(r.int32() >>> 0);
  return finish(r, { type: 'Parse', name, sql, paramTypes });
}

/** Walks the whole Bind layout (so a malformed one is caught here) but keeps only what the session needs. */
function decodeBind(r: BodyReader): FrontendMessage {
  const portal = r.cstring();
  const statement = r.cstring();
  skipInt16List(r, 'parameter format');
  const paramCount = r.int16();
  if (paramCount < 0) throw new ProtocolViolation('Bind: negative parameter count');
  for (let i = 0; i < paramCount; i++) {
    const len = r.int32();
    if (len < -1) throw new ProtocolViolation(`Bind: invalid parameter length ${len}`);
    if (len > 0) r.bytes(len);
  }
  skipInt16List(r, 'result format');
  return finish(r, { type: 'Bind', portal, statement, paramCount });
}

function skipInt16List(r: BodyReader, what: string): void {
  const n = r.int16();
  if (n < 0) throw new ProtocolViolation(`Bind: negative ${what} count`);
  r.bytes(n * 2);
}

function decodeTarget(type: 'Describe' | 'Close'): Decoder {
  return (r) => {
    const kind = String.fromCharCode(r.byte());
    if (kind !== 'S' && kind !== 'P') throw new ProtocolViolation(`${type}: invalid target kind '${kind}'`);
    return finish(r, { type, kind, name: r.cstring() });
  };
}

function empty(type: 'Sync' | 'Flush' | 'CopyDone' | 'Terminate'): Decoder {
  return (r) => finish(r, { type });
}

const DECODERS: [string, string, Decoder][] = [
  ['Q', 'Query', (r) => finish(r, { type: 'Query', sql: r.cstring() })],
  ['P', 'Parse', decodeParse],
  ['B', 'Bind', decodeBind],
  ['E', 'Execute', (r) => finish(r, { type: 'Execute', portal: r.cstring(), maxRows: r.int32() })],
  ['D', 'Describe', decodeTarget('Describe')],
  ['C', 'Close', decodeTarget('Close')],
  ['S', 'Sync', empty('Sync')],
  ['H', 'Flush', empty('Flush')],
  ['d', 'CopyData', (r) => ({ type: 'CopyData', data: r.rest() })],
  ['c', 'CopyDone', empty('CopyDone')],
  ['f', 'CopyFail', (r) => finish(r, { type: 'CopyFail', message: r.cstring() })],
  ['X', 'Terminate', empty('Terminate')],
  ['p', 'PasswordMessage', (r) => ({ type: 'PasswordMessage', data: r.rest() })],
];

const TAGGED_DECODERS = new Map<number, Decoder>(DECODERS.map(([t, , d]) => [t.charCodeAt(0), d]));
const TAG_NAMES = new Map<number, string>(DECODERS.map(([t, n]) => [t.charCodeAt(0), n]));

function describeTag(tag: number): string {
  const printable = tag >= 0x20 && tag < 0x7f ? `'${String.fromCharCode(tag)}' ` : '';
  return `${printable}(0x${tag.toString(16).padStart(2, '0')})`;
}
