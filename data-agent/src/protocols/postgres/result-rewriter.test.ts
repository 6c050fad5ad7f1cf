import { loadModule } from 'libpg-query';
import { beforeAll, describe, expect, it } from 'vitest';
import { Masker } from '../../masking/index.js';
import { parseAndAnalyze } from '../../policy/sql/parse-sql.js';
import { BackendScanner } from './backend-scanner.js';
import type { CopyRelation, CopyStatementReader } from './copy-out-plan.js';
import { ResultRewriter, type ColumnResolver, type TableColumns } from './result-rewriter.js';
import { be, splits } from './test-support/wire-builders.js';
import { readyForQuery } from './serializer.js';
import { MessageWriter } from './wire.js';

const masker = new Masker([
  { columns: ['customers.email'], mode: { kind: 'redact' } },
  { detect: ['card'], mode: { kind: 'keep-last', keep: 4 } },
], Buffer.from('k'));

const CUSTOMERS = 16384;
const resolver: ColumnResolver = {
  resolve: async (oids) => new Map<number, TableColumns>(
    oids.filter((o) => o === CUSTOMERS).map((o) => [o, { schema: 'public', table: 'customers', columns: new Map([[1, 'id'], [2, 'email']]) }]),
  ),
};
const failing: ColumnResolver = { resolve: async () => Promise.reject(new Error('catalog unreachable')) };

function rowDescription(cols: { name: string; tableOid: number; attnum: number; typeOid?: number; format?: number }[]): Buffer {
  const w = new MessageWriter('T').int16(cols.length);
  for (const c of cols) w.cstring(c.name).int32(c.tableOid).int16(c.attnum).int32(c.typeOid ?? 25).int16(-1).int32(-1).int16(c.format ?? 0);
  return w.finish();
}

async function run(rewriter: ResultRewriter, chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for (const chunk of chunks) out.push(...(await rewriter.push(chunk)));
  return Buffer.concat(out);
}

const description = rowDescription([{ name: 'id', tableOid: CUSTOMERS, attnum: 1 }, { name: 'email', tableOid: CUSTOMERS, attnum: 2 }, { name: 'note', tableOid: 0, attnum: 0 }]);
const stream = Buffer.concat([
  description,
  be.dataRow(['1', 'jane@example.com', 'card 4111 1111 1111 1111']),
  be.dataRow(['2', null, 'nothing here']),
  be.commandComplete('SELECT 2'),
  readyForQuery('I'),
]);

describe('ResultRewriter', () => {
  it('masks DataRow values with correct lengths, however the stream is split, and leaves the rest as it was', async () => {
    const expected = Buffer.concat([
      description,
      be.dataRow(['1', '****', 'card ***************1111']),
      be.dataRow(['2', null, 'nothing here']),
      be.commandComplete('SELECT 2'),
      readyForQuery('I'),
    ]);
    for (const [how, chunks] of splits(stream)) {
      expect((await run(new ResultRewriter(masker, resolver), chunks)).equals(expected), how).toBe(true);
    }
    const scanned = new BackendScanner({ decodeRows: true }).push(expected);
    expect(scanned.map((m) => m.type)).toEqual(['RowDescription', 'DataRow', 'DataRow', 'CommandComplete', 'ReadyForQuery']);
  });

  it('passes a row that masking does not change as the very same bytes', async () => {
    const rewriter = new ResultRewriter(masker, resolver);
    const row = be.dataRow(['2', null, 'nothing here']);
    await rewriter.push(description);
    const [out] = await rewriter.push(row);
    expect(out!.buffer).toBe(row.buffer);
  });

  it('masks every column a rule could select when the catalog cannot be read', async () => {
    const errors: string[] = [];
    const rewriter = new ResultRewriter(masker, failing, { onResolveError: (e) => errors.push(e.message) });
    const out = await run(rewriter, [stream]);
    expect(out.includes(be.dataRow(['****', '****', 'card ***************1111']))).toBe(true);
    expect(errors).toEqual(['catalog unreachable']);
  });

  it('fails closed on binary values of a masked column and on rows without a description, until ReadyForQuery', async () => {
    const binary = Buffer.concat([
      rowDescription([{ name: 'email', tableOid: CUSTOMERS, attnum: 2, format: 1 }]),
      be.dataRow(['jane@example.com']), be.commandComplete('SELECT 1'), readyForQuery('I'),
    ]);
    const out = (await run(new ResultRewriter(masker, resolver), [binary])).toString('latin1');
    expect(out).toContain('42501');
    expect(out).toContain('column "email" is masked by policy and cannot be sent in binary format');
    expect(out).not.toContain('jane');
    expect(out.endsWith(readyForQuery('I').toString('latin1'))).toBe(true);

    const undescribed = (await run(new ResultRewriter(masker, resolver), [Buffer.concat([be.dataRow(['x']), readyForQuery('I')])])).toString('latin1');
    expect(undescribed).toContain('masking needs the description of every result');
  });
});

