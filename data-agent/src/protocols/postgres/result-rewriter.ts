/**
 * Masking on the server → client side of a session. Server bytes are cut into whole messages; every
 * message passes as the same bytes except DataRow values that masking changes (the row is re-encoded
 * with its new lengths), CopyData rows whose fields masking changes (see copy-out-plan.ts), and the
 * cases masking cannot handle, which fail closed with a 42501 ErrorResponse in place of the result:
 * binary values of a column a rule masks, a DataRow whose description was not seen, binary COPY, and
 * a COPY TO STDOUT whose columns cannot be named while column rules exist. Untouched messages stay
 * slices of the chunk they came in, so a chunk is forwarded in as few writes as before. Only used when
 * the session has masking rules.
 *
 * Table names and COPY statements are looked up asynchronously; meanwhile push() returns a Promise and
 * the relay holds every later chunk back, so nothing is reordered.
 */
import type { ResultColumnMask, ResultColumnSource, ResultMasking } from '../engine.js';
import { decodeBackend, decodeRowDescriptionMessage, type RowColumn } from './backend-scanner.js';
import { CopyRowMasker } from './copy-row-masker.js';
import { planCopyOut, type CopyPlan, type CopyStatementReader, type CopyTableResolver } from './copy-out-plan.js';
import type { FrontendMessage } from './frontend-parser.js';
import * as ser from './serializer.js';
import { StatementTracker } from './statement-tracker.js';
import { BodyReader, coalesce, MessageWriter, PartialFrame, ProtocolViolation } from './wire.js';

/** The columns of one table, as the catalog names them. */
export interface TableColumns {
  schema: string;
  table: string;
  columns: Map<number, string>;
}

/**
 * Looks table OIDs up in the catalog; throws when it cannot (the columns are then masked as unresolved).
 * Without copyTable, COPY TO STDOUT cannot be masked by column.
 */
export interface ColumnResolver extends Partial<CopyTableResolver> {
  resolve(tableOids: number[]): Promise<Map<number, TableColumns>>;
}

export interface ResultRewriterOptions {
  maxMessageBytes?: number;
  onResolveError?: (error: Error) => void;
  /** Reads the session's COPY statements (the statement gate); without it column rules refuse COPY TO STDOUT. */
  statements?: CopyStatementReader;
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

/** The COPY TO STDOUT in progress: its rows pass, get content rules line by line, or are masked field by field. */
type CopyOut = { kind: 'pass' } | { kind: 'lines' } | { kind: 'fields'; rows: CopyRowMasker };

/** The server messages that end a statement's result, which pair results with statements. */
const RESULT_ENDS = new Set<number>([TAG.commandComplete, TAG.emptyQuery, TAG.portalSuspended, TAG.error, TAG.ready]);

export class ResultRewriter {
  private readonly partial = new PartialFrame();
  private pendingTotal = 0;
  private readonly maxMessage: number;
  /** Resolved tables by OID; null when the lookup failed. */
  private readonly tables = new Map<number, TableColumns | null>();
  private columns: ColumnPlan[] | undefined;
  private copyOut: CopyOut | undefined;
  /** How to mask the CopyOutResponse being processed, once planned. */
  private copyPlan: CopyPlan | undefined;
  /** Pairs each result with the statement that produced it, from what the server sent (not what the client saw). */
  private readonly statements = new StatementTracker({ record: () => undefined });
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

  /** Every client message as it is forwarded to the server, so that results can be paired with statements. */
  onClient(message: FrontendMessage): void {
    this.statements.onClient(message);
  }

