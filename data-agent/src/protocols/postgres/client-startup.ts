/**
 * The client's side of connection startup: answer SSL/GSSENC requests with 'N' (the tunnel is already
 * encrypted) and read the StartupMessage or CancelRequest. The client never authenticates to us here:
 * the person was authenticated by the CLI token before the tunnel opened.
 */
import type { Duplex } from 'node:stream';
import type { FrontendFrame, FrontendParser } from './frontend-parser.js';
import { SSL_REFUSED } from './serializer.js';
import { ProtocolViolation } from './wire.js';

export type ClientStartup =
  | { kind: 'startup'; params: Record<string, string>; /** frames sent after the StartupMessage */ pipelined: FrontendFrame[] }
  | { kind: 'cancel'; processId: number; secretKey: number }
  | { kind: 'violation'; violation: ProtocolViolation }
  | { kind: 'closed' };

/** Reads the startup phase; leaves the client paused. Bytes counted go through onBytes. */
export function readClientStartup(client: Duplex, parser: FrontendParser, onBytes: (n: number) => void, signal: AbortSignal): Promise<ClientStartup> {
  return new Promise((resolve) => {
    const done = (result: ClientStartup) => {
      client.off('data', onData);
      client.off('end', onClosed);
      client.off('close', onClosed);
      client.off('error', onClosed);
      signal.removeEventListener('abort', onClosed);
      client.pause();
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      onBytes(chunk.length);
      const { frames, violation } = parser.push(chunk);
      for (let i = 0; i < frames.length; i++) {
        const msg = frames[i]!.message;
        if (msg.type === 'SSLRequest' || msg.type === 'GSSENCRequest') client.write(SSL_REFUSED);
        else if (msg.type === 'CancelRequest') return done({ kind: 'cancel', processId: msg.processId, secretKey: msg.secretKey });
        else if (msg.type === 'StartupMessage') {
          if (violation) return done({ kind: 'violation', violation });
          return done({ kind: 'startup', params: msg.params, pipelined: frames.slice(i + 1) });
        } else return done({ kind: 'violation', violation: unexpected(msg.type) });
      }
      if (violation) done({ kind: 'violation', violation });
    };
    const onClosed = () => done({ kind: 'closed' });
    client.on('data', onData);
    client.once('end', onClosed);
    client.once('close', onClosed);
    client.once('error', onClosed);
    if (signal.aborted) onClosed();
    else signal.addEventListener('abort', onClosed, { once: true });
    client.resume();
  });
}

function unexpected(type: string): ProtocolViolation {
  // Only startup-phase messages decode before StartupMessage; this guards the parser's phase logic.
  return new ProtocolViolation(`unexpected ${type} before StartupMessage`);
}

/** Client-supplied encodings whose multibyte characters can contain ASCII quote/backslash bytes. */
const UNSAFE_CLIENT_ENCODINGS = new Set(['big5', 'gbk', 'gb18030', 'sjis', 'shift_jis_2004', 'johab', 'uhc']);

/** Startup parameters the client may choose. user, database, options and replication never pass. */
const CLIENT_PARAMS = new Set(['application_name', 'client_encoding', 'datestyle', 'timezone', 'extra_float_digits', 'intervalstyle']);

/**
 * Keeps the harmless parameters of the client's StartupMessage. The target's user and database are set
 * by the caller; an encoding that would let the server split a string differently from the agent's
 * SQL parser is dropped (the server default applies).
 */
export function clientStartupParams(params: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    const key = name.toLowerCase();
    if (!CLIENT_PARAMS.has(key)) continue;
    if (key === 'client_encoding' && UNSAFE_CLIENT_ENCODINGS.has(value.toLowerCase().replace(/-/g, '_'))) continue;
    out[name] = value;
  }
  return out;
}
