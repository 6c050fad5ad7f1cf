import { describe, expect, it } from 'vitest';
import { BackendScanner, rowsFromCommandTag, type BackendMessage } from './backend-scanner.js';
import * as ser from './serializer.js';
import { be, splits } from './test-support/wire-builders.js';
import { ProtocolViolation } from './wire.js';

const stream = Buffer.concat([
  be.authentication(0),
  ser.parameterStatus('server_version', '15.2'),
  ser.backendKeyData(77, -9),
  ser.readyForQuery('I'),
  be.parseComplete(),
  be.rowDescription([{ name: 'n', typeOid: 23 }, { name: 's', typeOid: 25 }]),
  be.dataRow(['1', 'a']),
  be.dataRow(['2', null]),
  be.commandComplete('SELECT 2'),
  ser.noticeResponse({ severity: 'NOTICE', code: '00000', message: 'hello' }),
  ser.errorResponse({ severity: 'ERROR', code: '42P01', message: 'relation "x" does not exist', detail: 'd', hint: 'h' }),
  be.emptyQuery(),
  be.portalSuspended(),
  be.copyInResponse(2),
  be.copyOutResponse(1),
  be.copyData('1\tx\n'),
  be.copyDone(),
  be.commandComplete('COPY 1'),
  ser.readyForQuery('T'),
]);

const relayView: BackendMessage[] = [
  { type: 'Authentication', code: 0, data: Buffer.alloc(0) },
  { type: 'ParameterStatus', name: 'server_version', value: '15.2' },
  { type: 'BackendKeyData', processId: 77, secretKey: -9 },
  { type: 'ReadyForQuery', status: 'I' },
  { type: 'CommandComplete', tag: 'SELECT 2', rows: 2 },
  { type: 'NoticeResponse', fields: { severity: 'NOTICE', code: '00000', message: 'hello', detail: '', hint: '' } },
  { type: 'ErrorResponse', fields: { severity: 'ERROR', code: '42P01', message: 'relation "x" does not exist', detail: 'd', hint: 'h' } },
  { type: 'EmptyQueryResponse' },
  { type: 'PortalSuspended' },
  { type: 'CopyInResponse', format: 0, columnCount: 2 },
  { type: 'CopyOutResponse', format: 0, columnCount: 1 },
  { type: 'CommandComplete', tag: 'COPY 1', rows: 1 },
  { type: 'ReadyForQuery', status: 'T' },
];

function scanAll(chunks: Buffer[], scanner: BackendScanner): BackendMessage[] {
  return chunks.flatMap((c) => scanner.push(c));
}

describe('BackendScanner', () => {
  it('decodes only what the relay needs, skipping DataRow and CopyData, however the stream is cut', () => {
    for (const [how, chunks] of splits(stream)) {
      const scanner = new BackendScanner();
      expect(scanAll(chunks, scanner), how).toEqual(relayView);
      expect(scanner.midMessage, how).toBe(false);
    }
  });

  it('decodes RowDescription and DataRow when asked (exec)', () => {
    for (const [how, chunks] of splits(stream)) {
      const rows = scanAll(chunks, new BackendScanner({ decodeRows: true })).filter((m) => m.type === 'RowDescription' || m.type === 'DataRow');
      expect(rows, how).toEqual([
        { type: 'RowDescription', columns: [{ name: 'n', typeOid: 23, tableOid: 0, attnum: 0, format: 0 }, { name: 's', typeOid: 25, tableOid: 0, attnum: 0, format: 0 }] },
        { type: 'DataRow', values: [Buffer.from('1'), Buffer.from('a')] },
        { type: 'DataRow', values: [Buffer.from('2'), null] },
      ]);
    }
  });

  it('skips a huge DataRow without buffering it, whatever the size limit', () => {
    const scanner = new BackendScanner({ maxMessageBytes: 1024 });
    const header = Buffer.from([0x44, 0x06, 0x00, 0x00, 0x00]); // 'D', length field 96 MiB (it counts itself)
    expect(scanner.push(header)).toEqual([]);
    const mib = Buffer.alloc(1024 * 1024); // the same chunk pushed again and again: nothing may be retained
    for (let i = 0; i < 95; i++) expect(scanner.push(mib)).toEqual([]);
    expect(scanner.midMessage).toBe(true);
    scanner.push(mib.subarray(4));
    expect(scanner.midMessage).toBe(false);
    expect(scanner.push(be.commandComplete('SELECT 1'))).toEqual([{ type: 'CommandComplete', tag: 'SELECT 1', rows: 1 }]);
  });

  it('rejects an over-size message it would have to buffer, from its header', () => {
    const scanner = new BackendScanner({ maxMessageBytes: 1024 });
    expect(() => scanner.push(Buffer.from([0x45, 0x00, 0x10, 0x00, 0x00]))).toThrow(
      new ProtocolViolation("server message 'E' of 1048577 bytes exceeds the limit of 1024 bytes"),
    );
  });

  it('rejects an invalid length', () => {
    expect(() => new BackendScanner().push(Buffer.from([0x43, 0, 0, 0, 1]))).toThrow(ProtocolViolation);
  });

  it.each([
    ['INSERT 0 5', 5], ['SELECT 3', 3], ['COPY 10', 10], ['UPDATE 0', 0], ['DELETE 7', 7], ['MERGE 2', 2],
    ['FETCH 4', 4], ['CREATE TABLE', undefined], ['BEGIN', undefined],
  ])('reads the row count of %s', (tag, rows) => {
    expect(rowsFromCommandTag(tag)).toBe(rows);
  });
});
