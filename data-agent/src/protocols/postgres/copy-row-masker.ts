/**
 * Masks the rows of one COPY ... TO STDOUT in text or CSV format, field by field: each value is
 * decoded (escapes, quotes, NULL), masked by its column's mask, and written back the way Postgres
 * would have written it. Fields and rows that masking does not change keep their bytes, and a
 * CopyData whose rows all stay as they were is passed on as the very same buffer. A row split across
 * CopyData messages (Postgres sends one row per message, but the protocol allows it) waits for its end.
 */
import type { ResultColumnMask } from '../engine.js';
import { decodeField, encodeField, isQuotedField, readRow, type CopyTextFormat, type FieldSpan } from './copy-text.js';

/**
 * The bytes to send, in pieces (slices of the input around re-encoded fields, copied once into the
 * CopyData message); `changed` false means they are the input's own complete rows.
 */
export type CopyMaskResult = { ok: true; pieces: Buffer[]; changed: boolean } | { ok: false; reason: string };

export class CopyRowMasker {
  /** The beginning of a row whose end has not arrived yet. */
  private carry: Buffer | undefined;
  private headerPending: boolean;

  constructor(
    private readonly format: CopyTextFormat,
    /** One per column; undefined where values pass unchanged. */
    private readonly masks: readonly (ResultColumnMask | undefined)[],
    private readonly maxRowBytes: number,
    /** CSV: per column, whether FORCE_QUOTE quotes it; undefined when not known (the field's own quoting then tells). */
    private readonly forceQuote: readonly (boolean | undefined)[] = [],
  ) {
    this.headerPending = format.header;
  }

  /** True while a row has begun and not ended. */
  get midRow(): boolean {
    return this.carry !== undefined;
  }

  /** The bytes to send for one CopyData payload (none while a row is incomplete). */
  push(data: Buffer): CopyMaskResult {
    const input = this.carry ? Buffer.concat([this.carry, data]) : data;
    this.carry = undefined;
    const out: Buffer[] = [];
    let at = 0;
    let copiedUpTo = 0;
    for (let row = readRow(this.format, input, at); row; row = readRow(this.format, input, at)) {
      if (this.headerPending) {
        this.headerPending = false; // column names, as the statement or the catalog gave them
      } else {
        if (row.fields.length !== this.masks.length) {
          return { ok: false, reason: `a COPY row has ${row.fields.length} fields for ${this.masks.length} columns` };
        }
        copiedUpTo = this.maskRow(input, row.fields, out, copiedUpTo);
      }
      at = row.next;
    }
    if (at < input.length) {
      if (input.length - at > this.maxRowBytes) return { ok: false, reason: `a COPY row is longer than ${this.maxRowBytes} bytes` };
      this.carry = Buffer.from(input.subarray(at)); // a copy: the rest of the chunk need not stay in memory
    }
    if (out.length === 0) return { ok: true, pieces: at === 0 ? [] : [at === input.length ? input : input.subarray(0, at)], changed: false };
    out.push(input.subarray(copiedUpTo, at));
    return { ok: true, pieces: out, changed: true };
  }

  /**
   * Masks one row's fields: each field masking changes is replaced by its re-encoded value, with the
   * unchanged bytes before it sliced from the input. Returns how far the input has been taken.
   */
  private maskRow(input: Buffer, fields: FieldSpan[], out: Buffer[], copiedUpTo: number): number {
    for (let i = 0; i < fields.length; i++) {
      const mask = this.masks[i];
      if (!mask) continue;
      const span = fields[i]!;
      const raw = input.subarray(span.start, span.end);
      const value = decodeField(this.format, raw);
      if (value === null) continue;
      const masked = mask.mask(value);
      if (masked === value) continue;
      // Unknown FORCE_QUOTE (a list naming columns airlock cannot name): a quoted field stays quoted.
      const quote = this.forceQuote[i] ?? isQuotedField(this.format, raw);
      out.push(input.subarray(copiedUpTo, span.start), encodeField(this.format, masked, { quote, onlyColumn: fields.length === 1 }));
      copiedUpTo = span.end;
    }
    return copiedUpTo;
  }
}
