/**
 * `airlock exec`: one SQL string run with the simple query protocol on its own upstream login (the same
 * login code as sessions), results collected as text. Database errors are part of the outcome; only a
 * target that cannot be reached or logged into throws.
 */
import { EngineError, type ExecOutcome, type ExecResultSet, type ResultMasking, type SessionContext } from '../engine.js';
import { endedMessage } from '../engine.js';
import { BackendScanner, type BackendMessage, type RowColumn } from './backend-scanner.js';
import { lookUpTables } from './catalog-resolver.js';
import type { TableColumns } from './result-rewriter.js';
import * as ser from './serializer.js';
import { systemClock, type TrackerClock } from './statement-tracker.js';
import { loginUpstream, UpstreamError, type UpstreamConnection } from './upstream-auth.js';

export interface ExecOptions {
  loginTimeoutMs?: number;
  maxServerMessageBytes?: number;
  clock?: TrackerClock;
}

export async function execStatement(sql: string, maxRows: number, ctx: SessionContext, options: ExecOptions = {}): Promise<ExecOutcome> {
  const conn = await loginForExec(ctx, options);
  const clock = options.clock ?? systemClock;
  const startedAt = clock.now();
  const startNs = clock.monotonicNs();
  try {
    const outcome = await runQuery(conn, sql, maxRows, ctx.signal, options);
    if (ctx.masking) await maskOutcome(outcome, ctx.masking, conn, ctx);
    const last = outcome.results[outcome.results.length - 1];
    ctx.recorder.record({
      sequence: 1,
      text: sql,
      startedAt,
      durationUs: Number((clock.monotonicNs() - startNs) / 1000n),
      ...(last?.rowsAffected !== undefined ? { rows: last.rowsAffected } : {}),
      commandTag: last?.commandTag ?? '',
      errorSqlstate: outcome.databaseError?.sqlstate ?? '',
      errorMessage: outcome.databaseError?.message ?? '',
      protocol: 'exec',
    });
    return outcome;
  } finally {
    if (!conn.socket.destroyed) conn.socket.end(ser.terminate());
    setTimeout(() => conn.socket.destroy(), 1_000).unref();
  }
}

async function loginForExec(ctx: SessionContext, options: ExecOptions): Promise<UpstreamConnection> {
  const { target } = ctx;
  try {
    return await loginUpstream({
      target,
      resolveSecret: (ref) => ctx.resolveSecret(ref),
      startupParams: { application_name: 'airlock exec' },
      signal: ctx.signal,
      timeoutMs: options.loginTimeoutMs,
    });
  } catch (err) {
    if (ctx.signal.aborted) throw new EngineError('killed', endedMessage(ctx.signal, 'exec'));
    const e = err instanceof UpstreamError ? err : new UpstreamError('protocol', (err as Error).message, '08P01');
    throw new EngineError('target_unreachable', e.kind === 'unreachable'
      ? `airlock: cannot reach target "${target.name}" at ${target.host}:${target.port}: ${e.detail}`
      : `airlock: login to target "${target.name}" as user "${target.user}" failed: ${e.reason}`);
  }
}

/** Column origins of each result set, aligned with ExecOutcome.results (masking needs them, the wire does not). */
const origins = new WeakMap<ExecResultSet, RowColumn[]>();

/**
 * Applies the session's masking to exec results, the same rules as on the wire: column rules by the
 * table column each result column reads (named through the catalog on the exec connection; when that
 * fails, every column rule is taken to match), content rules on every value, and binary values of a
 * masked column (a binary cursor) fail closed.
 */
