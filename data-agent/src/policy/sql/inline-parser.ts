/**
 * Parses short statements on the calling thread. Handing every statement to the worker costs more
 * than the parse itself (measured: ~90 µs of CPU through the worker, ~20 µs inline, per pgbench
 * SELECT). Hostile nesting needs tens of KB of SQL to hurt the WASM stack, so statements up to
 * INLINE_MAX_BYTES stay here; anything larger, and everything after an unexpected parser failure,
 * goes to the worker.
 */
import { loadModule } from 'libpg-query';
import type { StatementAnalysis } from '../types.js';
import { failedAnalysis } from './analyze-tree.js';
import { parseAndAnalyze } from './parse-sql.js';

export const INLINE_MAX_BYTES = 1024;

export class InlineParser {
  private ready = false;
  private broken = false;

  constructor() {
    loadModule().then(
      () => (this.ready = true),
      () => (this.broken = true),
    );
  }

  /** The analysis, or undefined when this statement must go to the worker. */
  tryAnalyze(sql: string, bytes: number): StatementAnalysis[] | undefined {
    if (!this.ready || this.broken || bytes > INLINE_MAX_BYTES) return undefined;
    const outcome = parseAndAnalyze(sql);
    if (outcome.ok) return outcome.statements;
    if (outcome.syntax) return [failedAnalysis(sql, `syntax error: ${outcome.message}`)];
    // The parser itself is in trouble: never use it on this thread again.
    this.broken = true;
    return undefined;
  }
}
