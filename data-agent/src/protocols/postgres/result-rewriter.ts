/**
 * Masking on the server → client side of a session. Server bytes are cut into whole messages; every
 * message passes as the same bytes except DataRow values that masking changes (the row is re-encoded
 * with its new lengths), and the few cases masking cannot handle, which fail closed with a 42501
 * ErrorResponse in place of the result: binary values of a column a rule masks, a DataRow whose
 * description was not seen, binary COPY, and COPY TO STDOUT while column rules exist (COPY does not say
 * which table column each field is). Untouched messages stay slices of the chunk they came in, so a
 * chunk is forwarded in as few writes as before. Only used when the session has masking rules.
 */
import type { ResultColumnMask, ResultColumnSource, ResultMasking } from '../engine.js';
import { decodeRowDescriptionMessage, type RowColumn } from './backend-scanner.js';
import * as ser from './serializer.js';
import { BodyReader, coalesce, MessageWriter, PartialFrame, ProtocolViolation } from './wire.js';

/** The columns of one table, as the catalog names them. */
export interface TableColumns {
  schema: string;
  table: string;
  columns: Map<number, string>;
}

/** Looks table OIDs up in the catalog; throws when it cannot (the columns are then masked as unresolved). */
export interface ColumnResolver {
  resolve(tableOids: number[]): Promise<Map<number, TableColumns>>;
}

export interface ResultRewriterOptions {
  maxMessageBytes?: number;
  onResolveError?: (error: Error) => void;
}

/** Types whose binary form is their UTF-8 text: content rules can read binary values of these. */
const STRING_TYPES = new Set([25 /* text */, 1043 /* varchar */, 1042 /* bpchar */, 19 /* name */, 114 /* json */]);
const HEADER = 5;
const TAG = { rowDescription: 0x54, dataRow: 0x44, commandComplete: 0x43, emptyQuery: 0x49, portalSuspended: 0x73, ready: 0x5a,
  error: 0x45, notice: 0x4e, copyOut: 0x48, copyBoth: 0x57, copyData: 0x64, copyDone: 0x63 } as const;
/** Error and notice fields that carry text from the database (message, detail, hint, context...), not codes. */
const TEXT_FIELDS = new Set('MDHWspqtcdn'.split('').map((c) => c.charCodeAt(0)));

interface ColumnPlan {
  name: string;
  mask: ResultColumnMask | undefined;
}

export class ResultRewriter {
  private readonly partial = new PartialFrame();
  private pendingTotal = 0;
  private readonly maxMessage: number;
  /** Resolved tables by OID; null when the lookup failed. */
  private readonly tables = new Map<number, TableColumns | null>();
  private columns: ColumnPlan[] | undefined;
  private copyOut = false;
  /** After airlock ended a result with an error: the server's rest of it is dropped up to ReadyForQuery. */
  private dropping = false;

  constructor(
    private readonly masking: ResultMasking,
    private readonly resolver: ColumnResolver,
    private readonly options: ResultRewriterOptions = {},
  ) {
    this.maxMessage = options.maxMessageBytes ?? 64 * 1024 * 1024;
  }

  /** True while a message has begun and not ended. */
  get midMessage(): boolean {
    return this.partial.length > 0;
  }

  /** The bytes to forward for this chunk; a Promise only when table names must be looked up first. */
  push(chunk: Buffer): Buffer[] | Promise<Buffer[]> {
    return this.process(this.split(chunk), 0, []);
  }

  private process(messages: Buffer[], from: number, out: Buffer[]): Buffer[] | Promise<Buffer[]> {
    for (let i = from; i < messages.length; i++) {
      const msg = messages[i]!;
      if (msg[0] === TAG.rowDescription && !this.dropping) {
        const columns = decodeRowDescriptionMessage(msg);
        const unknown = [...new Set(columns.map((c) => c.tableOid).filter((oid) => oid !== 0 && !this.tables.has(oid)))];
        if (unknown.length > 0 && this.masking.hasColumnRules) return this.lookUp(unknown).then(() => this.process(messages, i, out));
        this.onRowDescription(msg, columns, out);
      } else {
        this.onMessage(msg, out);
      }
    }
    return coalesce(out);
  }

