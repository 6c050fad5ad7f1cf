/**
 * The relay phase of a Postgres session: client frames are validated by the parser and forwarded raw,
 * server bytes are scanned and forwarded raw in the chunks they came in. Backpressure runs both ways:
 * when a write returns false the source is paused until the sink drains, so a slow client slows the
 * database read instead of growing memory.
 */
import type net from 'node:net';
import { finished, type Duplex } from 'node:stream';
import type { EngineLogger, SessionSummary, StatementGate } from '../engine.js';
import { GatedForwarder } from './gated-forwarder.js';
import { endedMessage } from '../engine.js';
import { BackendScanner } from './backend-scanner.js';
import type { FrontendFrame, FrontendParser } from './frontend-parser.js';
import { errorResponse, terminate } from './serializer.js';
import type { ResultRewriter } from './result-rewriter.js';
import type { StatementTracker } from './statement-tracker.js';
import { coalesce } from './wire.js';

export interface RelayOptions {
  targetName: string;
  logger: EngineLogger;
  maxServerMessageBytes?: number;
  /** Once one side has closed, how long the other may take to close before it is destroyed. */
  closeGraceMs?: number;
  /** Policy for the session's statements; without one every statement is forwarded at once. */
  gate?: StatementGate;
  /** Masks results before they reach the client; absent when the session has no masking rules. */
  rewriter?: ResultRewriter;
}

/** Client bytes queued behind a statement that is being judged or held, before the client is paused. */
const MAX_QUEUED_WHILE_JUDGING = 1024 * 1024;

export type RelayError = NonNullable<SessionSummary['error']>;

export class Relay {
  bytesFromClient = 0;
  bytesToClient = 0;
  private error?: RelayError;
  private stopped = false;
  private sawTerminate = false;
  private readonly scanner: BackendScanner;
  private readonly paused = new Set<Duplex>();
  private gated: GatedForwarder | undefined;
  private readonly gateQueue: FrontendFrame[] = [];
  private pumping = false;
  /** Queries and Syncs forwarded and not yet answered by ReadyForQuery. */
  private awaitingReady = 0;
  private transactionStatus = 'I';
  private idleWaiters: (() => void)[] = [];
  private readonly gateAbort = new AbortController();
  /** Server chunks that arrived while the rewriter was looking table names up, in order. */
  private readonly rewriteQueue: Buffer[] = [];
  private rewriting = false;

  constructor(
    private readonly client: Duplex,
    private readonly upstream: net.Socket,
    private readonly parser: FrontendParser,
    private readonly tracker: StatementTracker,
    private readonly options: RelayOptions,
  ) {
    this.scanner = new BackendScanner({ maxMessageBytes: options.maxServerMessageBytes });
    if (options.gate) tracker.defaultVerdict = 'allowed';
  }

  /** Relays until both sides are closed. `leftover` is server bytes read during login. */
  run(pipelined: FrontendFrame[], leftover: Buffer, signal: AbortSignal): Promise<RelayError | undefined> {
    return new Promise((resolve) => {
      const kill = () => this.kill(signal);
      if (this.options.gate) this.gated = this.createGatedForwarder(this.options.gate, signal);
      this.whenBothClosed(() => {
        signal.removeEventListener('abort', kill);
        this.tracker.abandon('the session ended before the statement completed');
        resolve(this.error);
      });
      this.client.on('data', (c: Buffer) => this.onClientData(c));
      this.client.on('end', () => this.onClientEnd());
      this.client.on('error', (err) => this.onClientError(err));
      this.upstream.on('data', (c: Buffer) => this.onServerData(c));
      this.upstream.on('end', () => this.endClient());
      this.upstream.on('error', (err) => this.onServerError(err));
      if (signal.aborted) return kill();
      signal.addEventListener('abort', kill, { once: true });
      if (pipelined.length > 0) this.acceptFrames(pipelined);
      if (leftover.length > 0) this.onServerData(leftover);
      this.client.resume();
      this.upstream.resume();
    });
  }

  private onClientData(chunk: Buffer): void {
    if (this.stopped) return;
    this.bytesFromClient += chunk.length;
    const { frames, violation } = this.parser.push(chunk);
    if (violation) return this.endWithError('protocol', '08P01', `airlock: invalid message from the client: ${violation.message}`);
    this.acceptFrames(frames);
  }

