/**
 * `airlock exec`: one SQL string run with the simple query protocol on its own upstream login (the same
 * login code as sessions), results collected as text. Database errors are part of the outcome; only a
 * target that cannot be reached or logged into throws.
 */
import { EngineError, type ExecOutcome, type ExecResultSet, type SessionContext } from '../engine.js';
import { endedMessage } from '../engine.js';
import { BackendScanner, type BackendMessage } from './backend-scanner.js';
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

/** Collects result sets until ReadyForQuery; rows past maxRows are read and dropped. */
class ResultCollector {
  readonly outcome: ExecOutcome = { results: [] };
  private current?: ExecResultSet;

  constructor(private readonly maxRows: number) {}

  /** Returns a message to send back (CopyFail), 'done' at ReadyForQuery, or undefined. */
  onMessage(msg: BackendMessage): Buffer | 'done' | undefined {
    switch (msg.type) {
      case 'RowDescription':
        this.current = { columns: msg.columns.map((c) => ({ name: c.name, typeOid: c.typeOid })), rows: [], commandTag: '', truncated: false };
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

function runQuery(conn: UpstreamConnection, sql: string, maxRows: number, signal: AbortSignal, options: ExecOptions): Promise<ExecOutcome> {
  const { socket } = conn;
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
    if (conn.leftover.length > 0) onData(conn.leftover);
    socket.resume();
  });
}
