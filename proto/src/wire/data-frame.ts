/**
 * Hot-path codec for data frames. Every data-carrying message (TunnelRequest/Response,
 * SessionRequest/Response) keeps `bytes data = 1` and `StreamClose close = 3`, so one
 * codec serves all four and the control plane can relay frames without decoding them.
 * Encoding by hand avoids protobuf-es allocation per chunk; the bytes are identical.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { SessionResponseSchema } from '../gen/airlock/v1/agent_pb.js';
import type { StreamError } from '../gen/airlock/v1/common_pb.js';
import { FRAME_HEADER_BYTES } from './grpc-frame.js';

const DATA_FIELD_TAG = 0x0a; // field 1, wire type 2 (length-delimited)
const CLOSE_FIELD_TAG = 0x1a; // field 3, wire type 2

/**
 * The largest data payload put in one frame; socket reads rarely exceed 64 KiB anyway.
 * AIRLOCK_DATA_FRAME_BYTES overrides it for benchmarks (16 KiB to 1 MiB).
 */
export const MAX_DATA_FRAME_BYTES = tunable('AIRLOCK_DATA_FRAME_BYTES', 64 * 1024, 16 * 1024, 1024 * 1024);

/** A size from the environment within [min, max], else the default: tuning knobs must not become foot-guns. */
export function tunable(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const value = raw === undefined ? NaN : Number(raw);
  return Number.isInteger(value) && value >= min && value <= max ? value : fallback;
}

function varintLength(value: number): number {
  let bytes = 1;
  while (value >= 0x80) {
    value >>>= 7;
    bytes++;
  }
  return bytes;
}

/** gRPC prefix + protobuf tag + length for a data frame whose payload follows. */
export function dataFrameHeader(dataLength: number): Buffer {
  const lengthBytes = varintLength(dataLength);
  const messageLength = 1 + lengthBytes + dataLength;
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 1 + lengthBytes);
  header[0] = 0;
  header.writeUInt32BE(messageLength, 1);
  header[FRAME_HEADER_BYTES] = DATA_FIELD_TAG;
  let value = dataLength;
  let offset = FRAME_HEADER_BYTES + 1;
  while (value >= 0x80) {
    header[offset++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  header[offset] = value;
  return header;
}

/** The data bytes of a message payload when it is a data frame, without copying. */
export function readDataFrame(payload: Buffer): Buffer | undefined {
  if (payload.length === 0 || payload[0] !== DATA_FIELD_TAG) return undefined;
  let length = 0;
  let shift = 0;
  let offset = 1;
  for (;;) {
    if (offset >= payload.length || shift > 28) return undefined;
    const byte = payload[offset++]!;
    length |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) break;
    shift += 7;
  }
  if (offset + length !== payload.length) return undefined;
  return payload.subarray(offset);
}

export type CloseFrame = { error?: { code: number; message: string } };

/** The StreamClose of a payload when it is a close frame. */
export function readCloseFrame(payload: Buffer): CloseFrame | undefined {
  if (payload.length === 0 || payload[0] !== CLOSE_FIELD_TAG) return undefined;
  const message = fromBinary(SessionResponseSchema, payload);
  if (message.frame.case !== 'close') return undefined;
  const error = message.frame.value.error;
  return error ? { error: { code: error.code, message: error.message } } : {};
}

export function encodeCloseFrame(error?: Pick<StreamError, 'code' | 'message'>): Uint8Array {
  return toBinary(
    SessionResponseSchema,
    create(SessionResponseSchema, {
      frame: { case: 'close', value: { error: error ? { code: error.code, message: error.message } : undefined } },
    }),
  );
}
