import { describe, expect, it } from 'vitest';
import { Masker } from '../../masking/index.js';
import { BackendScanner } from './backend-scanner.js';
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
