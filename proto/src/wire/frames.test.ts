import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { SessionRequestSchema, SessionResponseSchema } from '../gen/airlock/v1/agent_pb.js';
import { TunnelRequestSchema, TunnelResponseSchema } from '../gen/airlock/v1/client_pb.js';
import { ErrorCode } from '../gen/airlock/v1/common_pb.js';
import { dataFrameHeader, encodeCloseFrame, readCloseFrame, readDataFrame } from './data-frame.js';
import { FrameTooLargeError, frameMessage, GrpcFrameDecoder } from './grpc-frame.js';

function decodeAll(decoder: GrpcFrameDecoder, chunks: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (const chunk of chunks) {
    decoder.append(chunk);
    for (let m = decoder.next(); m; m = decoder.next()) out.push(Buffer.from(m));
  }
  return out;
}

describe('GrpcFrameDecoder', () => {
  const messages = [Buffer.from('hello'), Buffer.alloc(0), Buffer.alloc(70_000, 7), Buffer.from('tail')];
  const wire = Buffer.concat(messages.map((m) => frameMessage(m)));

  it('decodes the same messages whatever the split point', () => {
    for (let split = 0; split <= wire.length; split += split < 64 ? 1 : 997) {
      const got = decodeAll(new GrpcFrameDecoder(), [wire.subarray(0, split), wire.subarray(split)]);
      expect(got.map((m, i) => m.equals(messages[i]!))).toEqual([true, true, true, true]);
    }
  });

  it('decodes byte-by-byte and in 2-byte chunks', () => {
    const small = Buffer.concat([frameMessage(Buffer.from('a')), frameMessage(Buffer.from('bcd'))]);
    for (const size of [1, 2]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < small.length; i += size) chunks.push(small.subarray(i, i + size));
      expect(decodeAll(new GrpcFrameDecoder(), chunks).map(String)).toEqual(['a', 'bcd']);
    }
  });

  it('refuses a frame over the limit before buffering its body', () => {
    const decoder = new GrpcFrameDecoder(1024);
    decoder.append(frameMessage(Buffer.alloc(2048)).subarray(0, 5));
    expect(() => decoder.next()).toThrow(FrameTooLargeError);
  });

  it('hands back undecoded bytes still framed', () => {
    const decoder = new GrpcFrameDecoder();
    decoder.append(Buffer.concat([frameMessage(Buffer.from('first')), frameMessage(Buffer.from('second'))]));
    expect(String(decoder.next())).toBe('first');
    const rest = decoder.takeRemainder();
    expect(decodeAll(new GrpcFrameDecoder(), [rest]).map(String)).toEqual(['second']);
  });
});

describe('data frames', () => {
  it('encode exactly as protobuf-es does, for every data-carrying message', () => {
    for (const size of [0, 1, 127, 128, 16_383, 16_384, 65_536]) {
      const data = Buffer.alloc(size, 3);
      const handmade = Buffer.concat([dataFrameHeader(size), data]);
      for (const schema of [SessionRequestSchema, SessionResponseSchema, TunnelRequestSchema, TunnelResponseSchema]) {
        const viaLibrary = toBinary(schema, create(schema, { frame: { case: 'data', value: data } } as never));
        expect(handmade.subarray(5)).toEqual(Buffer.from(viaLibrary));
        expect(handmade.readUInt32BE(1)).toBe(viaLibrary.length);
      }
      expect(readDataFrame(handmade.subarray(5))).toEqual(data);
    }
  });

  it('share the close field across the four messages', () => {
    const close = Buffer.from(encodeCloseFrame({ code: ErrorCode.AGENT_OFFLINE, message: 'agent "a" is offline' }));
    for (const schema of [SessionRequestSchema, TunnelRequestSchema, TunnelResponseSchema]) {
      const decoded = fromBinary(schema, close) as { frame: { case: string; value: { error?: { message: string } } } };
      expect(decoded.frame.case).toBe('close');
      expect(decoded.frame.value.error?.message).toBe('agent "a" is offline');
    }
    expect(readCloseFrame(close)).toEqual({ error: { code: ErrorCode.AGENT_OFFLINE, message: 'agent "a" is offline' } });
    expect(readDataFrame(close)).toBeUndefined();
  });

  it('does not mistake a non-data message for data', () => {
    const open = toBinary(TunnelRequestSchema, create(TunnelRequestSchema, { frame: { case: 'open', value: { connection: 'demo' } } }));
    expect(readDataFrame(Buffer.from(open))).toBeUndefined();
    expect(readCloseFrame(Buffer.from(open))).toBeUndefined();
  });
});