  private async lookUp(oids: number[]): Promise<void> {
    try {
      const found = await this.resolver.resolve(oids);
      for (const oid of oids) this.tables.set(oid, found.get(oid) ?? null);
    } catch (err) {
      this.options.onResolveError?.(err as Error);
      for (const oid of oids) this.tables.set(oid, null);
    }
  }

  private onRowDescription(raw: Buffer, columns: RowColumn[], out: Buffer[]): void {
    const plans: ColumnPlan[] = [];
    for (const c of columns) {
      let mask = this.masking.forColumn(this.sourceOf(c));
      if (c.format === 1 && mask?.byRule) {
        return this.failClosed(out, `airlock: column "${c.name}" is masked by policy and cannot be sent in binary format; request it as text`);
      }
      if (c.format === 1 && !STRING_TYPES.has(c.typeOid)) mask = undefined; // not a text value: content rules do not apply
      plans.push({ name: c.name, mask });
    }
    this.columns = plans;
    out.push(raw);
  }

  private sourceOf(c: RowColumn): ResultColumnSource {
    if (c.tableOid === 0) return 'expression';
    if (!this.masking.hasColumnRules) return 'unresolved'; // content rules only: the table does not matter
    const table = this.tables.get(c.tableOid);
    const column = table?.columns.get(c.attnum);
    return table && column !== undefined ? { schema: table.schema, table: table.table, column } : 'unresolved';
  }

  private onMessage(raw: Buffer, out: Buffer[]): void {
    const tag = raw[0]!;
    if (tag === TAG.ready) {
      this.dropping = false;
      this.columns = undefined;
      this.copyOut = false;
      out.push(raw);
      return;
    }
    if (this.dropping) return;
    switch (tag) {
      case TAG.dataRow:
        if (!this.columns) return this.failClosed(out, 'airlock: masking needs the description of every result; this client did not ask for it (describe the portal before executing it)');
        out.push(this.maskRow(raw, this.columns));
        return;
      case TAG.commandComplete:
      case TAG.emptyQuery:
      case TAG.portalSuspended:
        this.columns = undefined;
        this.copyOut = false;
        out.push(raw);
        return;
      case TAG.error:
      case TAG.notice:
        if (tag === TAG.error) this.columns = undefined;
        out.push(this.maskFields(raw));
        return;
      case TAG.copyOut:
      case TAG.copyBoth: {
        if (tag === TAG.copyBoth || raw.readInt8(HEADER) !== 0) return this.failClosed(out, 'airlock: binary COPY cannot be masked; use COPY ... TO STDOUT in text or CSV format');
        if (this.masking.hasColumnRules) return this.failClosed(out, 'airlock: COPY TO STDOUT cannot be masked by column; use SELECT to read masked tables');
        this.copyOut = true;
        out.push(raw);
        return;
      }
      case TAG.copyData:
        out.push(this.copyOut ? this.maskCopyData(raw) : raw);
        return;
      case TAG.copyDone:
        this.copyOut = false;
        out.push(raw);
        return;
      default:
        out.push(raw);
    }
  }

  /** Ends the current result with a 42501 error; the server's rest of it is dropped up to ReadyForQuery. */
  private failClosed(out: Buffer[], message: string): void {
    out.push(ser.errorResponse({ severity: 'ERROR', code: '42501', message }));
    this.dropping = true;
    this.columns = undefined;
    this.copyOut = false;
  }

