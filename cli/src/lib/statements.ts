/**
 * Recorded statements, read defensively: the server's field names are normalized here once so the
 * table and `--json` both show the same stable shape.
 */
import type { RawStatement } from './api.js';

export interface StatementError {
  sqlstate: string | null;
  message: string;
}

export interface StatementView {
  sequence: number;
  text: string;
  startedAt: string | null;
  durationMs: number | null;
  rows: number | null;
  commandTag: string | null;
  error: StatementError | null;
}

export function normalizeStatement(raw: RawStatement, index: number): StatementView {
  return {
    sequence: numberField(raw, 'sequence', 'seq', 'index') ?? index + 1,
    text: stringField(raw, 'text', 'sql', 'query', 'statement') ?? '',
    startedAt: stringField(raw, 'startedAt', 'started_at'),
    durationMs: numberField(raw, 'durationMs', 'duration_ms', 'duration'),
    rows: numberField(raw, 'rows', 'rowCount', 'rowsAffected', 'row_count'),
    commandTag: stringField(raw, 'commandTag', 'command_tag', 'tag'),
    error: normalizeError(raw.error ?? raw.errorMessage),
  };
}

/** `42P01 relation "x" does not exist`, or just the message when there is no SQLSTATE. */
export function describeStatementError(error: StatementError | null): string {
  if (!error) return '';
  return error.sqlstate ? `${error.sqlstate} ${error.message}` : error.message;
}

function normalizeError(value: unknown): StatementError | null {
  if (value === null || value === undefined || value === '' || value === false) return null;
  if (typeof value === 'string') return { sqlstate: null, message: value };
  if (typeof value === 'object') {
    const record = value as RawStatement;
    return {
      sqlstate: stringField(record, 'sqlstate', 'sqlState', 'code'),
      message: stringField(record, 'message', 'msg') ?? JSON.stringify(value),
    };
  }
  return { sqlstate: null, message: String(value) };
}

function stringField(record: RawStatement, ...names: string[]): string | null {
  for (const name of names) {
    const value = record[name];
    if (typeof value === 'string') return value;
  }
  return null;
}

function numberField(record: RawStatement, ...names: string[]): number | null {
  for (const name of names) {
    const value = record[name];
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
      return Number(value);
    }
  }
  return null;
}
