/** Reading COPY statements with Postgres's parser (as the policy's parser workers do) into a wire format. */
import { loadModule } from 'libpg-query';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAndAnalyze } from '../../policy/sql/parse-sql.js';
import type { CopyStatementText } from '../engine.js';
import { copyOutFormat } from './copy-format.js';

beforeAll(async () => {
  await loadModule();
});

function copies(sql: string): (CopyStatementText | null)[] {
  const outcome = parseAndAnalyze(sql);
  if (!outcome.ok) throw new Error(outcome.message);
  return outcome.statements.map((s) => s.copy ?? null);
}

const one = (sql: string) => copies(sql).find((c) => c !== null)!;
const byte = (c: string) => c.charCodeAt(0);

describe('reading COPY statements', () => {
  it('reads the table, the column list and where the data goes', () => {
    expect(copies('select 1; COPY customers TO STDOUT')).toEqual([null, {
      direction: 'to', endpoint: 'client', relation: { schema: null, name: 'customers' }, columns: null, options: [],
    }]);
    expect(one('copy Public."Customers" (Name, "E-mail") to stdout')).toMatchObject({
      relation: { schema: 'public', name: 'Customers' }, columns: ['name', 'E-mail'],
    });
    expect(one('copy (select * from customers) to stdout')).toMatchObject({ relation: null, columns: null, endpoint: 'client' });
    expect(one("copy customers to '/tmp/x'")).toMatchObject({ endpoint: 'file' });
    expect(one("copy customers to program 'cat'")).toMatchObject({ endpoint: 'program' });
    expect(one('copy customers from stdin')).toMatchObject({ direction: 'from', endpoint: 'client' });
  });

  it('reads the options in both the modern and the old syntax', () => {
    expect(one("copy t to stdout with (format csv, header, delimiter '|', null 'x', quote '''', escape '\\', force_quote (a), encoding 'UTF-8')").options).toEqual([
      { name: 'format', value: 'csv' }, { name: 'header', value: null }, { name: 'delimiter', value: '|' }, { name: 'null', value: 'x' },
      { name: 'quote', value: "'" }, { name: 'escape', value: '\\' }, { name: 'force_quote', value: null, items: ['a'] }, { name: 'encoding', value: 'UTF-8' },
    ]);
    expect(one('copy t to stdout csv header force quote *').options).toEqual([
      { name: 'format', value: 'csv' }, { name: 'header', value: 'true' }, { name: 'force_quote', value: '*' },
    ]);
    expect(one("copy t to stdout with delimiter as '|' null as 'n'").options).toEqual([{ name: 'delimiter', value: '|' }, { name: 'null', value: 'n' }]);
  });
});

describe('the wire format of COPY TO STDOUT', () => {
  it('uses the defaults of each format', () => {
    expect(copyOutFormat(one('copy t to stdout'))).toEqual({ ok: true, format: { kind: 'text', delimiter: byte('\t'), null: Buffer.from('\\N'), header: false }, forceQuote: [] });
    expect(copyOutFormat(one('copy t to stdout (format csv)'))).toEqual({
      ok: true, format: { kind: 'csv', delimiter: byte(','), quote: byte('"'), escape: byte('"'), null: Buffer.from(''), header: false }, forceQuote: [],
    });
  });

  it('applies the options given', () => {
    expect(copyOutFormat(one("copy t to stdout (delimiter '|', null 'NULL', header true)"))).toEqual({
      ok: true, format: { kind: 'text', delimiter: byte('|'), null: Buffer.from('NULL'), header: true }, forceQuote: [],
    });
    expect(copyOutFormat(one("copy t to stdout csv header quote '''' escape '\\' force quote *"))).toEqual({
      ok: true, format: { kind: 'csv', delimiter: byte(','), quote: byte("'"), escape: byte('\\'), null: Buffer.from(''), header: true }, forceQuote: '*',
    });
    expect(copyOutFormat(one('copy t to stdout (format csv, force_quote (a, "B"))'))).toMatchObject({ ok: true, forceQuote: ['a', 'B'] });
    expect(copyOutFormat(one("copy t to stdout (format csv, quote '''')"))).toMatchObject({ format: { quote: byte("'"), escape: byte("'") } });
    expect(copyOutFormat(one('copy t to stdout (header 0, freeze, encoding utf8)'))).toMatchObject({ ok: true, format: { header: false } });
    expect(copyOutFormat(one('copy t to stdout binary'))).toEqual({ ok: true, format: 'binary', forceQuote: [] });
  });

  it('does not guess at what it cannot read', () => {
    expect(copyOutFormat(one("copy t to stdout (encoding 'LATIN1')"))).toEqual({ ok: false, reason: 'airlock reads COPY data as UTF-8 only, not ENCODING LATIN1' });
    expect(copyOutFormat(one("copy t to stdout (format 'json')"))).toEqual({ ok: false, reason: 'airlock does not read COPY format json' });
    expect(copyOutFormat(one('copy t to stdout (on_error stop)'))).toEqual({ ok: false, reason: 'airlock does not read the COPY option ON_ERROR' });
    expect(copyOutFormat(one("copy t to stdout (delimiter '§')"))).toMatchObject({ ok: false, reason: 'airlock reads a COPY DELIMITER of one ASCII character only, not "§"' });
    expect(copyOutFormat(one("copy t to stdout (header 'match')"))).toMatchObject({ ok: false });
    expect(copyOutFormat(one("copy t to stdout (null 'a', null 'b')"))).toMatchObject({ ok: false, reason: 'the option NULL is given twice' });
  });
});