  private acceptFrames(frames: FrontendFrame[]): void {
    if (!this.gated) return this.forward(frames);
    this.gateQueue.push(...frames);
    // Keep reading while a statement is judged or held, so a client that leaves is noticed at once;
    // stop only when it piles up more than a bounded amount behind the held statement.
    if (this.gateQueue.reduce((n, f) => n + f.raw.length, 0) > MAX_QUEUED_WHILE_JUDGING) this.client.pause();
    void this.pumpGate();
  }

  private createGatedForwarder(gate: StatementGate, signal: AbortSignal): GatedForwarder {
    signal.addEventListener('abort', () => this.gateAbort.abort(), { once: true });
    return new GatedForwarder(gate, this.tracker, {
      forward: (frames) => this.forward(frames),
      answer: (messages) => this.answerClient(messages),
      transactionStatus: () => this.transactionStatus,
      signal: this.gateAbort.signal,
    });
  }

  /** Judges queued frames in order; the client is not read while a statement is being judged or held. */
  private async pumpGate(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.gateQueue.length > 0 && !this.stopped) await this.gated!.process(this.gateQueue.splice(0));
    } catch (err) {
      this.options.logger.error('policy evaluation failed; ending the session', { error: (err as Error).message });
      this.endWithError('internal', 'XX000', 'airlock: policy evaluation failed; the statement was not run');
    } finally {
      this.pumping = false;
      if (!this.stopped && !this.paused.has(this.client)) this.client.resume();
    }
  }

  /** Writes airlock's own messages once the server has answered everything forwarded before them. */
  private async answerClient(messages: Buffer[]): Promise<void> {
    while (this.awaitingReady > 0 || this.scanner.midMessage) {
      if (this.stopped) return;
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
    if (this.stopped || this.client.writableEnded) return;
    for (const message of messages) {
      this.bytesToClient += message.length;
      this.client.write(message);
    }
  }

  private forward(frames: FrontendFrame[]): void {
    const raws: Buffer[] = [];
    for (const f of frames) {
      this.tracker.onClient(f.message);
      this.options.rewriter?.onClient(f.message);
      if (f.message.type === 'Terminate') this.sawTerminate = true;
      if (f.message.type === 'Query' || f.message.type === 'Sync') this.awaitingReady++;
      raws.push(f.raw);
    }
    if (raws.length > 0 && !this.writeAll(this.upstream, coalesce(raws))) this.pauseUntilDrain(this.client, this.upstream);
  }

  private onServerData(chunk: Buffer): void {
    if (this.stopped) return;
    if (!this.options.rewriter) return this.deliver([chunk]);
    if (this.rewriting) return void this.rewriteQueue.push(chunk);
    this.rewrite(this.options.rewriter, chunk);
  }

  /** Masks one chunk; while table names are looked up the server is not read and later chunks wait in order. */
  private rewrite(rewriter: ResultRewriter, chunk: Buffer): void {
    let out: Buffer[] | Promise<Buffer[]>;
    try {
      out = rewriter.push(chunk);
    } catch (err) {
      return this.invalidServerData(err as Error);
    }
    if (Array.isArray(out)) return this.deliver(out);
    this.rewriting = true;
    this.upstream.pause();
    out.then(
      (bufs) => {
        this.rewriting = false;
        if (this.stopped) return;
        this.deliver(bufs);
        while (this.rewriteQueue.length > 0 && !this.rewriting && !this.stopped) this.rewrite(rewriter, this.rewriteQueue.shift()!);
        if (!this.rewriting && !this.stopped && !this.paused.has(this.upstream)) this.upstream.resume();
      },
      (err: Error) => {
        this.rewriting = false;
        this.invalidServerData(err);
      },
    );
  }

  /** Scans what goes to the client (after masking, so the record shows what the client saw) and writes it. */
  private deliver(bufs: Buffer[]): void {
    if (this.stopped || bufs.length === 0) return;
    try {
      for (const buf of bufs) {
        for (const msg of this.scanner.push(buf)) {
          this.tracker.onServer(msg);
          if (msg.type === 'ReadyForQuery') {
            this.awaitingReady = Math.max(0, this.awaitingReady - 1);
            this.transactionStatus = msg.status;
          } else if (msg.type === 'ParameterStatus') {
            this.options.gate?.onParameterStatus(msg.name, msg.value);
          }
        }
      }
    } catch (err) {
      return this.invalidServerData(err as Error);
    }
    for (const buf of bufs) this.bytesToClient += buf.length;
    if (!this.writeAll(this.client, bufs)) this.pauseUntilDrain(this.upstream, this.client);
    if (this.idleWaiters.length > 0 && this.awaitingReady === 0 && !this.scanner.midMessage) this.wakeIdleWaiters();
  }

  private invalidServerData(err: Error): void {
    this.endWithError('protocol', '08P01', `airlock: target "${this.options.targetName}" sent invalid data: ${err.message}`);
  }

  private wakeIdleWaiters(): void {
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private writeAll(sink: Duplex, bufs: Buffer[]): boolean {
    if (sink.writableEnded || sink.destroyed) return true;
    if (bufs.length === 1) return sink.write(bufs[0]);
    sink.cork(); // one writev for the whole batch
    let ok = true;
    for (const b of bufs) ok = sink.write(b) && ok;
    sink.uncork();
    return ok;
  }

  private pauseUntilDrain(source: Duplex, sink: Duplex): void {
    if (this.paused.has(source)) return;
    this.paused.add(source);
    source.pause();
    sink.once('drain', () => {
      this.paused.delete(source);
      // A server paused for a table-name lookup stays paused until the lookup is done.
      if (!this.stopped && !(source === this.upstream && this.rewriting)) source.resume();
    });
  }

  /** Withdraws held statements (their reviews are cancelled) and releases anyone waiting to answer. */
  private stopGate(): void {
    this.gateAbort.abort();
    this.wakeIdleWaiters();
  }

  private onClientEnd(): void {
    this.stopGate();
    const partial = this.parser.end();
    if (partial) this.options.logger.warn('client closed mid-message', { reason: partial.message });
    if (this.upstream.writableEnded) return;
    if (this.tracker.pendingCount > 0 && !this.sawTerminate) {
      // The client left in the middle of a statement: nobody will read its result, and the server
      // would not read our Terminate before it finished writing it. Free the backend now.
      this.stopped = true;
      this.upstream.destroy();
      return;
    }
    // Tell the server we are leaving, so it does not log an unexpected EOF.
    if (this.sawTerminate || this.stopped) this.upstream.end();
    else this.upstream.end(terminate());
  }

  private onClientError(err: Error): void {
    this.options.logger.info('client connection failed', { reason: err.message });
    this.stopped = true;
    this.stopGate();
    this.upstream.destroy();
  }

  private onServerError(err: Error): void {
    if (this.stopped) return;
    this.endWithError('target_unreachable', '08006', `airlock: the connection to target "${this.options.targetName}" failed: ${err.message}`);
    this.upstream.destroy();
  }

  private kill(signal: AbortSignal): void {
    if (this.stopped) return;
    this.endWithError('killed', '57P01', endedMessage(signal));
    this.upstream.destroy();
  }

  /** Stops relaying, tells the client why (when that does not split a server message), and closes. */
  private endWithError(code: RelayError['code'], sqlstate: string, message: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stopGate();
    this.error = { code, message };
    const canSpeak = !this.scanner.midMessage && !this.client.writableEnded;
    this.endClient(canSpeak ? errorResponse({ severity: 'FATAL', code: sqlstate, message }) : undefined);
    if (!this.upstream.writableEnded && !this.upstream.destroyed) this.upstream.end(terminate());
  }

  private endClient(last?: Buffer): void {
    if (!this.client.writableEnded && !this.client.destroyed) this.client.end(last);
  }

  /** Resolves once both streams are finished; a side that lingers after the other closed is destroyed. */
  private whenBothClosed(done: () => void): void {
    let open = 2;
    const grace = this.options.closeGraceMs ?? 5_000;
    const closed = (other: Duplex) => () => {
      if (--open === 0) return done();
      if (other === this.client) this.endClient();
      else if (!other.writableEnded) other.end();
      setTimeout(() => other.destroy(), grace).unref();
    };
    finished(this.client, closed(this.upstream));
    finished(this.upstream, closed(this.client));
  }
}
