/** gRPC status codes used on our streams (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

/** A call that ended with a non-OK status; `message` is meant for the person at the other end. */
export class GrpcCallError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
    this.name = 'GrpcCallError';
  }
}

/** grpc-message percent-encodes '%' and every byte outside printable ASCII, nothing else (gRPC HTTP/2 spec). */
export function encodeGrpcMessage(message: string): string {
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function decodeGrpcMessage(raw: string | string[] | undefined): string {
  if (raw === undefined) return '';
  const value = Array.isArray(raw) ? raw.join(',') : raw;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
