import http2 from 'node:http2';
import type { ClientHttp2Session, ClientHttp2Stream, SecureClientSessionOptions } from 'node:http2';
import { frameMessage } from './grpc-frame.js';
import { tunable } from './data-frame.js';
import { decodeGrpcMessage, GrpcCallError, GrpcStatus } from './grpc-status.js';
import { GrpcMessageReader } from './message-reader.js';
import { describeTlsFailure } from './tls-errors.js';

export interface GrpcChannelOptions {
  /** Sent as `authorization: Bearer <token>` on every call; asked again for each call, so it may be fresh each time. */
  token?: () => string | undefined;
  /** PEM CA to trust for https:// URLs instead of the system's CAs (a pinned CA). */
  ca?: string | Buffer;
  maxMessageBytes?: number;
  /** Our HTTP/2 receive windows: results flow towards us, so larger windows keep bulk moving. */
  windowBytes?: number;
}

/** Per-stream HTTP/2 receive window; AIRLOCK_H2_WINDOW_BYTES overrides it for benchmarks. */
export const DEFAULT_WINDOW_BYTES = tunable('AIRLOCK_H2_WINDOW_BYTES', 8 * 1024 * 1024, 64 * 1024, 64 * 1024 * 1024);

/** A gRPC call as the client sees it: write messages, read messages, then a status. */
export class GrpcClientCall {
  readonly reader: GrpcMessageReader;
  /** Resolves with the final status; never rejects. */
  readonly status: Promise<{ code: number; message: string }>;

  /** `url` names the control plane in errors a person reads (an untrusted certificate, say). */
  constructor(readonly stream: ClientHttp2Stream, maxMessageBytes?: number, url = 'the control plane') {
    this.reader = new GrpcMessageReader(stream, maxMessageBytes);
    this.status = new Promise((resolve) => {
      let settled = false;
      const settle = (code: number, message: string) => {
        if (settled) return;
        settled = true;
        resolve({ code, message });
      };
      stream.once('response', (headers) => {
        const status = headers[':status'];
        if (status !== 200) settle(GrpcStatus.UNAVAILABLE, `the control plane answered HTTP ${status} instead of gRPC`);
        else if (headers['grpc-status'] !== undefined)
          settle(Number(headers['grpc-status']), decodeGrpcMessage(headers['grpc-message']));
      });
      stream.once('trailers', (trailers) =>
        settle(Number(trailers['grpc-status'] ?? GrpcStatus.UNKNOWN), decodeGrpcMessage(trailers['grpc-message'])),
      );
      stream.once('error', (err) => settle(GrpcStatus.UNAVAILABLE, describeTlsFailure(err, url) ?? err.message));
      stream.once('close', () => settle(GrpcStatus.UNAVAILABLE, 'the call closed without a status'));
    });
  }

  write(payload: Uint8Array): boolean {
    return this.stream.write(frameMessage(payload));
  }

  end(): void {
    if (!this.stream.writableEnded) this.stream.end();
  }

  cancel(): void {
    if (!this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_CANCEL);
  }

  /** Reads the next message, turning an early end into the call's status error. */
  async readOrFail(): Promise<Buffer> {
    const message = await this.reader.readOne().catch(() => undefined);
    if (message) return message;
    const status = await this.status;
    throw new GrpcCallError(status.code === GrpcStatus.OK ? GrpcStatus.UNAVAILABLE : status.code, status.message || 'the call ended early');
  }
}

/**
 * One HTTP/2 connection to the control plane, shared by every call (control stream, session
 * streams, tunnels), reopened lazily after it drops.
 */
export class GrpcChannel {
  private session: ClientHttp2Session | undefined;

  constructor(readonly url: string, private readonly options: GrpcChannelOptions = {}) {}

  open(path: string, extraHeaders: Record<string, string> = {}): GrpcClientCall {
    const session = this.connect();
    const headers: Record<string, string> = {
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...extraHeaders,
    };
    const token = this.options.token?.();
    if (token) headers.authorization = `Bearer ${token}`;
    const stream = session.request(headers);
    return new GrpcClientCall(stream, this.options.maxMessageBytes, this.url);
  }

  async unary(path: string, request: Uint8Array, timeoutMs = 30_000): Promise<Buffer> {
    const call = this.open(path);
    const timer = setTimeout(() => call.cancel(), timeoutMs);
    try {
      call.stream.end(frameMessage(request));
      const reply = await call.reader.readOne().catch(() => undefined);
      const status = await call.status;
      if (status.code !== GrpcStatus.OK) throw new GrpcCallError(status.code, status.message);
      if (!reply) throw new GrpcCallError(GrpcStatus.INTERNAL, 'the control plane sent no reply');
      return reply;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves once the connection is up, or rejects with the reason it could not be made. */
  ready(timeoutMs = 10_000): Promise<void> {
    const session = this.connect();
    if (session.connecting === false && !session.destroyed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`timed out connecting to ${this.url}`)), timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        session.off('connect', ok);
        const tls = describeTlsFailure(err, this.url);
        reject(tls ? Object.assign(new Error(tls, { cause: err }), { code: (err as NodeJS.ErrnoException).code }) : err);
      };
      const ok = () => {
        clearTimeout(timer);
        session.off('error', fail);
        resolve();
      };
      session.once('connect', ok);
      session.once('error', fail);
    });
  }

  close(): void {
    this.session?.close();
    this.session = undefined;
  }

  private connect(): ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const window = this.options.windowBytes ?? DEFAULT_WINDOW_BYTES;
    const options: SecureClientSessionOptions = {
      settings: { initialWindowSize: window, enablePush: false },
      ...(this.options.ca ? { ca: this.options.ca } : {}),
    };
    const session = http2.connect(this.url, options);
    session.on('error', () => undefined); // surfaced per call through stream errors
    session.once('connect', () => session.setLocalWindowSize(window * 4));
    session.once('close', () => {
      if (this.session === session) this.session = undefined;
    });
    this.session = session;
    return session;
  }
}
