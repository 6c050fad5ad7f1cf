/** Raw TCP relay: bytes both ways with backpressure (pipeline), access-level review only. */
import net from 'node:net';
import { pipeline, Transform, type Duplex } from 'node:stream';
import type { ProtocolEngine, SessionContext, SessionSummary } from '../engine.js';
import { endedMessage } from '../engine.js';

export interface TcpEngineOptions {
  connectTimeoutMs?: number;
}

export class TcpEngine implements ProtocolEngine {
  readonly type = 'tcp' as const;

  constructor(private readonly options: TcpEngineOptions = {}) {}

  async serveTunnel(client: Duplex, ctx: SessionContext): Promise<SessionSummary> {
    const { target } = ctx;
    client.on('error', () => {}); // pipeline reports it; never an unhandled 'error'
    let upstream: net.Socket;
    try {
      upstream = await connect(target.host, target.port, ctx.signal, this.options.connectTimeoutMs ?? 15_000);
    } catch (err) {
      client.destroy();
      const killed = ctx.signal.aborted;
      return {
        bytesFromClient: 0,
        bytesToClient: 0,
        error: killed
          ? { code: 'killed', message: endedMessage(ctx.signal) }
          : { code: 'target_unreachable', message: `airlock: cannot reach target "${target.name}" at ${target.host}:${target.port}: ${(err as Error).message}` },
      };
    }
    return relay(client, upstream, ctx);
  }
}

function connect(host: string, port: number, signal: AbortSignal, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => fail(new Error('connect timed out')), timeoutMs);
    const onAbort = () => fail(new Error('the session was ended'));
    const fail = (err: Error) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(err);
    };
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.off('error', fail);
      resolve(socket);
    });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

function counter(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      onBytes(chunk.length);
      cb(null, chunk);
    },
  });
}

function relay(client: Duplex, upstream: net.Socket, ctx: SessionContext): Promise<SessionSummary> {
  const summary: SessionSummary = { bytesFromClient: 0, bytesToClient: 0 };
  return new Promise((resolve) => {
    let open = 2;
    let failure: Error | undefined;
    const onAbort = () => {
      summary.error = { code: 'killed', message: endedMessage(ctx.signal) };
      client.destroy();
      upstream.destroy();
    };
    const done = (err: Error | null | undefined) => {
      if (err && !failure) failure = err;
      if (--open > 0) return;
      ctx.signal.removeEventListener('abort', onAbort);
      if (!summary.error && failure && upstreamFailed(failure, upstream)) {
        summary.error = { code: 'target_unreachable', message: `airlock: the connection to target "${ctx.target.name}" failed: ${failure.message}` };
      }
      resolve(summary);
    };
    // pipeline propagates backpressure and half-closes: the client's end becomes the target's FIN.
    pipeline(client, counter((n) => (summary.bytesFromClient += n)), upstream, done);
    pipeline(upstream, counter((n) => (summary.bytesToClient += n)), client, done);
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Only a real socket error on the target side is abnormal; a client hanging up is a normal end. */
function upstreamFailed(err: Error, upstream: net.Socket): boolean {
  return 'code' in err && err.code !== 'ERR_STREAM_PREMATURE_CLOSE' && upstream.errored === err;
}
