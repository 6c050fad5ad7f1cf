/**
 * A small HTTP(S) service to proxy to in tests: it echoes what it was sent (so a test can see which
 * credential reached it), serves a large slow body (to cut a client off mid-download), echoes bytes on
 * WebSocket-style upgrades, sets a cookie, and counts its open connections.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface TargetServer {
  port: number;
  seen: SeenRequest[];
  /** Connections open right now. */
  openConnections(): number;
  close(): Promise<void>;
}

export interface TargetServerOptions {
  tls?: { cert: string; key: string; ca?: string; requestCert?: boolean };
  /** Bytes of GET /big, sent in 64 KiB pieces with a pause between them. */
  bigBytes?: number;
}

export async function startTargetServer(options: TargetServerOptions = {}): Promise<TargetServer> {
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const peer = (req.socket as { getPeerCertificate?: () => { subject?: { CN?: string } } }).getPeerCertificate?.();
      if (req.url === '/big') return sendBig(res, options.bigBytes ?? 64 * 1024 * 1024);
      if (req.url?.startsWith('/customers')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('{"customers":[{"id":12345678901234567890,"name":"Ada","email":"ada@example.com","ssn":"123-45-6789","note":"call 4111 1111 1111 1111"}]}');
      }
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'sid=agent-session; HttpOnly' });
      // What arrived, but never the credential itself: a target that echoed it would leak it by itself.
      res.end(JSON.stringify({ method: req.method, url: req.url, authorized: req.headers.authorization !== undefined, body, clientCert: peer?.subject?.CN ?? null }));
    });
  };
  const server = options.tls
    ? https.createServer({ cert: options.tls.cert, key: options.tls.key, ca: options.tls.ca, requestCert: options.tls.requestCert ?? false, rejectUnauthorized: options.tls.requestCert ?? false }, handler)
    : http.createServer(handler);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('secureConnection', () => undefined);
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '' });
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSet-Cookie: sid=x\r\n\r\n');
    socket.pipe(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    openConnections: () => sockets.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

function sendBig(res: http.ServerResponse, total: number): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
  const piece = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  const next = () => {
    if (res.destroyed) return;
    if (sent >= total) return void res.end();
    const n = Math.min(piece.length, total - sent);
    sent += n;
    const ok = res.write(piece.subarray(0, n));
    if (ok) setTimeout(next, 2);
    else res.once('drain', next);
  };
  next();
}