  /** The bytes to forward for this chunk; a Promise only when table names or a COPY must be looked up first. */
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
      } else if (msg[0] === TAG.copyOut && !this.dropping && !this.copyPlan && msg.readInt8(HEADER) === 0) {
        return this.planCopy(msg).then(() => this.process(messages, i, out));
      } else {
        if (RESULT_ENDS.has(msg[0]!)) this.statements.onServer(decodeBackend(msg));
        this.onMessage(msg, out);
      }
    }
    return coalesce(out);
  }

  /** Decides how the COPY TO STDOUT that `copyOutResponse` starts is masked; never rejects. */
  private async planCopy(copyOutResponse: Buffer): Promise<void> {
    const answering = this.statements.answering;
    const copy = {
      statement: answering && { text: answering.text, command: answering.protocol === 'simple' ? answering.command : 0 },
      columnCount: copyOutResponse.readInt16BE(HEADER + 1),
    };
    try {
      this.copyPlan = await planCopyOut(copy, {
        masking: this.masking,
        reader: this.options.statements,
        tables: this.resolver.copyTable ? (this.resolver as CopyTableResolver) : undefined,
        onLookupError: this.options.onResolveError,
      });
    } catch (err) {
      this.options.onResolveError?.(err as Error);
      this.copyPlan = this.masking.hasColumnRules
        ? { kind: 'refuse', message: 'airlock: COPY TO STDOUT cannot be masked by column: its statement could not be read; use SELECT to read masked tables' }
        : { kind: 'lines' };
    }
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
      this.copyOut = undefined;
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
        this.copyOut = undefined;
        out.push(raw);
        return;
      case TAG.error:
      case TAG.notice:
        if (tag === TAG.error) {
          this.columns = undefined;
          this.copyOut = undefined;
        }
        out.push(this.maskFields(raw));
        return;
      case TAG.copyOut:
      case TAG.copyBoth:
        return this.onCopyOut(raw, out);
      case TAG.copyData:
        return this.onCopyData(raw, out);
      case TAG.copyDone:
        if (this.copyOut?.kind === 'fields' && this.copyOut.rows.midRow) return this.failClosed(out, 'airlock: the COPY data ended in the middle of a row, so it cannot be masked');
        this.copyOut = undefined;
        out.push(raw);
        return;
      default:
        out.push(raw);
    }
  }

  private onCopyOut(raw: Buffer, out: Buffer[]): void {
    const plan = this.copyPlan;
    this.copyPlan = undefined;
    if (raw[0] === TAG.copyBoth || raw.readInt8(HEADER) !== 0) {
      return this.failClosed(out, 'airlock: binary COPY cannot be masked; use COPY ... TO STDOUT in text or CSV format');
    }
    if (!plan) throw new Error('CopyOutResponse without a masking plan'); // process() plans every text CopyOutResponse first
    if (plan.kind === 'refuse') return this.failClosed(out, plan.message);
    this.copyOut = plan.kind === 'fields' ? { kind: 'fields', rows: new CopyRowMasker(plan.format, plan.masks, this.maxMessage, plan.forceQuote) } : plan;
    out.push(raw);
  }

  private onCopyData(raw: Buffer, out: Buffer[]): void {
    const copy = this.copyOut;
    if (!copy || copy.kind === 'pass') return void out.push(raw);
    if (copy.kind === 'lines') return void out.push(this.maskCopyData(raw));
    const body = raw.subarray(HEADER);
    const masked = copy.rows.push(body);
    if (!masked.ok) return this.failClosed(out, `airlock: ${masked.reason}, so the COPY cannot be masked; use SELECT to read masked tables`);
    if (!masked.changed && masked.pieces[0] === body) return void out.push(raw);
    const length = masked.pieces.reduce((n, p) => n + p.length, 0);
    if (length === 0) return;
    const header = Buffer.allocUnsafe(HEADER);
    header[0] = TAG.copyData;
    header.writeInt32BE(length + 4, 1);
    out.push(Buffer.concat([header, ...masked.pieces], HEADER + length));
  }

  /** Ends the current result with a 42501 error; the server's rest of it is dropped up to ReadyForQuery. */
  private failClosed(out: Buffer[], message: string): void {
    out.push(ser.errorResponse({ severity: 'ERROR', code: '42501', message }));
    this.dropping = true;
    this.columns = undefined;
    this.copyOut = undefined;
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
