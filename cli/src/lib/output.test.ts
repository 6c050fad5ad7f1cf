import { describe, expect, it } from 'vitest';
import { humanAge, humanBytes, humanDuration, renderDetails, renderTable, truncate } from './output.js';

describe('humanized values', () => {
  it.each([
    [0.42, '0.4ms'], [3, '3ms'], [12.6, '13ms'], [1530, '1.5s'], [59_940, '59.9s'],
    [192_000, '3m 12s'], [7_500_000, '2h 5m'], [null, '-'], [-1, '-'],
  ])('duration %s ms reads %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });

  it.each([
    [0, '0 B'], [1023, '1023 B'], [2048, '2 KiB'], [1_572_864, '1.5 MiB'], [150 * 1024 ** 3, '150 GiB'], [undefined, '-'],
  ])('%s bytes read %s', (bytes, text) => {
    expect(humanBytes(bytes)).toBe(text);
  });

  it('ages read relative to now, past and future', () => {
    const now = Date.parse('2025-11-25T12:00:00Z');
    expect(humanAge('2025-11-25T11:59:58Z', now)).toBe('just now');
    expect(humanAge('2025-11-25T11:55:00Z', now)).toBe('5m ago');
    expect(humanAge('2025-11-22T12:00:00Z', now)).toBe('3d ago');
    expect(humanAge('2025-11-25T13:00:00Z', now)).toBe('in 1h');
    expect(humanAge(null, now)).toBe('-');
    expect(humanAge('not a date', now)).toBe('-');
  });

  it('truncates with an ellipsis only when needed', () => {
    expect(truncate('select 1', 8)).toBe('select 1');
    expect(truncate('select 1', 7)).toBe('select…');
  });
});

describe('renderTable', () => {
  const columns = [
    { header: 'ID', value: (r: { id: string; sql: string }) => r.id },
    { header: 'SQL', value: (r: { id: string; sql: string }) => r.sql, flex: true },
  ];

  it('aligns columns without borders or trailing spaces', () => {
    expect(renderTable([{ id: '1', sql: 'select 1' }, { id: '22', sql: 'x' }], columns)).toBe(
      ['ID  SQL', '1   select 1', '22  x'].join('\n'),
    );
  });

  it('shortens the flex column to fit the width and keeps cells on one line', () => {
    const table = renderTable([{ id: '1', sql: 'select a,\n  b, c, d, e, f, g, h, i, j, k\nfrom t' }], columns, { maxWidth: 30 });
    expect(table.split('\n')[1]).toBe('1   select a, b, c, d, e, f, …');
  });
});

describe('renderDetails', () => {
  it('aligns values and leaves out absent rows', () => {
    expect(renderDetails([['Name', 'pg'], ['Error', undefined], ['TLS mode', 'require']])).toBe(
      'Name:      pg\nTLS mode:  require',
    );
  });
});
