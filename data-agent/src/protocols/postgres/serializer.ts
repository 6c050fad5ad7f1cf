/**
 * Builders for the messages the agent writes itself: to the client (it terminates the client's login)
 * and to the server (it logs in with the agent-held credential). Everything else is forwarded raw.
 */
import { CANCEL_REQUEST_CODE, PROTOCOL_3_0, SSL_REQUEST_CODE } from './frontend-parser.js';
import { MessageWriter } from './wire.js';

export interface ErrorFieldsInput {
  /** ERROR, FATAL, WARNING, NOTICE... */
  severity: string;
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

// ---- to the client ----

/** The answer to SSLRequest / GSSENCRequest: the tunnel is already encrypted, so the client gets plain text. */
export const SSL_REFUSED = Buffer.from('N');

export function authenticationOk(): Buffer {
  return new MessageWriter('R').int32(0).finish();
}

export function parameterStatus(name: string, value: string): Buffer {
  return new MessageWriter('S').cstring(name).cstring(value).finish();
}

export function backendKeyData(processId: number, secretKey: number): Buffer {
  return new MessageWriter('K').int32(processId).int32(secretKey).finish();
}

export function readyForQuery(status: 'I' | 'T' | 'E' | string = 'I'): Buffer {
  return new MessageWriter('Z').byte(status.charCodeAt(0)).finish();
}

export function errorResponse(fields: ErrorFieldsInput): Buffer {
  return noticeLike('E', fields);
}

export function noticeResponse(fields: ErrorFieldsInput): Buffer {
  return noticeLike('N', fields);
}

function noticeLike(tag: 'E' | 'N', f: ErrorFieldsInput): Buffer {
  const w = new MessageWriter(tag);
  w.byte(0x53).cstring(f.severity); // S: localized severity
  w.byte(0x56).cstring(f.severity); // V: non-localized severity (clients match on this one)
  w.byte(0x43).cstring(f.code);
  w.byte(0x4d).cstring(f.message);
  if (f.detail) w.byte(0x44).cstring(f.detail);
  if (f.hint) w.byte(0x48).cstring(f.hint);
  return w.byte(0).finish();
}

// ---- to the server ----

export function startupMessage(params: Record<string, string>): Buffer {
  const w = new MessageWriter().int32(PROTOCOL_3_0);
  for (const [name, value] of Object.entries(params)) w.cstring(name).cstring(value);
  return w.byte(0).finish();
}

export function sslRequest(): Buffer {
  return new MessageWriter().int32(SSL_REQUEST_CODE).finish();
}

export function cancelRequest(processId: number, secretKey: number): Buffer {
  return new MessageWriter().int32(CANCEL_REQUEST_CODE).int32(processId).int32(secretKey).finish();
}

/** Cleartext or md5 password (the md5 form is already hashed by the caller). */
export function passwordMessage(password: string): Buffer {
  return new MessageWriter('p').cstring(password).finish();
}

export function saslInitialResponse(mechanism: string, data: Buffer): Buffer {
  return new MessageWriter('p').cstring(mechanism).int32(data.length).bytes(data).finish();
}

export function saslResponse(data: Buffer): Buffer {
  return new MessageWriter('p').bytes(data).finish();
}

export function query(sql: string): Buffer {
  return new MessageWriter('Q').cstring(sql).finish();
}

export function terminate(): Buffer {
  return new MessageWriter('X').finish();
}

export function copyFail(message: string): Buffer {
  return new MessageWriter('f').cstring(message).finish();
}
