/** Small builders for messages the agent never writes itself, for codec tests. */
import { MessageWriter } from '../wire.js';

export const fe = {
  parse: (name: string, sql: string, types: number[] = []) => {
    const w = new MessageWriter('P').cstring(name).cstring(sql).int16(types.length);
    for (const t of types) w.int32(t);
    return w.finish();
  },
  bind: (portal: string, statement: string, params: (string | null)[]) => {
    const w = new MessageWriter('B').cstring(portal).cstring(statement).int16(0).int16(params.length);
    for (const p of params) {
      if (p === null) w.int32(-1);
      else w.int32(Buffer.byteLength(p)).bytes(Buffer.from(p));
    }
    return w.int16(0).finish();
  },
  execute: (portal: string, maxRows = 0) => new MessageWriter('E').cstring(portal).int32(maxRows).finish(),
  describe: (kind: 'S' | 'P', name: string) => new MessageWriter('D').byte(kind.charCodeAt(0)).cstring(name).finish(),
  close: (kind: 'S' | 'P', name: string) => new MessageWriter('C').byte(kind.charCodeAt(0)).cstring(name).finish(),
  sync: () => new MessageWriter('S').finish(),
  flush: () => new MessageWriter('H').finish(),
  copyData: (data: string) => new MessageWriter('d').bytes(Buffer.from(data)).finish(),
  copyDone: () => new MessageWriter('c').finish(),
  gssEncRequest: () => new MessageWriter().int32(80877104).finish(),
};

export const be = {
  authentication: (code: number, data: Buffer = Buffer.alloc(0)) => new MessageWriter('R').int32(code).bytes(data).finish(),
  rowDescription: (cols: { name: string; typeOid: number }[]) => {
    const w = new MessageWriter('T').int16(cols.length);
    for (const c of cols) w.cstring(c.name).int32(0).int16(0).int32(c.typeOid).int16(-1).int32(-1).int16(0);
    return w.finish();
  },
  dataRow: (values: (string | null)[]) => {
    const w = new MessageWriter('D').int16(values.length);
    for (const v of values) {
      if (v === null) w.int32(-1);
      else w.int32(Buffer.byteLength(v)).bytes(Buffer.from(v));
    }
    return w.finish();
  },
  commandComplete: (tag: string) => new MessageWriter('C').cstring(tag).finish(),
  emptyQuery: () => new MessageWriter('I').finish(),
  portalSuspended: () => new MessageWriter('s').finish(),
  copyInResponse: (cols: number) => new MessageWriter('G').byte(0).int16(cols).bytes(Buffer.alloc(cols * 2)).finish(),
  copyOutResponse: (cols: number) => new MessageWriter('H').byte(0).int16(cols).bytes(Buffer.alloc(cols * 2)).finish(),
  copyData: (data: string) => new MessageWriter('d').bytes(Buffer.from(data)).finish(),
  copyDone: () => new MessageWriter('c').finish(),
  parseComplete: () => new MessageWriter('1').finish(),
};

/** Every way of cutting `bytes` in two, plus 1- and 2-byte chunks. */
export function* splits(bytes: Buffer): Generator<[string, Buffer[]]> {
  yield ['whole', [bytes]];
  for (let i = 1; i < bytes.length; i++) yield [`split at ${i}`, [bytes.subarray(0, i), bytes.subarray(i)]];
  for (const size of [1, 2]) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
    yield [`${size}-byte chunks`, chunks];
  }
}
