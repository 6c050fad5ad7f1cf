/**
 * Logs in to the real server with the agent-held credential: TCP (+ TLS per tlsMode), StartupMessage,
 * then cleartext / md5 / SCRAM-SHA-256 as the server asks. The password is resolved only when the server
 * asks for one, and is never logged nor put in an error.
 */
import { createHash } from 'node:crypto';
import type net from 'node:net';
import type { ConnectionTarget } from '../engine.js';
import { AUTH, decodeBackend, type BackendMessage, type PgErrorFields } from './backend-scanner.js';
import { scramClientFinal, scramClientFirst, scramVerifyServerFinal, type ScramClientFinal, type ScramClientFirst } from './scram.js';
import * as ser from './serializer.js';
import { DEFAULT_TIMEOUT_MS, onAbort, openUpstreamSocket, UpstreamError } from './upstream-socket.js';

export { openUpstreamSocket, sendCancelRequest, UpstreamError, type TlsMode, type UpstreamEndpoint, type UpstreamErrorKind } from './upstream-socket.js';

export interface LoginOptions {
  target: ConnectionTarget;
  resolveSecret(ref: string): string;
  /** Extra startup parameters (application_name...). user and database always come from the target. */
  startupParams?: Record<string, string>;
  signal?: AbortSignal;
  /** Bound on connect + TLS + login. */
  timeoutMs?: number;
}

export interface UpstreamConnection {
  socket: net.Socket;
  tls: boolean;
  /** Every ParameterStatus the server sent during login, in order. */
  parameters: [string, string][];
  backendKey?: { processId: number; secretKey: number };
  /** Transaction status from the server's ReadyForQuery. */
  status: string;
  /** Server bytes that arrived after ReadyForQuery in the same read; the caller must handle them first. */
  leftover: Buffer;
}

const MAX_LOGIN_BYTES = 1024 * 1024;

/** Opens a connection and logs in. Throws UpstreamError; the socket is paused on success. */
export async function loginUpstream(options: LoginOptions): Promise<UpstreamConnection> {
  const { target } = options;
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const { socket, tls: usedTls } = await openUpstreamSocket(target, signal);
  try {
    const params = { ...options.startupParams, user: target.user, database: target.database };
    socket.write(ser.startupMessage(params));
    const done = await runLogin(socket, new LoginState(options), signal);
    return { socket, tls: usedTls, ...done };
  } catch (err) {
    socket.destroy();
    if (err instanceof UpstreamError && err.kind === 'aborted' && timeout.aborted && !options.signal?.aborted) {
      throw new UpstreamError('unreachable', `login to target ${target.host}:${target.port} timed out`, '08001', 'login timed out');
    }
    throw err;
  }
}

type LoginResult = Omit<UpstreamConnection, 'socket' | 'tls'>;

/** The authentication exchange as a small state machine over decoded server messages. */
class LoginState {
  parameters: [string, string][] = [];
  backendKey?: { processId: number; secretKey: number };
  private scramFirst?: ScramClientFirst;
  private scramFinal?: ScramClientFinal;
  private scramVerified = false;

  constructor(private readonly options: LoginOptions) {}

  /** Returns bytes to send (if any), or 'ready' when the server is ready for queries. */
  step(msg: BackendMessage): Buffer | 'ready' | undefined {
    switch (msg.type) {
      case 'Authentication':
        return this.authenticate(msg.code, msg.data);
      case 'ParameterStatus':
        this.parameters.push([msg.name, msg.value]);
        return undefined;
      case 'BackendKeyData':
        this.backendKey = { processId: msg.processId, secretKey: msg.secretKey };
        return undefined;
      case 'ReadyForQuery':
        return 'ready';
      case 'ErrorResponse':
        throw serverRefused(msg.fields);
      default:
        return undefined;
    }
  }

