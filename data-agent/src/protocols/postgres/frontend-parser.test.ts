import { describe, expect, it } from 'vitest';
import { FrontendParser, type FrontendMessage } from './frontend-parser.js';
import * as ser from './serializer.js';
import { fe, splits } from './test-support/wire-builders.js';
import { ProtocolViolation } from './wire.js';

const session = Buffer.concat([
  ser.sslRequest(),
  fe.gssEncRequest(),
  ser.startupMessage({ user: 'alice', database: 'shop', application_name: 'psql' }),
  ser.query('select 1; select \'é\''),
  fe.parse('s1', 'select $1::int', [23]),
  fe.bind('', 's1', ['42', null]),
  fe.describe('P', ''),
  fe.execute('', 100),
  fe.sync(),
  fe.flush(),
  fe.copyData('1\tone\n'),
  fe.copyDone(),
  ser.copyFail('stop'),
  fe.close('S', 's1'),
  ser.passwordMessage('ignored'),
  ser.terminate(),
]);

const expected: FrontendMessage[] = [
  { type: 'SSLRequest' },
  { type: 'GSSENCRequest' },
  { type: 'StartupMessage', protocolVersion: 196608, params: { user: 'alice', database: 'shop', application_name: 'psql' } },
  { type: 'Query', sql: "select 1; select 'é'" },
  { type: 'Parse', name: 's1', sql: 'select $1::int', paramTypes: [23] },
  { type: 'Bind', portal: '', statement: 's1', paramCount: 2 },
  { type: 'Describe', kind: 'P', name: '' },
  { type: 'Execute', portal: '', maxRows: 100 },
  { type: 'Sync' },
  { type: 'Flush' },
  { type: 'CopyData', data: Buffer.from('1\tone\n') },
  { type: 'CopyDone' },
  { type: 'CopyFail', message: 'stop' },
  { type: 'Close', kind: 'S', name: 's1' },
  { type: 'PasswordMessage', data: Buffer.from('ignored\0') },
  { type: 'Terminate' },
];

function parseAll(chunks: Buffer[], parser = new FrontendParser()) {
  const messages: FrontendMessage[] = [];
  const raws: Buffer[] = [];
  for (const c of chunks) {
    const { frames, violation } = parser.push(c);
    if (violation) throw violation;
    for (const f of frames) {
      messages.push(f.message);
      raws.push(f.raw);
    }
  }
  return { messages, raw: Buffer.concat(raws), parser };
}

describe('FrontendParser', () => {
  it('decodes every message and returns the exact raw bytes, however the stream is cut', () => {
    for (const [how, chunks] of splits(session)) {
      const { messages, raw, parser } = parseAll(chunks);
      expect(messages, how).toEqual(expected);
      expect(raw.equals(session), how).toBe(true);
      expect(parser.bufferedBytes, how).toBe(0);
      expect(parser.end(), how).toBeUndefined();
    }
  });

  it('returns subarrays of the chunk (no copy) when a chunk holds whole messages', () => {
    const parser = new FrontendParser();
    parser.push(ser.startupMessage({ user: 'a' }));
    const chunk = Buffer.concat([ser.query('select 1'), fe.sync()]);
    const { frames } = parser.push(chunk);
    expect(frames.map((f) => f.raw.buffer === chunk.buffer)).toEqual([true, true]);
  });

  it('rejects an over-size tagged message from its header, before buffering its body', () => {
    const parser = new FrontendParser({ maxMessageBytes: 1024 });
    parser.push(ser.startupMessage({ user: 'a' }));
    const header = Buffer.from([0x51, 0x00, 0x10, 0x00, 0x00]); // 'Q', 1 MiB
    const { violation } = parser.push(header.subarray(0, 3));
    expect(violation).toBeUndefined();
    const result = parser.push(header.subarray(3));
    expect(result.violation).toBeInstanceOf(ProtocolViolation);
    expect(result.violation?.message).toBe("message type 'Q' (0x51) of 1048577 bytes exceeds the limit of 1024 bytes");
    expect(parser.bufferedBytes).toBeLessThanOrEqual(5);
  });

  it('rejects an over-size startup packet (default limit 10 KiB)', () => {
    const { violation } = new FrontendParser().push(Buffer.from([0, 0, 0x50, 0]));
    expect(violation?.message).toBe('startup packet of 20480 bytes exceeds the limit of 10240 bytes');
  });

  const started = () => {
    const p = new FrontendParser();
    p.push(ser.startupMessage({ user: 'a' }));
    return p;
  };

  it.each([
    ['an unknown tag', Buffer.from([0x01, 0, 0, 0, 4]), "unknown message type (0x01)"],
    ['a length below 4', Buffer.from([0x51, 0, 0, 0, 3]), "invalid length 3 for message type 'Q' (0x51)"],
    ['a Query without NUL', Buffer.from([0x51, 0, 0, 0, 6, 0x61, 0x62]), 'Query: string is not NUL-terminated'],
    ['a Sync with a body', Buffer.from([0x53, 0, 0, 0, 5, 0]), 'Sync: 1 unexpected trailing byte(s)'],
    ['a Describe of an unknown kind', Buffer.from([0x44, 0, 0, 0, 6, 0x58, 0]), "Describe: invalid target kind 'X'"],
    ['a truncated Bind', Buffer.from([0x42, 0, 0, 0, 8, 0, 0, 0, 1]), 'Bind: message is truncated'],
  ])('gives a ProtocolViolation for %s', (_what, bytes, message) => {
    const parser = started();
    const { violation } = parser.push(bytes);
    expect(violation).toBeInstanceOf(ProtocolViolation);
    expect(violation?.message).toBe(message);
    expect(parser.push(ser.query('select 1')).violation).toBe(violation); // a failed stream stays failed
  });

  it.each([
    ['a startup length below 8', Buffer.from([0, 0, 0, 4]), 'invalid startup packet length 4'],
    ['protocol 2.0', Buffer.from([0, 0, 0, 8, 0, 2, 0, 0]), 'unsupported frontend protocol 2.0: only 3.0 is supported'],
    ['bytes after a CancelRequest', Buffer.concat([ser.cancelRequest(1, 2), Buffer.from([0])]), 'unexpected bytes after CancelRequest'],
  ])('rejects %s in the startup phase', (_what, bytes, message) => {
    expect(new FrontendParser().push(bytes).violation?.message).toBe(message);
  });

  it('reports a stream that ends mid-frame', () => {
    const parser = started();
    parser.push(ser.query('select 1').subarray(0, 7));
    expect(parser.end()?.message).toBe('connection closed in the middle of a message (7 byte(s) received)');
  });

  it('decodes a CancelRequest', () => {
    const { frames } = new FrontendParser().push(ser.cancelRequest(1234, -5));
    expect(frames[0]?.message).toEqual({ type: 'CancelRequest', processId: 1234, secretKey: -5 });
  });
});
