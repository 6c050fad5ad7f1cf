import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeField, decodeRows, encodeField, encodeRow, readRow, type CopyTextFormat } from './copy-text.js';

const byte = (c: string) => c.charCodeAt(0);
const TEXT: CopyTextFormat = { kind: 'text', delimiter: byte('\t'), null: Buffer.from('\\N'), header: false };
const CSV: CopyTextFormat = { kind: 'csv', delimiter: byte(','), quote: byte('"'), escape: byte('"'), null: Buffer.from(''), header: false };

/** Values with the characters that matter to COPY: delimiters, quotes, backslashes, newlines, controls, multibyte. */
const value = fc.string({ unit: fc.constantFrom(...'ab,|\t\n\r\\"\'.N\u0001\u0008\u000b\u000c é€😀 '.split(/(?:)/u)), maxLength: 12 });
const row = fc.array(fc.option(value, { nil: null }), { minLength: 1, maxLength: 5 });

/** Formats Postgres accepts: one-byte delimiters it allows, NULL strings without the delimiter or a newline. */
const textFormat: fc.Arbitrary<CopyTextFormat> = fc.record({
  delimiter: fc.constantFrom('\t', ',', '|', ';', ' ', '\u0001').map(byte),
  null: fc.constantFrom('\\N', '', 'NULL', '<null>').map((s) => Buffer.from(s)),
  header: fc.constant(false),
}).map((f) => ({ kind: 'text' as const, ...f })).filter((f) => !f.null.includes(f.delimiter));
const csvFormat: fc.Arbitrary<CopyTextFormat> = fc.record({
  delimiter: fc.constantFrom(',', '|', ';', '\t').map(byte),
  quote: fc.constantFrom('"', "'").map(byte),
  escape: fc.constantFrom('"', "'", '\\').map(byte),
  null: fc.constantFrom('', '\\N', 'NULL').map((s) => Buffer.from(s)),
  header: fc.constant(false),
}).map((f) => ({ kind: 'csv' as const, ...f }))
  .filter((f) => f.delimiter !== f.quote && f.delimiter !== f.escape && !f.null.includes(f.delimiter) && !f.null.includes(f.quote));

/** In text format a value spelled like a custom NULL string reads as NULL (Postgres has the same ambiguity). */
const readsAsNull = (f: CopyTextFormat, v: string | null) => v !== null && f.kind === 'text' && encodeField(f, v).equals(f.null);

describe('COPY text and CSV codec', () => {
  it('decode(encode(x)) = x for every value, in text and CSV formats', () => {
    fc.assert(fc.property(fc.oneof(textFormat, csvFormat), value, (format, v) => {
      fc.pre(!readsAsNull(format, v));
      expect(decodeField(format, encodeField(format, v))).toBe(v);
    }), { numRuns: 2000 });
  });

  it('reads back every row it writes, NULLs included, however many rows a buffer holds', () => {
    fc.assert(fc.property(fc.oneof(textFormat, csvFormat), fc.array(row, { minLength: 1, maxLength: 4 }), (format, rows) => {
      fc.pre(rows.every((r) => r.every((v) => !readsAsNull(format, v))));
      const bytes = Buffer.concat(rows.map((r) => encodeRow(format, r)));
      const decoded = decodeRows(format, bytes);
      expect(decoded.rows).toEqual(rows);
      expect(decoded.rest.length).toBe(0);
      // A prefix that cuts the last row never yields it.
      const cut = decodeRows(format, bytes.subarray(0, bytes.length - 1));
      expect(cut.rows).toEqual(rows.slice(0, -1));
    }), { numRuns: 1000 });
  });

  it('writes what Postgres writes', () => {
    // Output of Postgres 15 for the same values (see copy-out tests on a live session for the whole path).
    expect(encodeRow(TEXT, ['x,y', 'tab\there', '', null, 'q"uo\\te\nnl', '\\.']).toString()).toBe('x,y\ttab\\there\t\t\\N\tq"uo\\\\te\\nnl\t\\\\.\n');
    expect(encodeRow(CSV, ['x,y', 'tab\there', '', null, 'q"uo\\te\nnl', '\\.']).toString()).toBe('"x,y",tab\there,"",,"q""uo\\te\nnl",\\.\n');
    expect(encodeRow(CSV, ['\\.']).toString()).toBe('"\\."\n');
    const quoteEscape: CopyTextFormat = { ...CSV, quote: byte("'"), escape: byte('\\') } as CopyTextFormat;
    expect(encodeRow(quoteEscape, ["it's", 'back\\slash', 'x,y']).toString()).toBe("'it\\'s',back\\slash,'x,y'\n");
    expect(encodeRow({ ...TEXT, delimiter: byte('|') }, ['a|b', 'c\td']).toString()).toBe('a\\|b|c\\td\n');
  });

  it('reads every escape COPY FROM accepts', () => {
    const raw = Buffer.from('\\101\\x42\\x4\\7z\\b\\f\\n\\r\\t\\v\\q\\\\\\N\\303\\251');
    expect(decodeField(TEXT, raw)).toBe('AB\u0004\u0007z\b\f\n\r\t\vq\\Né');
    expect(decodeField(TEXT, Buffer.from('\\N'))).toBeNull();
    expect(decodeField(TEXT, Buffer.from('\\\\N'))).toBe('\\N');
    expect(decodeField(TEXT, Buffer.from('\\xZ'))).toBe('xZ');
    expect(decodeField(TEXT, Buffer.from('trailing\\'))).toBe('trailing\\');
  });

  it('tells a CSV NULL from a quoted empty string, and reads mixed quoting', () => {
    expect(decodeField(CSV, Buffer.from(''))).toBeNull();
    expect(decodeField(CSV, Buffer.from('""'))).toBe('');
    expect(decodeField(CSV, Buffer.from('ab"c,d"e'))).toBe('abc,de');
    expect(decodeField({ ...CSV, null: Buffer.from('NULL') } as CopyTextFormat, Buffer.from('"NULL"'))).toBe('NULL');
  });

  it('finds fields and row ends only outside quotes and escapes', () => {
    const csv = Buffer.from('"a,\nb",c\n"x""\n",y\n');
    const first = readRow(CSV, csv, 0)!;
    expect(first.fields.map((f) => csv.toString('utf8', f.start, f.end))).toEqual(['"a,\nb"', 'c']);
    const second = readRow(CSV, csv, first.next)!;
    expect(second.fields.map((f) => csv.toString('utf8', f.start, f.end))).toEqual(['"x""\n"', 'y']);
    expect(second.next).toBe(csv.length);
    const text = Buffer.from('a\\\tb\tc\\\\\td\n');
    expect(readRow(TEXT, text, 0)!.fields.map((f) => text.toString('utf8', f.start, f.end))).toEqual(['a\\\tb', 'c\\\\', 'd']);
    expect(readRow(CSV, Buffer.from('"open\n'), 0)).toBeUndefined();
    expect(readRow(TEXT, Buffer.from('no newline'), 0)).toBeUndefined();
  });
});
