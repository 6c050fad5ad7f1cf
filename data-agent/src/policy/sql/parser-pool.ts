/**
 * A small pool of parser worker threads. Every failure mode ends in an analysis with `parseError`
 * (which evaluation turns into the strictest action) rather than a rejected promise: too large,
 * queue full, timed out, worker crashed, pool closed. A worker that timed out or failed in any way
 * other than an ordinary syntax error is terminated and replaced, so a poisoned WASM module never
 * serves another statement.
 */
import { Worker } from 'node:worker_threads';
import type { StatementAnalysis } from '../types.js';
import { failedAnalysis } from './analyze-tree.js';
import { InlineParser } from './inline-parser.js';
import type { WorkerReply, WorkerRequest } from './worker-protocol.js';

export interface ParserPoolOptions {
  /** Worker threads; default 1 (one parse is ~50 µs, a second thread mostly helps against a slow one). */
  size?: number;
  /** Larger statement strings are refused without parsing; default 1 MiB (a 1 MB IN-list takes ~0.7 s). */
  maxStatementBytes?: number;
  /** Per-parse time limit; the worker is replaced when it is exceeded. Default 2000 ms. */
  parseTimeoutMs?: number;
  /** Statements waiting for a worker; beyond this they fail closed at once. Default 256. */
  maxQueue?: number;
  /**
   * V8 heap limit per worker. A worker over it dies alone (and is replaced) instead of taking the
   * agent down with it. Default 512 MB; a 1 MiB IN-list needs well under that.
   */
  workerHeapMb?: number;
  /** A worker that has not loaded the parser after this long is replaced. Default 15 s. */
  startTimeoutMs?: number;
  /** Test only: lets the worker honour injected failures. */
  testHooks?: boolean;
  /** Parse short statements on the calling thread (default true); false sends everything to the worker. */
  inline?: boolean;
}

export interface ParserPoolStats {
  parsed: number;
  /** Of those, parsed on the calling thread (short statements). */
  inline: number;
  restarts: number;
  timeouts: number;
}

interface Job {
  id: number;
  sql: string;
  resolve: (s: StatementAnalysis[]) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job?: Job;
  timer?: NodeJS.Timeout;
}

/** After this many workers die before becoming ready, stop respawning until the next request. */
const MAX_START_FAILURES = 3;

/**
 * The worker is compiled next to this file. Under vitest this module runs from its .ts source, and a
 * worker thread is plain Node, so it is started with a development-only TypeScript loader.
 */
function workerSpec(): { url: URL; execArgv?: string[] } {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return { url: new URL('./parser-worker.js', here) };
  return {
    url: new URL('./parser-worker.ts', here),
    execArgv: ['--import', new URL('./dev-ts-register.mjs', here).href],
  };
}

export class ParserPool {
  private readonly size: number;
  private readonly maxBytes: number;
  private readonly inline: InlineParser | undefined;
  private readonly timeoutMs: number;
  private readonly maxQueue: number;
  private readonly testHooks: boolean;
  private readonly heapMb: number;
  private readonly startTimeoutMs: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private startFailures = 0;
  private closed = false;
  readonly stats: ParserPoolStats = { parsed: 0, inline: 0, restarts: 0, timeouts: 0 };

  constructor(options: ParserPoolOptions = {}) {
    this.size = Math.max(1, options.size ?? 1);
    this.maxBytes = options.maxStatementBytes ?? 1024 * 1024;
    // Test hooks exercise the worker, so they keep every statement off the inline path.
    this.inline = options.inline === false || options.testHooks ? undefined : new InlineParser();
    this.timeoutMs = options.parseTimeoutMs ?? 2000;
    this.maxQueue = options.maxQueue ?? 256;
    this.testHooks = options.testHooks ?? false;
    this.heapMb = options.workerHeapMb ?? 512;
    this.startTimeoutMs = options.startTimeoutMs ?? 15_000;
    for (let i = 0; i < this.size; i++) this.slots.push(this.spawn());
  }

