/**
 * Test harness for the HTTP engines: a scripted policy gate, a loopback listener that hands each
 * connection to an engine as a plain Duplex (as the tunnel does, not a net.Socket), and a small client.
 */
import http from 'node:http';
import net from 'node:net';
import { Duplex } from 'node:stream';
import type { GateVerdict, HoldOutcome, HoldRequest, ProtocolEngine, ProtocolRequest, SessionSummary, StatementGate } from '../../engine.js';
import { UNRESTRICTED_FEATURES } from '../../engine.js';
import type { TestContext } from '../../postgres/test-support/session-harness.js';

export interface HeldRequest {
  request: HoldRequest;
  signal: AbortSignal;
  settle(outcome: HoldOutcome): void;
}

/** A gate whose verdicts a test decides; holds wait until the test settles them (or the client goes away). */
export class ScriptedGate implements StatementGate {
  readonly features = UNRESTRICTED_FEATURES;
  readonly judged: ProtocolRequest[] = [];
  readonly held: HeldRequest[] = [];

  constructor(private readonly verdictFor: (request: ProtocolRequest) => GateVerdict) {}

  judgeRequest(request: ProtocolRequest): GateVerdict {
    this.judged.push(request);
    return this.verdictFor(request);
  }

  hold(request: HoldRequest, _notify: (message: string) => void, signal: AbortSignal): Promise<HoldOutcome> {
    return new Promise((resolve) => {
      this.held.push({ request, signal, settle: resolve });
      signal.addEventListener('abort', () => resolve({ released: false, reviewId: 0, message: 'withdrawn' }), { once: true });
    });
  }

  judgeQuery(): Promise<GateVerdict> {
    throw new Error('not SQL');
  }
  judgeParse(): Promise<GateVerdict> {
    throw new Error('not SQL');
  }
  bind(): void {}
  judgeExecute(): GateVerdict {
    throw new Error('not SQL');
  }
  onParameterStatus(): void {}
}

export function reviewVerdict(request: ProtocolRequest): GateVerdict {
  return {
    action: 'review',
    hold: { statement: request.text, kinds: [], tables: [], policyName: 'p', policyVersion: 1, reason: 'needs review', fingerprint: `fp:${request.text}` },
  };
}

/** A plain Duplex over a socket: what the engine gets from a tunnel (no socket methods, no handle). */
export function plainDuplex(socket: net.Socket): Duplex {
  const duplex = new Duplex({
    allowHalfOpen: true,
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      socket.write(chunk, () => cb());
    },
    final(cb) {
      socket.end();
      cb();
    },
    destroy(err, cb) {
      socket.destroy();
      cb(err);
    },
  });
  socket.on('data', (chunk: Buffer) => {
    if (!duplex.push(chunk)) socket.pause();
  });
  socket.on('end', () => duplex.push(null));
  socket.on('close', () => duplex.destroy());
  socket.on('error', () => undefined);
  return duplex;
}

export interface ServedHttpSession {
  ctx: TestContext;
  summary: Promise<SessionSummary>;
}

export interface HttpAgentListener {
  port: number;
  sessions: ServedHttpSession[];
  close(): Promise<void>;
}

/**
 * Like the tunnel once the CLI gave up on a client that reset its connection: the end arrives, and
 * what is written after it is never acknowledged (writes never complete).
 */
export function stallingDuplex(socket: net.Socket): Duplex {
  let gone = false;
  const duplex = new Duplex({
    allowHalfOpen: true,
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      if (!gone) socket.write(chunk, (err) => !err && !gone && cb());
    },
    final(cb) {
      if (!gone) socket.end();
      cb();
    },
    destroy(err, cb) {
      socket.destroy();
      cb(err);
    },
  });
  socket.on('data', (chunk: Buffer) => {
    if (!duplex.push(chunk)) socket.pause();
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    gone = true;
    duplex.push(null);
  });
  return duplex;
}

export function startHttpAgent(engine: ProtocolEngine, newContext: () => TestContext, tunnel: (socket: net.Socket) => Duplex = plainDuplex): Promise<HttpAgentListener> {
  const sessions: ServedHttpSession[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const ctx = newContext();
    sessions.push({ ctx, summary: engine.serveTunnel(tunnel(socket), ctx) });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        sessions,
        close: async () => {
          for (const s of sessions) s.ctx.abort.abort();
          await Promise.all(sessions.map((s) => s.summary));
          await new Promise<void>((r) => server.close(() => r()));
        },
      });
    });
  });
}

export interface ClientResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function send(port: number, options: { method?: string; path: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer }): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
