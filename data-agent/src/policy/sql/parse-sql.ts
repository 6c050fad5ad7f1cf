/** One SQL string parsed and analysed, the same way on the main thread and in the parser workers. */
import { parseSync } from 'libpg-query';
import type { StatementAnalysis } from '../types.js';
import { analyzeParseResult } from './analyze-tree.js';

export type ParseOutcome =
  | { ok: true; statements: StatementAnalysis[] }
  /** syntax: an ordinary grammar error; otherwise the parser itself failed and must not be trusted again. */
  | { ok: false; syntax: boolean; message: string };

/** The parser module must already be loaded (`await loadModule()`) on this thread. */
export function parseAndAnalyze(sql: string): ParseOutcome {
  try {
    // libpg-query refuses '' outright; Postgres answers it with EmptyQueryResponse.
    return { ok: true, statements: sql === '' ? [] : analyzeParseResult(sql, parseSync(sql)) };
  } catch (e) {
    return { ok: false, syntax: isSyntaxError(e), message: e instanceof Error ? e.message : String(e) };
  }
}

/** libpg-query reports grammar errors as SqlError with sqlDetails; anything else means the parser itself failed. */
function isSyntaxError(e: unknown): boolean {
  if (!(e instanceof Error) || !('sqlDetails' in e)) return false;
  return !/stack|memory|unreachable|abort/i.test(e.message);
}
