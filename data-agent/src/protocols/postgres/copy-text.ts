/**
 * The text and CSV formats of COPY, as Postgres writes them (CopyAttributeOutText/CSV) and reads them
 * (CopyReadAttributesText/CSV): rows end with a newline, fields are split by a one-byte delimiter,
 * text fields escape with backslashes and mark NULL with `\N`, CSV fields quote with doubled (or
 * escaped) quotes and mark NULL with an unquoted empty field. Pure functions over bytes.
 *
 * Only ASCII bytes are special, so rows are read byte by byte in UTF-8 and in every client encoding
 * the agent lets a session use (those whose multibyte characters never contain ASCII bytes).
 */

export type CopyTextFormat =
  | { kind: 'text'; delimiter: number; null: Buffer; header: boolean }
  | { kind: 'csv'; delimiter: number; quote: number; escape: number; null: Buffer; header: boolean };

/** Where a field's bytes sit in the buffer its row was read from. */
export interface FieldSpan {
  start: number;
  end: number;
}

const NL = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;
/** Text format: the escape letter of each control character Postgres writes as one. */
const CONTROL_ESCAPES = new Map<number, number>([[0x08, 0x62], [0x0c, 0x66], [0x0a, 0x6e], [0x0d, 0x72], [0x09, 0x74], [0x0b, 0x76]]);
const CONTROL_OF_LETTER = new Map([...CONTROL_ESCAPES].map(([control, letter]) => [letter, control]));

/**
 * Reads the row that begins at `start`: its fields and where the next row begins (after the newline).
 * Undefined when `data` ends before the row does.
 */
export function readRow(format: CopyTextFormat, data: Buffer, start: number): { fields: FieldSpan[]; next: number } | undefined {
  return format.kind === 'text' ? readTextRow(format.delimiter, data, start) : readCsvRow(format, data, start);
}

function readTextRow(delimiter: number, data: Buffer, start: number): { fields: FieldSpan[]; next: number } | undefined {
  const fields: FieldSpan[] = [];
  let fieldStart = start;
  for (let i = start; i < data.length; i++) {
    const c = data[i]!;
    if (c === BACKSLASH) i++; // the next byte is data, even a delimiter or a newline
    else if (c === delimiter) {
      fields.push({ start: fieldStart, end: i });
      fieldStart = i + 1;
    } else if (c === NL) {
      fields.push({ start: fieldStart, end: i });
      return { fields, next: i + 1 };
    }
  }
  return undefined;
}

function readCsvRow(format: Extract<CopyTextFormat, { kind: 'csv' }>, data: Buffer, start: number): { fields: FieldSpan[]; next: number } | undefined {
  const { delimiter, quote, escape } = format;
  const fields: FieldSpan[] = [];
  let fieldStart = start;
  let inQuote = false;
  for (let i = start; i < data.length; i++) {
    const c = data[i]!;
    if (inQuote) {
      // Escape first: when escape and quote are the same byte, a doubled quote is one quote character.
      // At the end of `data` the next byte is unknown, but then the row has not ended either way.
      if (c === escape && i + 1 < data.length && (data[i + 1] === escape || data[i + 1] === quote)) i++;
      else if (c === quote) inQuote = false;
    } else if (c === quote) inQuote = true;
    else if (c === delimiter) {
      fields.push({ start: fieldStart, end: i });
      fieldStart = i + 1;
    } else if (c === NL) {
      fields.push({ start: fieldStart, end: i });
      return { fields, next: i + 1 };
    }
  }
  return undefined;
}

/** True when the field's raw bytes start with the CSV quote (Postgres quoted it: keep it quoted). */
export function isQuotedField(format: CopyTextFormat, raw: Buffer): boolean {
  return format.kind === 'csv' && raw.length > 0 && raw[0] === format.quote;
}

/** The value a field holds: null for the NULL marker (in CSV, only when no part of it is quoted). */
export function decodeField(format: CopyTextFormat, raw: Buffer): string | null {
  return format.kind === 'text' ? decodeTextField(format, raw) : decodeCsvField(format, raw);
}

