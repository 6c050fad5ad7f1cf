/**
 * The transport to the target: TCP connect, then the SSLRequest negotiation per tlsMode (disable /
 * prefer / require / verify-full), shared by login and by CancelRequest forwarding.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { ConnectionTarget } from '../engine.js';
import * as ser from './serializer.js';

export const DEFAULT_TIMEOUT_MS = 15_000;
export type UpstreamErrorKind = 'unreachable' | 'tls' | 'secret' | 'auth' | 'server' | 'protocol' | 'aborted';

/** Why the agent could not log in upstream. `reason` is one readable sentence without secrets. */
export class UpstreamError extends Error {
  constructor(
    readonly kind: UpstreamErrorKind,
    readonly reason: string,
    /** SQLSTATE to show the client: the server's own code when the server refused us. */
    readonly sqlstate: string,
    /** For 'unreachable': the low-level cause alone (`connect ECONNREFUSED 127.0.0.1:5999`). */
    readonly detail = reason,
  ) {
    super(reason);
    this.name = 'UpstreamError';
  }
}

export type TlsMode = ConnectionTarget['tlsMode'];

/** Where to connect; the cancel path uses this without a full target. */
export interface UpstreamEndpoint {
  host: string;
  port: number;
  tlsMode: TlsMode;
}

/** TCP connect plus the SSLRequest negotiation. The returned socket is paused. */
export async function openUpstreamSocket(endpoint: UpstreamEndpoint, signal?: AbortSignal): Promise<{ socket: net.Socket; tls: boolean }> {
  const where = `${endpoint.host}:${endpoint.port}`;
  const plain = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host: endpoint.host, port: endpoint.port });
    const fail = (err: Error) => {
      s.destroy();
      reject(new UpstreamError('unreachable', `cannot reach target ${where}: ${err.message}`, '08001', err.message));
    };
    const stopAbort = onAbort(signal, () => fail(new Error(abortReason(signal))));
    s.once('error', fail);
    s.once('connect', () => {
      stopAbort();
      s.off('error', fail);
      s.setNoDelay(true);
      s.setKeepAlive(true, 60_000);
      resolve(s);
    });
  });
  if (endpoint.tlsMode === 'disable') return { socket: plain, tls: false };
  try {
    return await negotiateTls(plain, endpoint, signal);
  } catch (err) {
    plain.destroy();
    throw err;
  }
}

async function negotiateTls(plain: net.Socket, endpoint: UpstreamEndpoint, signal?: AbortSignal): Promise<{ socket: net.Socket; tls: boolean }> {
  const where = `${endpoint.host}:${endpoint.port}`;
  plain.write(ser.sslRequest());
  const answer = await readExactly(plain, 1, signal, where);
  if (answer[0] === 0x4e /* N */) {
    if (endpoint.tlsMode === 'prefer') return { socket: plain, tls: false };
    throw new UpstreamError('tls', `target ${where} does not accept TLS, but the connection requires it (tlsMode ${endpoint.tlsMode})`, '08001');
  }
  if (answer[0] !== 0x53 /* S */) throw new UpstreamError('protocol', `target ${where} gave an invalid answer to SSLRequest`, '08P01');
  const secure = tls.connect({
    socket: plain,
    servername: net.isIP(endpoint.host) ? undefined : endpoint.host,
    rejectUnauthorized: endpoint.tlsMode === 'verify-full',
  });
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', resolve);
    secure.once('error', (err) => reject(new UpstreamError('tls', `TLS with target ${where} failed: ${err.message}`, '08001')));
  });
  secure.pause();
  return { socket: secure, tls: true };
}

/** Reads n bytes and nothing more: bytes after the SSL answer would be unencrypted injection (CVE-2021-23222). */
function readExactly(socket: net.Socket, n: number, signal: AbortSignal | undefined, where: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      stopAbort();
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.pause();
    };
    const onData = (chunk: Buffer) => {
      cleanup();
      if (chunk.length !== n) reject(new UpstreamError('protocol', `target ${where} sent unexpected bytes during TLS negotiation`, '08P01'));
      else resolve(chunk);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new UpstreamError('unreachable', `cannot reach target ${where}: ${err.message}`, '08001', err.message));
    };
    const onClose = () => onError(new Error('the server closed the connection'));
    socket.on('data', onData);
    socket.once('error', onError);
    socket.once('close', onClose);
    const stopAbort = onAbort(signal, () => onError(new Error(abortReason(signal))));
    socket.resume();
  });
}

/** Sends a CancelRequest for the real backend over a new connection (TLS when the session used it). */
export async function sendCancelRequest(endpoint: UpstreamEndpoint, processId: number, secretKey: number): Promise<void> {
  const { socket } = await openUpstreamSocket(endpoint, AbortSignal.timeout(DEFAULT_TIMEOUT_MS));
  await new Promise<void>((resolve) => {
    socket.once('error', () => resolve());
    socket.once('close', () => resolve());
    socket.end(ser.cancelRequest(processId, secretKey));
    socket.resume(); // the server answers by closing; reading lets 'close' fire
  });
}

/** Runs fn on abort; returns the function that stops listening (the session's signal outlives login). */
export function onAbort(signal: AbortSignal | undefined, fn: () => void): () => void {
  if (!signal) return () => {};
  if (signal.aborted) {
    queueMicrotask(fn);
    return () => {};
  }
  signal.addEventListener('abort', fn, { once: true });
  return () => signal.removeEventListener('abort', fn);
}

export function abortReason(signal: AbortSignal | undefined): string {
  return (signal?.reason as Error | undefined)?.name === 'TimeoutError' ? 'timed out' : 'the session was ended';
}
