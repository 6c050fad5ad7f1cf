import http2 from 'node:http2';
import type { Http2Server, ServerHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import type { Server as HttpServer } from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { DEFAULT_WINDOW_BYTES } from '@airlock/proto';

const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
/** The control plane's HTTP/2 receive windows: session results flow into us, so keep them wide. */
export const SERVER_WINDOW_BYTES = DEFAULT_WINDOW_BYTES;

export interface DualProtocolListener {
  readonly port: number;
  readonly http2Server: Http2Server;
  close(): Promise<void>;
}

/** What the TLS side of the port serves: a PEM certificate chain and its key. */
export interface ListenerTls {
  readonly cert: Buffer | string;
  readonly key: Buffer | string;
}

/**
 * One port for everything, so operators configure a single URL for CLI, agents and API. With TLS,
 * REST (HTTP/1.1) and gRPC (HTTP/2) are told apart by the protocol the client chose in the
 * handshake (ALPN); without it (development on loopback), by the connection's first bytes.
 */
export async function listenDualProtocol(options: {
  host: string;
  port: number;
  /** Undefined serves plaintext: the caller has checked that this is allowed. */
  tls?: ListenerTls;
  httpServer: HttpServer;
  onStream: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;
}): Promise<DualProtocolListener> {
  const http2Server = http2.createServer({
    settings: { initialWindowSize: SERVER_WINDOW_BYTES, enablePush: false },
    maxSessionMemory: 64,
  });
  http2Server.on('session', (session) => {
    session.on('error', () => undefined);
    session.once('connect', () => session.setLocalWindowSize(SERVER_WINDOW_BYTES * 4));
    session.setLocalWindowSize?.(SERVER_WINDOW_BYTES * 4);
  });
  http2Server.on('stream', options.onStream);
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = options.tls
    ? tls.createServer({ cert: options.tls.cert, key: options.tls.key, ALPNCallback: chooseAlpn, minVersion: 'TLSv1.2' }, (socket) => {
        track(socket);
        routeByAlpn(socket, options.httpServer, http2Server);
      })
    : net.createServer((socket) => {
        track(socket);
        routeByPreface(socket, options.httpServer, http2Server);
      });
  // A client that fails the handshake (wrong CA, plaintext on the TLS port) costs its own socket only.
  server.on('tlsClientError', (_error: Error, socket: net.Socket) => socket.destroy());
  server.on('connection', (socket: net.Socket) => {
    if (options.tls) track(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    http2Server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/**
 * gRPC clients (grpc-js, grpc-go, node:http2) offer `h2` alone; browsers and curl offer `h2` and
 * `http/1.1`, and the REST API is served on HTTP/1.1. So whoever can speak HTTP/1.1 gets it.
 */
export function chooseAlpn({ protocols }: { protocols: string[] }): string | undefined {
  if (protocols.includes('http/1.1')) return 'http/1.1';
  return protocols.includes('h2') ? 'h2' : undefined;
}

/** Routes by the protocol chosen in the handshake; a client that offered none is told apart by its first bytes. */
function routeByAlpn(socket: tls.TLSSocket, httpServer: HttpServer, http2Server: Http2Server): void {
  if (socket.alpnProtocol === 'h2') http2Server.emit('connection', socket);
  else if (socket.alpnProtocol === 'http/1.1') httpServer.emit('connection', socket);
  else routeByPreface(socket, httpServer, http2Server);
}

function routeByPreface(socket: net.Socket, httpServer: HttpServer, http2Server: Http2Server): void {
  let seen: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    seen = seen.length ? Buffer.concat([seen, chunk]) : chunk;
    const compared = Math.min(seen.length, HTTP2_PREFACE.length);
    const isHttp2 = seen.subarray(0, compared).equals(HTTP2_PREFACE.subarray(0, compared));
    if (isHttp2 && seen.length < HTTP2_PREFACE.length) return; // need the whole preface to be sure
    socket.off('data', onData);
    socket.pause();
    socket.unshift(seen);
    if (isHttp2) {
      // node:http2 reads the socket's handle itself (buffered bytes included); resuming here would steal them.
      http2Server.emit('connection', socket);
    } else {
      httpServer.emit('connection', socket);
      socket.resume();
    }
  };
  socket.on('data', onData);
}
