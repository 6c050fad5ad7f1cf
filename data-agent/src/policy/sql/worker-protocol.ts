/** Messages between the parser pool and its workers. */
import type { StatementAnalysis } from '../types.js';

export interface WorkerRequest {
  id: number;
  sql: string;
}

export type WorkerReply =
  | { ready: true }
  | { id: number; ok: true; statements: StatementAnalysis[] }
  /** syntax: an ordinary grammar error (the worker stays); otherwise the worker is replaced. */
  | { id: number; ok: false; syntax: boolean; message: string };