function decodeTextField(format: Extract<CopyTextFormat, { kind: 'text' }>, raw: Buffer): string | null {
  if (raw.equals(format.null)) return null;
  if (!raw.includes(BACKSLASH)) return raw.toString('utf8');
  const out = Buffer.allocUnsafe(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== BACKSLASH || i + 1 === raw.length) {
      out[n++] = c;
      continue;
    }
    const e = raw[++i]!;
    if (e >= 0x30 && e <= 0x37) {
      let value = e - 0x30;
      for (let k = 0; k < 2 && i + 1 < raw.length && raw[i + 1]! >= 0x30 && raw[i + 1]! <= 0x37; k++) value = value * 8 + raw[++i]! - 0x30;
      out[n++] = value & 0xff;
    } else if (e === 0x78 && i + 1 < raw.length && hexValue(raw[i + 1]!) >= 0) {
      let value = hexValue(raw[++i]!);
      if (i + 1 < raw.length && hexValue(raw[i + 1]!) >= 0) value = value * 16 + hexValue(raw[++i]!);
      out[n++] = value;
    } else {
      out[n++] = CONTROL_OF_LETTER.get(e) ?? e;
    }
  }
  return out.toString('utf8', 0, n);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

function decodeCsvField(format: Extract<CopyTextFormat, { kind: 'csv' }>, raw: Buffer): string | null {
  const { quote, escape } = format;
  if (!raw.includes(quote)) return raw.equals(format.null) ? null : raw.toString('utf8');
  const out = Buffer.allocUnsafe(raw.length);
  let n = 0;
  let inQuote = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (inQuote && c === escape && i + 1 < raw.length && (raw[i + 1] === escape || raw[i + 1] === quote)) out[n++] = raw[++i]!;
    else if (c === quote) inQuote = !inQuote;
    else out[n++] = c;
  }
  return out.toString('utf8', 0, n);
}

export interface EncodeOptions {
  /** CSV: quote the value even when it does not need it (it was quoted, e.g. by FORCE_QUOTE). */
  quote?: boolean;
  /** CSV: the row has this one column (a lone `\.` would read as the end-of-data marker). */
  onlyColumn?: boolean;
}

/** A non-NULL value as Postgres would write it in this format. */
export function encodeField(format: CopyTextFormat, value: string, options: EncodeOptions = {}): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  return format.kind === 'text' ? encodeTextField(format.delimiter, bytes) : encodeCsvField(format, bytes, options);
}

function encodeTextField(delimiter: number, bytes: Buffer): Buffer {
  let extra = 0;
  for (const c of bytes) if (c === BACKSLASH || c === delimiter || CONTROL_ESCAPES.has(c)) extra++;
  if (extra === 0) return bytes;
  const out = Buffer.allocUnsafe(bytes.length + extra);
  let n = 0;
  for (const c of bytes) {
    const letter = CONTROL_ESCAPES.get(c);
    if (letter !== undefined) {
      out[n++] = BACKSLASH;
      out[n++] = letter;
    } else {
      if (c === BACKSLASH || c === delimiter) out[n++] = BACKSLASH;
      out[n++] = c;
    }
  }
  return out;
}

function encodeCsvField(format: Extract<CopyTextFormat, { kind: 'csv' }>, bytes: Buffer, options: EncodeOptions): Buffer {
  const { delimiter, quote, escape } = format;
  const needsQuote = options.quote === true || bytes.equals(format.null) || (options.onlyColumn === true && bytes.equals(END_OF_DATA)) ||
    bytes.some((c) => c === delimiter || c === quote || c === NL || c === CR);
  if (!needsQuote) return bytes;
  const out: number[] = [quote];
  for (const c of bytes) {
    if (c === quote || c === escape) out.push(escape);
    out.push(c);
  }
  out.push(quote);
  return Buffer.from(out);
}

const END_OF_DATA = Buffer.from('\\.');

/** A whole row (with its newline) as Postgres would write it; for tests and builders. */
export function encodeRow(format: CopyTextFormat, values: (string | null)[]): Buffer {
  const delimiter = Buffer.from([format.delimiter]);
  const parts: Buffer[] = [];
  values.forEach((v, i) => {
    if (i > 0) parts.push(delimiter);
    parts.push(v === null ? format.null : encodeField(format, v, { onlyColumn: values.length === 1 }));
  });
  parts.push(Buffer.from([NL]));
  return Buffer.concat(parts);
}

/** The values of every complete row in `data`, and the bytes left after them; for tests. */
export function decodeRows(format: CopyTextFormat, data: Buffer): { rows: (string | null)[][]; rest: Buffer } {
  const rows: (string | null)[][] = [];
  let at = 0;
  for (let row = readRow(format, data, at); row; row = readRow(format, data, at)) {
    rows.push(row.fields.map((f) => decodeField(format, data.subarray(f.start, f.end))));
    at = row.next;
  }
  return { rows, rest: data.subarray(at) };
}
