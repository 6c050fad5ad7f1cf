/**
 * Incremental scanner for the server → client side. The session forwards server bytes raw; this only
 * finds message boundaries and decodes the few messages the agent acts on. Bodies it does not need
 * (DataRow, CopyData, ...) are skipped by counting bytes, never buffered, so a 100 MB result costs
 * no memory here. Pure: no I/O.
 */
import { BodyReader, PartialFrame, ProtocolViolation } from './wire.js';

export interface PgErrorFields {
  severity: string;
  code: string;
  message: string;
  detail: string;
  hint: string;
}

export interface RowColumn {
  name: string;
  typeOid: number;
  /** The table the column reads (0 for an expression) and its attribute number there. */
  tableOid: number;
  attnum: number;
  /** 0 text, 1 binary. */
  format: number;
}

export type BackendMessage =
  | { type: 'Authentication'; code: number; data: Buffer }
  | { type: 'ParameterStatus'; name: string; value: string }
  | { type: 'BackendKeyData'; processId: number; secretKey: number }
  | { type: 'ReadyForQuery'; status: string }
  | { type: 'CommandComplete'; tag: string; rows?: number }
  | { type: 'ErrorResponse'; fields: PgErrorFields }
  | { type: 'NoticeResponse'; fields: PgErrorFields }
  | { type: 'EmptyQueryResponse' }
  | { type: 'PortalSuspended' }
  | { type: 'CopyInResponse' | 'CopyOutResponse' | 'CopyBothResponse'; format: number; columnCount: number }
  | { type: 'RowDescription'; columns: RowColumn[] }
  | { type: 'DataRow'; values: (Buffer | null)[] };

/** Authentication request codes (the int32 after 'R'). */
export const AUTH = { ok: 0, cleartext: 3, md5: 5, sasl: 10, saslContinue: 11, saslFinal: 12 } as const;

export interface BackendScannerOptions {
  /** Decode RowDescription and DataRow (exec needs them; the relay does not). */
  decodeRows?: boolean;
  /** Largest message that is buffered for decoding. Skipped messages are never buffered, so any size passes. */
  maxMessageBytes?: number;
}

const HEADER = 5;

export class BackendScanner {
  private readonly partial = new PartialFrame();
  private pendingTotal = 0;
  private skipRemaining = 0;
  private readonly decodeRows: boolean;
  private readonly maxMessage: number;

  constructor(options: BackendScannerOptions = {}) {
    this.decodeRows = options.decodeRows ?? false;
    this.maxMessage = options.maxMessageBytes ?? 64 * 1024 * 1024;
  }

  /** True when a message has started but not finished: the stream must not end here. */
  get midMessage(): boolean {
    return this.skipRemaining > 0 || this.partial.length > 0;
  }

  /** Returns the decoded messages completed by this chunk; throws ProtocolViolation on malformed bytes. */
  push(chunk: Buffer): BackendMessage[] {
    const out: BackendMessage[] = [];
    let pos = this.skip(chunk, 0);
    if (this.partial.length > 0) pos = this.continuePartial(chunk, pos, out);
    while (pos < chunk.length && this.partial.length === 0 && this.skipRemaining === 0) {
      pos = this.scanOne(chunk, pos, out);
    }
    return out;
  }

  private skip(chunk: Buffer, pos: number): number {
    const n = Math.min(this.skipRemaining, chunk.length - pos);
    this.skipRemaining -= n;
    return pos + n;
  }

  /** Scans the message at pos: decodes it, skips it, or keeps its beginning for the next push. */
  private scanOne(chunk: Buffer, pos: number, out: BackendMessage[]): number {
    const avail = chunk.length - pos;
    if (avail < HEADER) {
      this.partial.add(chunk.subarray(pos));
      return chunk.length;
    }
    const total = this.frameLength(chunk, pos);
    if (!this.wanted(chunk[pos]!)) {
      if (avail >= total) return pos + total;
      this.skipRemaining = total - avail;
      return chunk.length;
    }
    if (avail >= total) {
      out.push(decodeBackend(chunk.subarray(pos, pos + total)));
      return pos + total;
    }
    this.pendingTotal = total;
    this.partial.add(chunk.subarray(pos));
    return chunk.length;
  }

  private continuePartial(chunk: Buffer, pos: number, out: BackendMessage[]): number {
    if (this.pendingTotal === 0) {
      const take = Math.min(HEADER - this.partial.length, chunk.length - pos);
      this.partial.add(chunk.subarray(pos, pos + take));
      pos += take;
      if (this.partial.length < HEADER) return pos;
      const header = this.partial.take();
      const total = this.frameLength(header, 0);
      if (!this.wanted(header[0]!)) {
        this.skipRemaining = total - HEADER;
        return this.skip(chunk, pos);
      }
      this.partial.add(header);
      this.pendingTotal = total;
    }
    const take = Math.min(this.pendingTotal - this.partial.length, chunk.length - pos);
    this.partial.add(chunk.subarray(pos, pos + take));
    pos += take;
    if (this.partial.length === this.pendingTotal) {
      this.pendingTotal = 0;
      out.push(decodeBackend(this.partial.take()));
    }
    return pos;
  }

  private wanted(tag: number): boolean {
    if (tag === 0x44 /* D */ || tag === 0x54 /* T */) return this.decodeRows;
    return DECODERS.has(tag);
  }

