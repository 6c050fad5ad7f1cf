/**
 * The wire format of a COPY ... TO STDOUT, from the options the statement was written with, with
 * Postgres's defaults (text: tab and \N; csv: comma, empty NULL, double quote). Options that change
 * the bytes in a way masking does not read (another ENCODING, an option airlock does not know) make
 * the format unknown, and the caller fails closed. Pure.
 */
import type { CopyStatementText } from '../engine.js';
import type { CopyTextFormat } from './copy-text.js';

export type CopyFormatReading =
  /** forceQuote: the columns CSV quotes whatever their values ('*' for all of them). */
  | { ok: true; format: CopyTextFormat | 'binary'; forceQuote: '*' | string[] }
  | { ok: false; reason: string };

/** Options that do not change what COPY TO writes (FREEZE is accepted and ignored by COPY TO). */
const NO_EFFECT_ON_OUTPUT = new Set(['freeze']);

export function copyOutFormat(statement: CopyStatementText): CopyFormatReading {
  const given = new Map<string, string | null>();
  let forceQuote: '*' | string[] = [];
  for (const o of statement.options) {
    if (given.has(o.name)) return { ok: false, reason: `the option ${o.name.toUpperCase()} is given twice` };
    given.set(o.name, o.value);
    if (o.name === 'force_quote') forceQuote = o.value === '*' ? '*' : o.items ?? [];
  }
  const format = given.has('format') ? given.get('format') : 'text';
  if (format === 'binary') return { ok: true, format: 'binary', forceQuote };
  if (format !== 'text' && format !== 'csv') return { ok: false, reason: `airlock does not read COPY format ${String(format)}` };
  for (const name of given.keys()) {
    if (!['format', 'delimiter', 'null', 'header', 'quote', 'escape', 'encoding', 'force_quote'].includes(name) && !NO_EFFECT_ON_OUTPUT.has(name)) {
      return { ok: false, reason: `airlock does not read the COPY option ${name.toUpperCase()}` };
    }
  }
  const encoding = given.get('encoding');
  if (given.has('encoding') && !isUtf8(encoding ?? '')) {
    return { ok: false, reason: `airlock reads COPY data as UTF-8 only, not ENCODING ${String(encoding)}` };
  }
  const header = given.has('header') ? booleanOption(given.get('header') ?? null) : false;
  if (header === undefined) return { ok: false, reason: `airlock does not read HEADER ${String(given.get('header'))}` };
  const csv = format === 'csv';
  const delimiter = oneByte(given, 'delimiter', csv ? ',' : '\t');
  const quote = oneByte(given, 'quote', '"');
  const escape = oneByte(given, 'escape', typeof quote === 'number' ? String.fromCharCode(quote) : '"');
  for (const [name, value] of [['DELIMITER', delimiter], ['QUOTE', quote], ['ESCAPE', escape]] as const) {
    if (typeof value === 'string') return { ok: false, reason: `airlock reads a COPY ${name} of one ASCII character only, not ${JSON.stringify(value)}` };
  }
  const nullString = given.has('null') ? given.get('null') : csv ? '' : '\\N';
  if (nullString === null || nullString === undefined) return { ok: false, reason: 'airlock does not read this COPY NULL option' };
  const base = { delimiter: delimiter as number, null: Buffer.from(nullString, 'utf8'), header };
  return { ok: true, format: csv ? { kind: 'csv', ...base, quote: quote as number, escape: escape as number } : { kind: 'text', ...base }, forceQuote };
}

/** The option's byte, or the text given when it is not one ASCII character. */
function oneByte(given: Map<string, string | null>, name: string, fallback: string): number | string {
  const value = given.has(name) ? given.get(name) ?? '' : fallback;
  return value.length === 1 && value.charCodeAt(0) < 0x80 ? value.charCodeAt(0) : value;
}

/** Postgres's boolean option words (defGetBoolean); undefined for anything else (HEADER MATCH is COPY FROM's). */
function booleanOption(value: string | null): boolean | undefined {
  if (value === null) return true;
  const v = value.toLowerCase();
  if (['true', 'on', '1', 'yes'].includes(v)) return true;
  if (['false', 'off', '0', 'no'].includes(v)) return false;
  return undefined;
}

/** Postgres ignores case and punctuation in encoding names; UNICODE is an alias of UTF8. */
function isUtf8(name: string): boolean {
  const clean = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  return clean === 'utf8' || clean === 'unicode';
}