describe('ResultRewriter on COPY TO STDOUT', () => {
  beforeAll(async () => {
    await loadModule();
  });

  /** The session's statement reader, with the real parser (as the policy gate reads them). */
  const reader = (searchPathIsDefault = true): CopyStatementReader => ({
    readCopyStatements: async (sql) => {
      const outcome = parseAndAnalyze(sql);
      return outcome.ok ? outcome.statements.map((s) => s.copy ?? null) : undefined;
    },
    searchPathIsDefault: () => searchPathIsDefault,
  });
  const catalog: ColumnResolver = {
    ...resolver,
    copyTable: async (relation: CopyRelation) => {
      if (relation.name === 'scratch') return { found: false, temporaryExists: true };
      if (relation.name !== 'customers' || (relation.schema ?? 'public') !== 'public') return { found: false, temporaryExists: false };
      return { found: true, schema: 'public', table: 'customers', columns: ['id', 'email', 'note'], temporaryExists: false };
    },
  };

  function copyOut(columns: number, format = 0): Buffer {
    return new MessageWriter('H').byte(format).int16(columns).bytes(Buffer.alloc(columns * 2, 0)).finish();
  }
  const copyResult = (rows: string[], tag = `COPY ${rows.length}`) =>
    Buffer.concat([copyOut(3), ...rows.map((r) => be.copyData(r)), be.copyDone(), be.commandComplete(tag), readyForQuery('I')]);

  function rewriterFor(sql: string, options: { masking?: Masker; searchPathIsDefault?: boolean } = {}): ResultRewriter {
    const r = new ResultRewriter(options.masking ?? masker, catalog, { statements: reader(options.searchPathIsDefault) });
    r.onClient({ type: 'Query', sql });
    return r;
  }

  it('masks the columns a rule selects, field by field, in text format, however the stream is split', async () => {
    const rows = ['1\tjane@example.com\tcard 4111 1111 1111 1111\n', '2\t\\N\tnothing here\n', '3\ta\\tb\\\\c@example.com\tx\n'];
    const expected = copyResult(['1\t****\tcard ***************1111\n', '2\t\\N\tnothing here\n', '3\t****\tx\n'], 'COPY 3');
    for (const [how, chunks] of splits(copyResult(rows))) {
      expect((await run(rewriterFor('COPY customers TO STDOUT'), chunks)).equals(expected), how).toBe(true);
    }
  });

  it('passes rows masking leaves alone as the very same bytes', async () => {
    const r = rewriterFor('copy public.customers (id, note) to stdout');
    const stream = Buffer.concat([new MessageWriter('H').byte(0).int16(2).int16(0).int16(0).finish(), be.copyData('2\tnothing here\n')]);
    const out = await r.push(stream);
    expect(Buffer.concat(out).equals(stream)).toBe(true);
  });

  it('masks CSV with a header, quotes, embedded delimiters and newlines, keeping quoting as Postgres chose it', async () => {
    const rows = ['email,note\n', '"jane@example.com","a, ""quoted""\nnote"\n', ',"4111 1111 1111 1111"\n'];
    const stream = Buffer.concat([new MessageWriter('H').byte(0).int16(2).int16(0).int16(0).finish(), ...rows.map((r) => be.copyData(r)), be.copyDone(), be.commandComplete('COPY 2'), readyForQuery('I')]);
    const out = await run(rewriterFor('COPY customers (email, note) TO STDOUT WITH (FORMAT csv, HEADER, FORCE_QUOTE *)'), [stream]);
    const copied = new BackendScanner({}).push(out).map((m) => m.type);
    expect(copied).toEqual(['CopyOutResponse', 'CommandComplete', 'ReadyForQuery']);
    expect(out.toString()).toContain('email,note\n');
    expect(out.toString()).toContain('"****","a, ""quoted""\nnote"\n');
    expect(out.toString()).toContain(',"***************1111"\n');
  });

  it('waits for the end of a row that spans CopyData messages, and refuses data that ends mid-row', async () => {
    const split = Buffer.concat([copyOut(3), be.copyData('1\tjane@exa'), be.copyData('mple.com\tn\n2\t'), be.copyData('\\N\tm\n'), be.copyDone(), be.commandComplete('COPY 2'), readyForQuery('I')]);
    const out = await run(rewriterFor('copy customers to stdout'), [split]);
    // Complete rows go on at once; the beginning of row 2 waits for its end.
    expect(new BackendScanner({}).push(out).map((m) => m.type)).toEqual(['CopyOutResponse', 'CommandComplete', 'ReadyForQuery']);
    expect(out.includes(be.copyData('1\t****\tn\n'))).toBe(true);
    expect(out.includes(be.copyData('2\t\\N\tm\n'))).toBe(true);
    expect(out.toString()).not.toContain('jane');
    const cut = Buffer.concat([copyOut(3), be.copyData('1\tjane@exa'), be.copyDone(), be.commandComplete('COPY 1'), readyForQuery('I')]);
    const refused = (await run(rewriterFor('copy customers to stdout'), [cut])).toString();
    expect(refused).toContain('airlock: the COPY data ended in the middle of a row, so it cannot be masked');
    expect(refused).not.toContain('jane');
  });

  it('pairs the COPY with its statement in a multi-statement query', async () => {
    const stream = Buffer.concat([be.rowDescription([{ name: 'x', typeOid: 25 }]), be.dataRow(['a@example.com']), be.commandComplete('SELECT 1'), copyResult(['1\tjane@example.com\tn\n'])]);
    const out = (await run(rewriterFor("select 'a@example.com' as x; copy customers to stdout"), [stream])).toString();
    expect(out).toContain('1\t****\tn\n');
    expect(out).not.toContain('jane');
  });

  it.each([
    ['copy (select email from customers) to stdout', 'airlock: COPY (query) TO STDOUT cannot be masked by column, as its columns cannot be named from the statement; run the query as a SELECT instead'],
    ['copy scratch to stdout', 'airlock: COPY TO STDOUT of "scratch" cannot be masked by column: a temporary table of that name exists and may hide it; name it as schema.table; use SELECT to read masked tables'],
    ['copy other.customers to stdout', 'airlock: COPY TO STDOUT of "other.customers" cannot be masked by column: airlock\'s catalog connection does not see that table (temporary, or not committed yet); use SELECT to read masked tables'],
    ['copy customers (id, email) to stdout', 'airlock: COPY TO STDOUT of "customers" cannot be masked by column: airlock names 2 columns but the server sends 3; use SELECT to read masked tables'],
    ["copy customers to stdout (encoding 'latin1')", 'airlock: COPY TO STDOUT cannot be masked by column: airlock reads COPY data as UTF-8 only, not ENCODING latin1; use SELECT to read masked tables'],
  ])('refuses %s with 42501 and drops the data up to ReadyForQuery', async (sql, message) => {
    const out = await run(rewriterFor(sql), [copyResult(['1\tjane@example.com\tn\n'])]);
    const messages = new BackendScanner({}).push(out);
    expect(messages.map((m) => m.type)).toEqual(['ErrorResponse', 'ReadyForQuery']);
    expect(messages[0]).toMatchObject({ fields: { code: '42501', message } });
    expect(out.toString()).not.toContain('jane');
  });

  it('refuses an unqualified table once search_path may have changed, and binary COPY', async () => {
    const out = (await run(rewriterFor('copy customers to stdout', { searchPathIsDefault: false }), [copyResult(['1\tjane@example.com\tn\n'])])).toString();
    expect(out).toContain('the session changed search_path, so which table the unqualified name means is not known; name it as schema.table');
    const binary = Buffer.concat([copyOut(3, 1), be.copyData('PGCOPY'), be.copyDone(), be.commandComplete('COPY 1'), readyForQuery('I')]);
    const refused = (await run(rewriterFor('copy customers to stdout binary'), [binary])).toString();
    expect(refused).toContain('airlock: binary COPY cannot be masked; use COPY ... TO STDOUT in text or CSV format');
    expect(refused).not.toContain('PGCOPY');
  });

  it('pairs COPY of the extended protocol with its Parse', async () => {
    const r = new ResultRewriter(masker, catalog, { statements: reader() });
    for (const m of [{ type: 'Parse', name: '', sql: 'copy customers to stdout', paramTypes: [] }, { type: 'Bind', portal: '', statement: '', paramCount: 0 },
      { type: 'Execute', portal: '', maxRows: 0 }, { type: 'Sync' }] as const) r.onClient(m);
    const out = (await run(r, [Buffer.concat([be.parseComplete(), new MessageWriter('2').finish(), copyResult(['1\tjane@example.com\tn\n'])])])).toString();
    expect(out).toContain('1\t****\tn\n');
  });

  it('with content rules only, masks every field of any COPY, and whole lines when the statement cannot be read', async () => {
    const detectOnly = new Masker([{ detect: ['email'], mode: { kind: 'redact' } }], Buffer.from('k'));
    const viaQuery = (await run(rewriterFor('copy (select 1, 2, 3) to stdout', { masking: detectOnly }), [copyResult(['1\tjane@example.com\tn\n'])])).toString();
    expect(viaQuery).toContain('1\t****\tn\n');
    const unread = new ResultRewriter(detectOnly, resolver);
    unread.onClient({ type: 'Query', sql: 'copy customers to stdout' });
    expect((await run(unread, [copyResult(['1\tjane@example.com\tn\n'])])).toString()).toContain('1\t****\tn\n');
  });
});
