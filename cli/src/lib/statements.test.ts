import { describe, expect, it } from 'vitest';
import { describeStatementError, normalizeStatement } from './statements.js';

describe('normalizeStatement', () => {
  it('keeps the documented fields as they are', () => {
    const raw = { sequence: 4, text: 'select 1', startedAt: 'T', durationMs: 2, rows: 1, commandTag: 'SELECT 1', error: null };
    expect(normalizeStatement(raw, 0)).toEqual(raw);
  });

  it('tolerates other field names, string numbers, missing fields and a string error', () => {
    expect(normalizeStatement({ sql: 'delete from t', duration_ms: '12.5', rowCount: '3', error: 'denied by policy' }, 6)).toEqual({
      sequence: 7, text: 'delete from t', startedAt: null, durationMs: 12.5, rows: 3, commandTag: null,
      error: { sqlstate: null, message: 'denied by policy' },
    });
  });

  it('reads an error object with code instead of sqlstate', () => {
    const view = normalizeStatement({ text: 'x', error: { code: '42501', message: 'permission denied' } }, 0);
    expect(describeStatementError(view.error)).toBe('42501 permission denied');
  });
});
