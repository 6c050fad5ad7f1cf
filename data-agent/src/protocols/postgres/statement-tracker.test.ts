import { describe, expect, it } from 'vitest';
import type { StatementRecord } from '../engine.js';
import type { BackendMessage } from './backend-scanner.js';
import { StatementTracker } from './statement-tracker.js';

function tracker() {
  const records: StatementRecord[] = [];
  let ns = 0n;
  const clock = { monotonicNs: () => (ns += 1_000_000n), now: () => new Date('2026-01-01T00:00:00Z') };
  return { t: new StatementTracker({ record: (r) => records.push(r) }, clock), records };
}

const cc = (tag: string, rows?: number): BackendMessage => (rows === undefined ? { type: 'CommandComplete', tag } : { type: 'CommandComplete', tag, rows });
const err = (code: string, message: string): BackendMessage => ({ type: 'ErrorResponse', fields: { severity: 'ERROR', code, message, detail: '', hint: '' } });
const z: BackendMessage = { type: 'ReadyForQuery', status: 'I' };

describe('StatementTracker', () => {
  it('records a multi-command simple Query once, at ReadyForQuery, summing rows', () => {
    const { t, records } = tracker();
    t.onClient({ type: 'Query', sql: 'insert into a values (1); update a set x = 1' });
    t.onServer(cc('INSERT 0 1', 1));
    t.onServer(cc('UPDATE 3', 3));
    expect(records).toEqual([]);
    t.onServer(z);
    expect(records).toEqual([{
      sequence: 1, text: 'insert into a values (1); update a set x = 1', startedAt: new Date('2026-01-01T00:00:00Z'),
      durationUs: 1000, rows: 4, commandTag: 'UPDATE 3', errorSqlstate: '', errorMessage: '', protocol: 'simple',
    }]);
  });

  it('matches pipelined Executes in order; an error skips the rest until Sync', () => {
    const { t, records } = tracker();
    t.onClient({ type: 'Parse', name: '', sql: 'select 1', paramTypes: [] });
    t.onClient({ type: 'Bind', portal: '', statement: '', paramCount: 0 });
    t.onClient({ type: 'Execute', portal: '', maxRows: 0 });
    t.onClient({ type: 'Parse', name: 'bad', sql: 'select 1/0', paramTypes: [] });
    t.onClient({ type: 'Bind', portal: 'p', statement: 'bad', paramCount: 0 });
    t.onClient({ type: 'Execute', portal: 'p', maxRows: 0 });
    t.onClient({ type: 'Parse', name: '', sql: 'select 3', paramTypes: [] });
    t.onClient({ type: 'Bind', portal: '', statement: '', paramCount: 0 });
    t.onClient({ type: 'Execute', portal: '', maxRows: 0 });
    t.onClient({ type: 'Sync' });
    t.onClient({ type: 'Query', sql: 'select 4' });
    t.onServer(cc('SELECT 1', 1));
    t.onServer(err('22012', 'division by zero'));
    t.onServer(z);
    t.onServer(cc('SELECT 1', 1));
    t.onServer(z);
    expect(records.map((r) => [r.sequence, r.protocol, r.text, r.commandTag, r.errorSqlstate])).toEqual([
      [1, 'extended', 'select 1', 'SELECT 1', ''],
      [2, 'extended', 'select 1/0', '', '22012'],
      [3, 'simple', 'select 4', 'SELECT 1', ''],
    ]);
    expect(t.pendingCount).toBe(0);
  });

  it('ignores Executes the client sends after an error it has already seen, until Sync', () => {
    const { t, records } = tracker();
    t.onClient({ type: 'Parse', name: '', sql: 'selec', paramTypes: [] });
    t.onClient({ type: 'Flush' });
    t.onServer(err('42601', 'syntax error'));
    t.onClient({ type: 'Execute', portal: '', maxRows: 0 });
    t.onClient({ type: 'Sync' });
    t.onServer(z);
    expect(records).toEqual([]);
    expect(t.pendingCount).toBe(0);
  });

  it('says which statement, and which command of a simple Query, the server is answering', () => {
    const { t } = tracker();
    expect(t.answering).toBeUndefined();
    t.onClient({ type: 'Query', sql: 'select 1; copy t to stdout' });
    t.onClient({ type: 'Parse', name: 's', sql: 'copy u to stdout', paramTypes: [] });
    t.onClient({ type: 'Bind', portal: '', statement: 's', paramCount: 0 });
    t.onClient({ type: 'Execute', portal: '', maxRows: 0 });
    t.onClient({ type: 'Sync' });
    expect(t.answering).toEqual({ text: 'select 1; copy t to stdout', protocol: 'simple', command: 0 });
    t.onServer(cc('SELECT 1', 1));
    expect(t.answering).toEqual({ text: 'select 1; copy t to stdout', protocol: 'simple', command: 1 });
    t.onServer(cc('COPY 2', 2));
    t.onServer(z);
    expect(t.answering).toEqual({ text: 'copy u to stdout', protocol: 'extended', command: 0 });
    t.onServer(cc('COPY 2', 2));
    expect(t.answering).toBeUndefined(); // only the Sync is left
  });

  it('records statements still running when the session ends', () => {
    const { t, records } = tracker();
    t.onClient({ type: 'Query', sql: 'select pg_sleep(10)' });
    t.abandon('the session ended before the statement completed');
    expect(records[0]).toMatchObject({ text: 'select pg_sleep(10)', errorMessage: 'the session ended before the statement completed' });
  });
});
