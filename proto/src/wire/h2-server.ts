import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { frameMessage } from './grpc-frame.js';
import { encodeGrpcMessage, GrpcStatus } from './grpc-status.js';
import { GrpcMessageReader } from './message-reader.js';

export type GrpcHandler = (call: GrpcServerCall) => void | Promise<void>;

/**
 * One gRPC call served directly on a node:http2 stream. The data streams are the hot path,
 * so we skip grpc-js's per-message machinery here (see STACK.md for the measurement) while
 * staying gRPC on the wire: any gRPC client can call these methods.
 */
export class GrpcServerCall {
  readonly reader: GrpcMessageReader;
  private headersSent = false;
  private finished = false;

  constructor(
    readonly stream: ServerHttp2Stream,
    readonly headers: IncomingHttpHeaders,
    maxMessageBytes?: number,
  ) {
    this.reader = new GrpcMessageReader(stream, maxMessageBytes);
    // A reset or a dead peer must not take the process down; the relay watches 'close'.
    stream.on('error', () => undefined);
  }

  get path(): string {
    return String(this.headers[':path'] ?? '');
  }

  get isOpen(): boolean {
    return !this.finished && !this.stream.destroyed && !this.stream.closed;
  }

  metadata(name: string): string | undefined {
    const value = this.headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  }

  bearerToken(): string | undefined {
    const auth = this.metadata('authorization');
    const match = auth ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
    return match?.[1];
  }

  peerAddress(): string {
    const socket = this.stream.session?.socket;
    return socket ? `${socket.remoteAddress}:${socket.remotePort}` : 'unknown';
  }

  sendHeaders(): void {
    if (this.headersSent || !this.isOpen) return;
    this.headersSent = true;
    this.stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    this.stream.once('wantTrailers', () => this.stream.sendTrailers(this.pendingTrailers));
  }

  write(payload: Uint8Array): boolean {
    this.sendHeaders();
    if (!this.isOpen) return false;
    return this.stream.write(frameMessage(payload));
  }

  /** Ends the call with a status. With no message sent yet this is a trailers-only response. */
  finish(code: number = GrpcStatus.OK, message = ''): void {
    if (this.finished || this.stream.destroyed || this.stream.closed) return;
    this.finished = true;
    const trailers: Record<string, string> = { 'grpc-status': String(code) };
    if (message) trailers['grpc-message'] = encodeGrpcMessage(message);
    if (!this.headersSent) {
      this.headersSent = true;
      this.stream.respond({ ':status': 200, 'content-type': 'application/grpc', ...trailers }, { endStream: true });
      return;
    }
    this.pendingTrailers = trailers;
    this.stream.end();
  }

  private pendingTrailers: Record<string, string> = { 'grpc-status': '0' };
}

/** Routes HTTP/2 streams by :path to gRPC handlers; anything else gets a gRPC UNIMPLEMENTED. */
export class GrpcRouter {
  private readonly handlers = new Map<string, GrpcHandler>();

  constructor(private readonly options: { maxMessageBytes?: number; onError?: (err: unknown, path: string) => void } = {}) {}

  route(path: string, handler: GrpcHandler): this {
    this.handlers.set(path, handler);
    return this;
  }

  readonly handleStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void => {
    const call = new GrpcServerCall(stream, headers, this.options.maxMessageBytes);
    const contentType = String(headers['content-type'] ?? '');
    if (headers[':method'] !== 'POST' || !contentType.startsWith('application/grpc')) {
      stream.respond({ ':status': 415 }, { endStream: true });
      return;
    }
    const handler = this.handlers.get(call.path);
    if (!handler) {
      call.finish(GrpcStatus.UNIMPLEMENTED, `unknown method ${call.path}`);
      return;
    }
    Promise.resolve()
      .then(() => handler(call))
      .catch((err: unknown) => {
        this.options.onError?.(err, call.path);
        call.finish(GrpcStatus.INTERNAL, 'internal error in the control plane');
      });
  };
}
