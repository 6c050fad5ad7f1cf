/**
 * An upgraded connection (WebSocket, or SPDY as kubectl exec/attach/port-forward use) after policy
 * let it through: the upgrade request goes to the target with the agent's credential; a 101 is passed
 * back and the two connections are relayed as bytes until either side ends; any other answer is passed
 * back as is and the connection closed. http-proxy's own upgrade path knows only WebSocket, hence this.
 */
import http from 'node:http';
import https from 'node:https';
import type { OutgoingHttpHeaders } from 'node:http';
import { pipeline, Transform, type Duplex } from 'node:stream';
import type { Answer } from './answers.js';
import type { ResponseOutcome } from './response-relay.js';
import type { Upstream } from './upstream.js';

export interface UpgradeRelayOptions {
  client: Duplex;
  /** Bytes the client sent after the request head. */
  head: Buffer;
  method: string;
  path: string;
  headers: OutgoingHttpHeaders;
  upstream: Upstream;
  /** Registers something to destroy when the session ends; returns its release. */
  track(item: { destroy(error?: Error): void }): () => void;
  reviewId: number | undefined;
  /** airlock's answer when the target cannot be reached. */
  onError(err: NodeJS.ErrnoException): Answer;
}

const DROPPED_RESPONSE_HEADERS = new Set(['set-cookie', 'set-cookie2', 'transfer-encoding', 'connection', 'keep-alive']);

export function relayUpgrade(options: UpgradeRelayOptions): Promise<ResponseOutcome> {
  const { client, upstream } = options;
  return new Promise((resolve) => {
    const request = (upstream.protocol === 'https:' ? https : http).request({
      host: upstream.host,
      port: upstream.port,
      method: options.method,
      path: options.path,
      headers: options.headers,
      agent: upstream.agent,
    });
    const untrackRequest = options.track(request);
    const onClientClose = () => request.destroy();
    client.once('close', onClientClose);

    request.once('upgrade', (res, socket, upstreamHead) => {
      untrackRequest();
      client.off('close', onClientClose);
      const untrackSocket = options.track(socket);
      socket.on('error', () => undefined);
      const lines = [`HTTP/1.1 ${res.statusCode ?? 101} ${res.statusMessage ?? 'Switching Protocols'}`, ...rawHeaderLines(res.rawHeaders, new Set(['set-cookie', 'set-cookie2']))];
      if (options.reviewId) lines.push(`airlock-review: ${options.reviewId}`);
      client.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (upstreamHead.length) client.write(upstreamHead);
      if (options.head.length) socket.write(options.head);
      let bytes = 0;
      let open = 2;
      let failure: string | undefined;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          bytes += chunk.length;
          cb(null, chunk);
        },
      });
      const done = (err: Error | null | undefined) => {
        if (err) {
          failure ??= err.message;
          client.destroy();
          socket.destroy();
        }
        if (--open > 0) return;
        untrackSocket();
        resolve({ status: res.statusCode ?? 101, bytes, ...(failure && failure !== 'Premature close' ? { error: failure } : {}) });
      };
      pipeline(client, socket, done);
      pipeline(socket, counter, client, done);
    });

    request.once('response', (res) => {
      untrackRequest();
      client.off('close', onClientClose);
      // The target refused the upgrade: its answer goes back as is, then the connection closes.
      const lines = [`HTTP/1.1 ${res.statusCode ?? 502} ${res.statusMessage ?? ''}`, ...rawHeaderLines(res.rawHeaders, DROPPED_RESPONSE_HEADERS), 'connection: close'];
      client.write(`${lines.join('\r\n')}\r\n\r\n`);
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      pipeline(res, client, (err) => {
        if (err) client.destroy();
        resolve({ status: res.statusCode ?? 502, bytes, ...(err ? { error: err.message } : {}) });
      });
    });

    request.once('error', (err: NodeJS.ErrnoException) => {
      untrackRequest();
      client.off('close', onClientClose);
      if (client.destroyed) return resolve({ status: 0, bytes: 0, error: 'the client went away before the target answered' });
      const answer = options.onError(err);
      const body = Buffer.from(answer.body);
      client.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-type: ${answer.contentType}\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${answer.body}`);
      resolve({ status: 502, bytes: body.length, error: err.message });
    });
    request.end();
  });
}

function rawHeaderLines(raw: string[], dropped: Set<string>): string[] {
  const lines: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!dropped.has(raw[i]!.toLowerCase())) lines.push(`${raw[i]}: ${raw[i + 1]}`);
  }
  return lines;
}