async function maskOutcome(outcome: ExecOutcome, masking: ResultMasking, conn: UpstreamConnection, ctx: SessionContext): Promise<void> {
  const columnsOf = (set: ExecResultSet) => origins.get(set) ?? [];
  let tables = new Map<number, TableColumns>();
  const oids = [...new Set(outcome.results.flatMap((set) => columnsOf(set).map((c) => c.tableOid)).filter((o) => o !== 0))];
  if (masking.hasColumnRules && oids.length > 0) {
    tables = await lookUpTables(conn, oids, ctx.signal).catch((err: Error) => {
      ctx.logger.warn('masking could not name the result columns; masking them all', { sessionId: ctx.sessionId, reason: err.message });
      return new Map<number, TableColumns>();
    });
  }
  for (const set of outcome.results) {
    const masks = columnsOf(set).map((c) => {
      const table = tables.get(c.tableOid);
      const column = table?.columns.get(c.attnum);
      const mask = masking.forColumn(c.tableOid === 0 ? 'expression' : table && column !== undefined ? { schema: table.schema, table: table.table, column } : 'unresolved');
      return { mask, binary: c.format === 1, name: c.name };
    });
    const binary = masks.find((m) => m.binary && m.mask?.byRule);
    if (binary) {
      outcome.results = [];
      outcome.databaseError = { sqlstate: '42501', message: `airlock: column "${binary.name}" is masked by policy and cannot be sent in binary format; request it as text`, detail: '', hint: '' };
      return;
    }
    for (const row of set.rows) {
      row.forEach((value, i) => {
        const m = masks[i];
        if (value !== null && m?.mask && !m.binary) row[i] = m.mask.mask(value);
      });
    }
  }
  const error = outcome.databaseError;
  if (error) {
    error.message = masking.maskText(error.message);
    error.detail = masking.maskText(error.detail);
    error.hint = masking.maskText(error.hint);
  }
}

/** Collects result sets until ReadyForQuery; rows past maxRows are read and dropped. */
class ResultCollector {
  readonly outcome: ExecOutcome = { results: [] };
  private current?: ExecResultSet;
  private currentColumns: RowColumn[] = [];

  constructor(private readonly maxRows: number) {}

  /** Returns a message to send back (CopyFail), 'done' at ReadyForQuery, or undefined. */
  onMessage(msg: BackendMessage): Buffer | 'done' | undefined {
    switch (msg.type) {
      case 'RowDescription':
        this.current = { columns: msg.columns.map((c) => ({ name: c.name, typeOid: c.typeOid })), rows: [], commandTag: '', truncated: false };
        this.currentColumns = msg.columns;
        return undefined;
      case 'DataRow':
        if (!this.current) return undefined;
        if (this.current.rows.length < this.maxRows) this.current.rows.push(msg.values.map((v) => (v === null ? null : v.toString('utf8'))));
        else this.current.truncated = true;
        return undefined;
      case 'CommandComplete': {
        const set = this.current ?? { columns: [], rows: [], commandTag: '', truncated: false };
        set.commandTag = msg.tag;
        if (msg.rows !== undefined) set.rowsAffected = msg.rows;
        origins.set(set, this.current ? this.currentColumns : []);
        this.outcome.results.push(set);
        this.current = undefined;
        return undefined;
      }
      case 'ErrorResponse': {
        const { code, message, detail, hint } = msg.fields;
        this.outcome.databaseError = { sqlstate: code, message, detail, hint };
        return undefined;
      }
      case 'CopyInResponse':
        // There is no stdin to stream from in exec.
        return ser.copyFail('airlock exec cannot send COPY FROM STDIN data');
      case 'ReadyForQuery':
        return 'done';
      default:
        return undefined;
    }
  }
}

/** Runs one simple-protocol Query on a logged-in connection and collects its results as text. */
export function runQuery(conn: UpstreamConnection, sql: string, maxRows: number, signal: AbortSignal, options: ExecOptions): Promise<ExecOutcome> {
  const { socket } = conn;
  if (socket.destroyed) return Promise.reject(new EngineError('target_unreachable', 'airlock: the connection to the target was lost'));
  const leftover = conn.leftover;
  conn.leftover = Buffer.alloc(0); // handled once, by the first query
  const scanner = new BackendScanner({ decodeRows: true, maxMessageBytes: options.maxServerMessageBytes });
  const collector = new ResultCollector(maxRows);
  return new Promise((resolve, reject) => {
    const finish = (err?: Error) => {
      signal.removeEventListener('abort', onAbort);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onClose);
      if (err) reject(err);
      else resolve(collector.outcome);
    };
    const onData = (chunk: Buffer) => {
      try {
        for (const msg of scanner.push(chunk)) {
          const out = collector.onMessage(msg);
          if (out === 'done') return finish();
          if (out) socket.write(out);
        }
      } catch (err) {
        socket.destroy();
        finish(new EngineError('protocol', `airlock: target sent invalid data: ${(err as Error).message}`));
      }
    };
    const onClose = () => finish(new EngineError('target_unreachable', 'airlock: the connection to the target was lost during exec'));
    const onAbort = () => {
      socket.destroy();
      finish(new EngineError('killed', endedMessage(signal, 'exec')));
    };
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.write(ser.query(sql));
    if (leftover.length > 0) onData(leftover);
    socket.resume();
  });
}
