import http2 from 'node:http2';
import type { Http2Server, ServerHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import type { Server as HttpServer } from 'node:http';
import net from 'node:net';
import { DEFAULT_WINDOW_BYTES } from '@airlock/proto';

const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
/** The control plane's HTTP/2 receive windows: session results flow into us, so keep them wide. */
export const SERVER_WINDOW_BYTES = DEFAULT_WINDOW_BYTES;

export interface DualProtocolListener {
  readonly port: number;
  readonly http2Server: Http2Server;
  close(): Promise<void>;
}

/**
 * One port for everything: REST (HTTP/1.1) and gRPC (HTTP/2 prior knowledge) are told apart by
 * the connection's first bytes, so operators configure a single URL for CLI, agents and API.
 */
export async function listenDualProtocol(options: {
  host: string;
  port: number;
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
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    routeByPreface(socket, options.httpServer, http2Server);
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