  private authenticate(code: number, data: Buffer): Buffer | undefined {
    const { target } = this.options;
    switch (code) {
      case AUTH.ok:
        if (this.scramFirst && !this.scramVerified) throw new UpstreamError('auth', 'the server skipped SCRAM verification', '28000');
        return undefined;
      case AUTH.cleartext:
        return ser.passwordMessage(this.password());
      case AUTH.md5: {
        const inner = md5hex(this.password() + target.user);
        return ser.passwordMessage('md5' + md5hex(Buffer.concat([Buffer.from(inner), data.subarray(0, 4)])));
      }
      case AUTH.sasl:
        return this.startScram(data);
      case AUTH.saslContinue:
        if (!this.scramFirst) throw new UpstreamError('protocol', 'unexpected SASL continue from the server', '08P01');
        this.scramFinal = scramClientFinal(this.scramFirst, this.password(), data.toString('utf8'));
        return ser.saslResponse(Buffer.from(this.scramFinal.message));
      case AUTH.saslFinal:
        if (!this.scramFinal) throw new UpstreamError('protocol', 'unexpected SASL final from the server', '08P01');
        scramVerifyServerFinal(this.scramFinal, data.toString('utf8'));
        this.scramVerified = true;
        return undefined;
      default:
        throw new UpstreamError('auth', `the server asks for an authentication method (code ${code}) the agent does not support`, '28000');
    }
  }

  private startScram(data: Buffer): Buffer {
    const mechanisms = data.toString('utf8').split('\0').filter(Boolean);
    if (!mechanisms.includes('SCRAM-SHA-256')) {
      throw new UpstreamError('auth', `the server offers only SASL mechanisms ${mechanisms.join(', ')}, which the agent does not support`, '28000');
    }
    this.scramFirst = scramClientFirst();
    return ser.saslInitialResponse('SCRAM-SHA-256', Buffer.from(this.scramFirst.message));
  }

  private password(): string {
    try {
      return this.options.resolveSecret(this.options.target.secretRef);
    } catch (err) {
      throw new UpstreamError('secret', `the agent cannot read the credential ${this.options.target.secretRef}: ${(err as Error).message}`, '08001');
    }
  }
}

function serverRefused(f: PgErrorFields): UpstreamError {
  const kind = f.code.startsWith('28') ? 'auth' : 'server';
  return new UpstreamError(kind, f.message, f.code || '08001');
}

function md5hex(data: string | Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

/** Frames server messages during login (small and few, so a plain accumulate-and-split is enough). */
function runLogin(socket: net.Socket, state: LoginState, signal: AbortSignal): Promise<LoginResult> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    let stopAbort = () => {};
    const finish = (err?: unknown, result?: LoginResult) => {
      stopAbort();
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.pause();
      if (err) reject(err instanceof UpstreamError ? err : new UpstreamError('protocol', `login failed: ${(err as Error).message}`, '08P01'));
      else resolve(result!);
    };
    const onData = (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      if (buf.length > MAX_LOGIN_BYTES) return finish(new UpstreamError('protocol', 'the server sent too much data during login', '08P01'));
      try {
        let pos = 0;
        while (buf.length - pos >= 5) {
          const total = buf.readInt32BE(pos + 1) + 1;
          if (total < 5) throw new UpstreamError('protocol', 'the server sent an invalid message during login', '08P01');
          if (buf.length - pos < total) break;
          const frame = buf.subarray(pos, pos + total);
          pos += total;
          if (!LOGIN_TAGS.has(frame[0]!)) continue;
          const out = state.step(decodeBackend(frame));
          if (out === 'ready') {
            const status = String.fromCharCode(frame[5]!);
            return finish(undefined, { parameters: state.parameters, backendKey: state.backendKey, status, leftover: buf.subarray(pos) });
          }
          if (out) socket.write(out);
        }
        buf = buf.subarray(pos);
      } catch (err) {
        finish(err);
      }
    };
    const onError = (err: Error) => finish(new UpstreamError('unreachable', `connection to the target failed during login: ${err.message}`, '08001'));
    const onClose = () => finish(new UpstreamError('unreachable', 'the target closed the connection during login', '08001'));
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    stopAbort = onAbort(signal, () => finish(new UpstreamError('aborted', 'the session was ended during login', '57P01')));
    socket.resume();
  });
}

const LOGIN_TAGS = new Set([0x52, 0x53, 0x4b, 0x5a, 0x45, 0x4e]); // R S K Z E N