  private maskRow(raw: Buffer, plans: ColumnPlan[]): Buffer {
    const r = new BodyReader(raw, 'server message \'D\'', HEADER);
    const n = r.int16();
    if (n !== plans.length) throw new ProtocolViolation(`DataRow has ${n} values for ${plans.length} columns`);
    let values: (Buffer | null)[] | undefined;
    for (let i = 0; i < n; i++) {
      const len = r.int32();
      const value = len < 0 ? null : r.bytes(len);
      const mask = plans[i]!.mask;
      if (value === null || !mask) {
        values?.push(value);
        continue;
      }
      const text = value.toString('utf8');
      const masked = mask.mask(text);
      if (masked === text && !values) continue;
      values ??= rowPrefix(raw, i);
      values.push(masked === text ? value : Buffer.from(masked, 'utf8'));
    }
    r.done();
    if (!values) return raw;
    const w = new MessageWriter('D').int16(values.length);
    for (const v of values) {
      if (v === null) w.int32(-1);
      else w.int32(v.length).bytes(v);
    }
    return w.finish();
  }

  private maskCopyData(raw: Buffer): Buffer {
    const line = raw.toString('utf8', HEADER);
    const masked = this.masking.maskText(line);
    return masked === line ? raw : new MessageWriter('d').bytes(Buffer.from(masked, 'utf8')).finish();
  }

  /** ErrorResponse and NoticeResponse texts may quote values (a unique violation's detail does). */
  private maskFields(raw: Buffer): Buffer {
    const r = new BodyReader(raw, `server message '${String.fromCharCode(raw[0]!)}'`, HEADER);
    const fields: [number, string][] = [];
    let changed = false;
    for (let code = r.byte(); code !== 0; code = r.byte()) {
      const value = r.cstring();
      const masked = TEXT_FIELDS.has(code) ? this.masking.maskText(value) : value;
      changed ||= masked !== value;
      fields.push([code, masked]);
    }
    if (!changed) return raw;
    const w = new MessageWriter(String.fromCharCode(raw[0]!));
    for (const [code, value] of fields) w.byte(code).cstring(value);
    return w.byte(0).finish();
  }

  /** Cuts the chunk into whole messages (slices of it where possible); keeps a trailing partial one. */
  private split(chunk: Buffer): Buffer[] {
    const messages: Buffer[] = [];
    let pos = 0;
    while (this.partial.length > 0 && pos < chunk.length) {
      if (this.pendingTotal === 0) {
        const take = Math.min(HEADER - this.partial.length, chunk.length - pos);
        this.partial.add(chunk.subarray(pos, pos + take));
        pos += take;
        if (this.partial.length < HEADER) break;
        this.pendingTotal = this.frameLength(this.partial.peek(HEADER), 0);
      }
      const take = Math.min(this.pendingTotal - this.partial.length, chunk.length - pos);
      this.partial.add(chunk.subarray(pos, pos + take));
      pos += take;
      if (this.partial.length === this.pendingTotal) {
        messages.push(this.partial.take());
        this.pendingTotal = 0;
      }
    }
    while (pos < chunk.length) {
      const total = chunk.length - pos < HEADER ? 0 : this.frameLength(chunk, pos);
      if (total === 0 || chunk.length - pos < total) {
        this.pendingTotal = total;
        this.partial.add(chunk.subarray(pos));
        break;
      }
      messages.push(chunk.subarray(pos, pos + total));
      pos += total;
    }
    return messages;
  }

  private frameLength(buf: Buffer, pos: number): number {
    const len = buf.readInt32BE(pos + 1);
    if (len < 4) throw new ProtocolViolation(`server sent message '${String.fromCharCode(buf[pos]!)}' with invalid length ${len}`);
    if (len + 1 > this.maxMessage) {
      throw new ProtocolViolation(`server message '${String.fromCharCode(buf[pos]!)}' of ${len + 1} bytes exceeds the limit of ${this.maxMessage} bytes (masking reads whole messages)`);
    }
    return len + 1;
  }
}

/** The first `count` values of a DataRow, as they were. */
function rowPrefix(raw: Buffer, count: number): (Buffer | null)[] {
  const r = new BodyReader(raw, 'server message \'D\'', HEADER);
  r.int16();
  const values: (Buffer | null)[] = [];
  for (let i = 0; i < count; i++) {
    const len = r.int32();
    values.push(len < 0 ? null : r.bytes(len));
  }
  return values;
}
