import { describe, expect, it } from 'vitest';
import { EngineError } from '../engine.js';
import { engineFor } from '../registry.js';
import { makeContext, makeTarget } from './test-support/session-harness.js';

// The machine's own Postgres (trust for postgres@127.0.0.1): no password is needed, so none is read.
const local = makeTarget({ host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres' });
const exec = (sql: string, maxRows = 100, ctx = makeContext(local)) => engineFor('postgres').exec!(sql, maxRows, ctx);

describe('PostgresEngine.exec', () => {
  it('returns columns and text rows, NULL as null, and records the statement', async () => {
    const ctx = makeContext(local);
    const outcome = await exec("select 1 as a, null::text as b, 'x' as c union all select 2, 'y', null", 100, ctx);
    expect(outcome).toEqual({
      results: [{
        columns: [{ name: 'a', typeOid: 23 }, { name: 'b', typeOid: 25 }, { name: 'c', typeOid: 25 }],
        rows: [['1', null, 'x'], ['2', 'y', null]],
        commandTag: 'SELECT 2',
        rowsAffected: 2,
        truncated: false,
      }],
    });
    expect(ctx.records).toEqual([expect.objectContaining({ sequence: 1, protocol: 'exec', commandTag: 'SELECT 2', rows: 2, errorSqlstate: '' })]);
    expect(ctx.secretReads).toBe(0);
  });

  it('keeps maxRows rows and marks the result truncated', async () => {
    const { results } = await exec('select g from generate_series(1, 10) g', 3);
    expect(results[0]).toMatchObject({ rows: [['1'], ['2'], ['3']], truncated: true, rowsAffected: 10 });
  });

  it('returns one result per command', async () => {
    const { results } = await exec('create temp table e (n int); insert into e values (1), (2); select count(*) from e');
    expect(results.map((r) => [r.commandTag, r.rowsAffected, r.rows])).toEqual([
      ['CREATE TABLE', undefined, []],
      ['INSERT 0 2', 2, []],
      ['SELECT 1', 1, [['2']]],
    ]);
  });

  it('returns a database error instead of throwing, and records it', async () => {
    const ctx = makeContext(local);
    const outcome = await exec('select * from no_such_table', 10, ctx);
    expect(outcome).toEqual({
      results: [],
      databaseError: { sqlstate: '42P01', message: 'relation "no_such_table" does not exist', detail: '', hint: '' },
    });
    expect(ctx.records[0]).toMatchObject({ errorSqlstate: '42P01', errorMessage: 'relation "no_such_table" does not exist' });
  });

  it('refuses COPY FROM STDIN with a readable database error', async () => {
    const outcome = await exec('create temp table c (n int); copy c from stdin');
    expect(outcome.databaseError?.sqlstate).toBe('57014');
    expect(outcome.databaseError?.message).toContain('airlock exec cannot send COPY FROM STDIN data');
  });

  it('throws EngineError target_unreachable when the target is down', async () => {
    const err = await exec('select 1', 1, makeContext(makeTarget({ port: 1 }))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect(err).toMatchObject({ code: 'target_unreachable', message: 'airlock: cannot reach target "demo" at 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1' });
  });
});