  /**
   * Splits `sql` into statements and analyses each. Never rejects: anything that prevents analysis
   * yields a single analysis with `parseError` covering the whole text.
   */
  analyzeSql(sql: string): Promise<StatementAnalysis[]> {
    if (this.closed) return Promise.resolve([failedAnalysis(sql, 'SQL parser is closed')]);
    const bytes = Buffer.byteLength(sql, 'utf8');
    if (bytes > this.maxBytes) {
      return Promise.resolve([failedAnalysis(truncate(sql), `statement too large to analyse (${bytes} bytes, limit ${this.maxBytes})`)]);
    }
    if (sql.includes('\u0000')) {
      // The WASM parser reads a C string and would stop at the NUL, analysing less than we were given.
      return Promise.resolve([failedAnalysis(truncate(sql), 'statement contains a NUL character')]);
    }
    const inline = this.inline?.tryAnalyze(sql, bytes);
    if (inline) {
      this.stats.parsed++;
      this.stats.inline++;
      return Promise.resolve(inline);
    }
    if (this.queue.length >= this.maxQueue) {
      return Promise.resolve([failedAnalysis(sql, 'SQL parser busy (queue full)')]);
    }
    if (this.startFailures >= MAX_START_FAILURES) {
      // Try again, once, for this request; if the worker cannot start it fails closed below.
      this.startFailures = MAX_START_FAILURES - 1;
      this.refill();
    }
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, sql, resolve });
      this.pump();
    });
  }

  /** Stops every worker; waiting and later requests fail closed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.queue.splice(0)) job.resolve([failedAnalysis(job.sql, 'SQL parser is closed')]);
    const workers = this.slots.splice(0).map((slot) => {
      if (slot.timer) clearTimeout(slot.timer);
      slot.job?.resolve([failedAnalysis(slot.job.sql, 'SQL parser is closed')]);
      slot.worker.removeAllListeners();
      return slot.worker.terminate();
    });
    await Promise.all(workers);
  }

  private spawn(): Slot {
    const { url, execArgv } = workerSpec();
    const worker = new Worker(url, {
      workerData: { testHooks: this.testHooks },
      resourceLimits: { maxOldGenerationSizeMb: this.heapMb },
      ...(execArgv ? { execArgv } : {}),
    });
    const slot: Slot = { worker, ready: false };
    slot.timer = setTimeout(() => this.replace(slot, null), this.startTimeoutMs);
    worker.on('message', (msg: WorkerReply) => this.onReply(slot, msg));
    worker.on('error', (err) => this.replace(slot, `SQL parser failed: ${err.message}`));
    worker.on('exit', (code) => this.replace(slot, `SQL parser exited (code ${code})`));
    return slot;
  }

  private onReply(slot: Slot, msg: WorkerReply): void {
    if ('ready' in msg) {
      clearTimeout(slot.timer);
      slot.timer = undefined;
      slot.ready = true;
      this.startFailures = 0;
      this.pump();
      return;
    }
    const job = slot.job;
    if (!job || job.id !== msg.id) return; // a late reply from a job already failed by timeout
    clearTimeout(slot.timer);
    slot.job = undefined;
    slot.timer = undefined;
    this.stats.parsed++;
    if (msg.ok) job.resolve(msg.statements);
    else if (msg.syntax) job.resolve([failedAnalysis(job.sql, `syntax error: ${msg.message}`)]);
    else {
      job.resolve([failedAnalysis(job.sql, `SQL parser failed: ${msg.message}`)]);
      this.replace(slot, null);
      return;
    }
    this.pump();
  }

  /** Fails the slot's job (if any), terminates its worker and starts a fresh one. */
  private replace(slot: Slot, reason: string | null): void {
    const index = this.slots.indexOf(slot);
    if (index < 0 || this.closed) return;
    if (slot.timer) clearTimeout(slot.timer);
    if (slot.job && reason) slot.job.resolve([failedAnalysis(slot.job.sql, reason)]);
    slot.job = undefined;
    slot.worker.removeAllListeners();
    slot.worker.on('error', () => {}); // a dying worker may still report; nobody is listening any more
    void slot.worker.terminate();
    this.slots.splice(index, 1);
    this.stats.restarts++;
    if (!slot.ready) this.startFailures++;
    if (this.startFailures >= MAX_START_FAILURES) {
      // Workers cannot start (missing file, broken module): fail what waits rather than spin.
      for (const job of this.queue.splice(0)) job.resolve([failedAnalysis(job.sql, reason ?? 'SQL parser unavailable')]);
      return;
    }
    this.refill();
  }

  private refill(): void {
    while (!this.closed && this.slots.length < this.size) this.slots.push(this.spawn());
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (!slot.ready || slot.job) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.timer = setTimeout(() => {
        this.stats.timeouts++;
        this.replace(slot, `SQL parser timed out after ${this.timeoutMs} ms`);
      }, this.timeoutMs);
      slot.worker.postMessage({ id: job.id, sql: job.sql } satisfies WorkerRequest);
    }
  }
}

/** An oversized statement is not worth carrying around whole in verdicts and logs. */
function truncate(sql: string): string {
  return sql.length > 200 ? `${sql.slice(0, 200)}…` : sql;
}
