import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook<T> {
  headers: IncomingHttpHeaders;
  body: string;
  json: T;
}

/** A customer's webhook endpoint for tests: records every request and answers with scripted statuses (200 when the script is empty). */
export class WebhookReceiver<T = unknown> {
  readonly received: ReceivedWebhook<T>[] = [];
  private readonly script: number[] = [];
  private constructor(private readonly server: Server) {}

  static async start<T = unknown>(): Promise<WebhookReceiver<T>> {
    const server = createServer();
    const receiver = new WebhookReceiver<T>(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        receiver.received.push({ headers: req.headers, body, json: JSON.parse(body) as T });
        const status = receiver.script.shift() ?? 200;
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'receiver is down for maintenance');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/airlock`;
  }

  answer(...statuses: number[]): void {
    this.script.push(...statuses);
  }

  /** The first `count` requests, once they arrived (bounded wait). */
  async waitForCount(count: number, timeoutMs = 5_000): Promise<ReceivedWebhook<T>[]> {
    for (const deadline = Date.now() + timeoutMs; this.received.length < count; ) {
      if (Date.now() > deadline) throw new Error(`expected ${count} webhook requests within ${timeoutMs} ms, got ${this.received.length}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.received.slice(0, count);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