  private frameLength(buf: Buffer, pos: number): number {
    const tag = buf[pos]!;
    const len = buf.readInt32BE(pos + 1);
    if (len < 4) throw new ProtocolViolation(`server sent message '${String.fromCharCode(tag)}' with invalid length ${len}`);
    if (this.wanted(tag) && len + 1 > this.maxMessage) {
      throw new ProtocolViolation(
        `server message '${String.fromCharCode(tag)}' of ${len + 1} bytes exceeds the limit of ${this.maxMessage} bytes`,
      );
    }
    return len + 1;
  }
}

export function decodeRowDescriptionMessage(raw: Buffer): RowColumn[] {
  const msg = decodeBackend(raw);
  if (msg.type !== 'RowDescription') throw new ProtocolViolation(`expected RowDescription, got ${msg.type}`);
  return msg.columns;
}

/** Decodes one complete backend message (tag + length + body). */
export function decodeBackend(raw: Buffer): BackendMessage {
  const tag = raw[0]!;
  const decoder = DECODERS.get(tag);
  if (!decoder) throw new ProtocolViolation(`unexpected server message '${String.fromCharCode(tag)}'`);
  return decoder(new BodyReader(raw, `server message '${String.fromCharCode(tag)}'`, HEADER));
}

/** `INSERT 0 5` → 5, `SELECT 3` → 3, `COPY 10` → 10; undefined for tags without a count. */
export function rowsFromCommandTag(tag: string): number | undefined {
  const m = /^(?:INSERT \d+|SELECT|UPDATE|DELETE|COPY|FETCH|MOVE|MERGE) (\d+)$/.exec(tag);
  return m ? Number(m[1]) : undefined;
}

function decodeFields(r: BodyReader): PgErrorFields {
  const f: PgErrorFields = { severity: '', code: '', message: '', detail: '', hint: '' };
  let localizedSeverity = '';
  for (;;) {
    const code = r.byte();
    if (code === 0) break;
    const value = r.cstring();
    if (code === 0x56 /* V */) f.severity = value;
    else if (code === 0x53 /* S */) localizedSeverity = value;
    else if (code === 0x43 /* C */) f.code = value;
    else if (code === 0x4d /* M */) f.message = value;
    else if (code === 0x44 /* D */) f.detail = value;
    else if (code === 0x48 /* H */) f.hint = value;
  }
  if (!f.severity) f.severity = localizedSeverity;
  return f;
}

function decodeCopyResponse(type: 'CopyInResponse' | 'CopyOutResponse' | 'CopyBothResponse') {
  return (r: BodyReader): BackendMessage => {
    const format = r.byte();
    const columnCount = r.int16();
    r.bytes(Math.max(0, columnCount) * 2);
    return { type, format, columnCount };
  };
}

function decodeRowDescription(r: BodyReader): BackendMessage {
  const n = r.int16();
  const columns: RowColumn[] = [];
  for (let i = 0; i < n; i++) {
    const name = r.cstring();
    const tableOid = r.int32() >>> 0;
    const attnum = r.int16();
    const typeOid = r.int32() >>> 0;
    r.bytes(6); // type size, modifier
    const format = r.int16();
    columns.push({ name, typeOid, tableOid, attnum, format });
  }
  return { type: 'RowDescription', columns };
}

function decodeDataRow(r: BodyReader): BackendMessage {
  const n = r.int16();
  const values: (Buffer | null)[] = [];
  for (let i = 0; i < n; i++) {
    const len = r.int32();
    values.push(len < 0 ? null : r.bytes(len));
  }
  return { type: 'DataRow', values };
}

const DECODERS = new Map<number, (r: BodyReader) => BackendMessage>([
  [0x52 /* R */, (r) => ({ type: 'Authentication', code: r.int32(), data: r.rest() })],
  [0x53 /* S */, (r) => ({ type: 'ParameterStatus', name: r.cstring(), value: r.cstring() })],
  [0x4b /* K */, (r) => ({ type: 'BackendKeyData', processId: r.int32(), secretKey: r.int32() })],
  [0x5a /* Z */, (r) => ({ type: 'ReadyForQuery', status: String.fromCharCode(r.byte()) })],
  [0x43 /* C */, (r) => commandComplete(r.cstring())],
  [0x45 /* E */, (r) => ({ type: 'ErrorResponse', fields: decodeFields(r) })],
  [0x4e /* N */, (r) => ({ type: 'NoticeResponse', fields: decodeFields(r) })],
  [0x49 /* I */, () => ({ type: 'EmptyQueryResponse' })],
  [0x73 /* s */, () => ({ type: 'PortalSuspended' })],
  [0x47 /* G */, decodeCopyResponse('CopyInResponse')],
  [0x48 /* H */, decodeCopyResponse('CopyOutResponse')],
  [0x57 /* W */, decodeCopyResponse('CopyBothResponse')],
  [0x54 /* T */, decodeRowDescription],
  [0x44 /* D */, decodeDataRow],
]);

function commandComplete(tag: string): BackendMessage {
  const rows = rowsFromCommandTag(tag);
  return rows === undefined ? { type: 'CommandComplete', tag } : { type: 'CommandComplete', tag, rows };
}
