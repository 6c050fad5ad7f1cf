import { loadModule, parseSync } from 'libpg-query';
import { beforeAll, describe, expect, it } from 'vitest';
import type { StatementAnalysis } from '../types.js';
import { analyzeParseResult } from './analyze-tree.js';

// Benign inputs only: parsing on the test's main thread is fine here (hostile input is in parser-pool.test.ts).
beforeAll(async () => {
  await loadModule();
});

function analyze(sql: string): StatementAnalysis[] {
  return sql === '' ? [] : analyzeParseResult(sql, parseSync(sql));
}

function one(sql: string): StatementAnalysis {
  const all = analyze(sql);
  expect(all).toHaveLength(1);
  return all[0]!;
}

describe('statement kinds and effects', () => {
  it.each([
    ['select 1', 'select', ['select']],
    ['SeLeCt * FrOm t', 'select', ['select']],
    ['with x as (delete from t returning *) select * from x', 'select', ['select', 'delete']],
    ['with x as (update t set a = 1 returning *) select * from x', 'select', ['select', 'update']],
    ['with x as (insert into t values (1) returning *) select * from x', 'select', ['select', 'insert']],
    ['with a as (with b as (delete from t returning *) select * from b) select * from a', 'select', ['select', 'delete']],
    ['select * from (select 1) s where exists (select 1 from t)', 'select', ['select']],
    ['insert into t values (1) on conflict (id) do update set a = 2', 'insert', ['insert', 'update']],
    ['insert into t values (1) on conflict do nothing', 'insert', ['insert']],
    ['merge into t using s on t.id = s.id when matched then delete when not matched then insert values (s.id)', 'merge', ['merge', 'delete', 'insert']],
    ['explain analyze delete from t', 'explain', ['explain', 'delete']],
    ['explain (analyze, buffers) update t set a = 1', 'explain', ['explain', 'update']],
    ['explain (analyze false) delete from t', 'explain', ['explain']],
    ['explain delete from t', 'explain', ['explain']],
    ['explain analyze select 1', 'explain', ['explain', 'select']],
    ['create table a as select * from t', 'create', ['create', 'select']],
    ['select * into b from t', 'create', ['create', 'select']],
    ['copy t from stdin', 'copy', ['copy', 'insert']],
    ['copy t to stdout', 'copy', ['copy', 'select']],
    ['copy (delete from t returning *) to stdout', 'copy', ['copy', 'select', 'delete']],
    ['declare c cursor for select * from t', 'declare', ['select']],
    ['drop table t', 'drop', ['drop']],
    ['drop schema s cascade', 'drop', ['drop']],
    ['alter table t add column c int', 'alter', ['alter']],
    ['alter system set work_mem = 1', 'alter', ['alter']],
    ['create index on t (a)', 'create', ['create']],
    ['grant select on t to u', 'grant', ['grant']],
    ['revoke select on t from u', 'revoke', ['revoke']],
    ['grant r to u', 'grant', ['grant']],
    ['truncate t', 'truncate', ['truncate']],
    ['begin', 'begin', ['begin']],
    ['start transaction read only', 'begin', ['begin']],
    ['commit', 'commit', ['commit']],
    ['rollback', 'rollback', ['rollback']],
    ['savepoint a', 'savepoint', ['savepoint']],
    ['release savepoint a', 'savepoint', ['savepoint']],
    ['rollback to savepoint a', 'savepoint', ['savepoint']],
    ['commit prepared \'x\'', 'commit', ['commit']],
    ['show search_path', 'show', ['show']],
    ['set work_mem = \'1MB\'', 'set', ['set']],
    ['reset all', 'reset', ['reset']],
    ['lock table t', 'lock', ['lock']],
    ['vacuum t', 'vacuum', ['vacuum']],
    ['analyze t', 'analyze', ['analyze']],
    ['listen x', 'listen', ['listen']],
    ['notify x', 'notify', ['notify']],
    ['fetch 10 from c', 'fetch', ['fetch']],
    ['close c', 'close', ['close']],
    ['discard all', 'discard', ['discard']],
    ['comment on table t is \'x\'', 'comment', ['comment']],
    ['refresh materialized view v', 'refresh', ['refresh']],
    ['reindex table t', 'reindex', ['reindex']],
    ['cluster t using i', 'cluster', ['cluster']],
    ['security label on table t is \'x\'', 'security_label', ['security_label']],
    ['do $$ begin delete from t; end $$', 'do', ['do']],
    ['call p()', 'call', ['call']],
    ['execute p', 'execute', ['execute']],
    ['prepare p as delete from t', 'prepare', ['prepare']],
    ['deallocate p', 'deallocate', ['deallocate']],
    ['checkpoint', 'other', ['other']],
  ] as const)('%s → %s', (sql, kind, effects) => {
    const s = one(sql);
    expect(s.kind).toBe(kind);
    expect([...s.effects].sort()).toEqual([...effects].sort());
  });
});

describe('tables', () => {
  it.each([
    ['select * from public.users', [{ schema: 'public', name: 'users' }]],
    ['select * from users', [{ schema: null, name: 'users' }]],
    ['SELECT * FROM PUBLIC.USERS', [{ schema: 'public', name: 'users' }]],
    ['select * from "Public"."Users"', [{ schema: 'Public', name: 'Users' }]],
    ['select * from "ユーザー"', [{ schema: null, name: 'ユーザー' }]],
    ['delete from s.t where id in (select id from u.v)', [{ schema: 's', name: 't' }, { schema: 'u', name: 'v' }]],
    ['drop table a.b, c', [{ schema: 'a', name: 'b' }, { schema: null, name: 'c' }]],
    ['drop schema secrets cascade', [{ schema: 'secrets', name: '*', wholeSchema: true }]],
    ['grant select on all tables in schema secrets to u', [{ schema: 'secrets', name: '*', wholeSchema: true }]],
    ['drop trigger trg on s.t', [{ schema: 's', name: 't' }]],
    ['truncate s.t, u', [{ schema: 's', name: 't' }, { schema: null, name: 'u' }]],
    ['explain delete from s.t', [{ schema: 's', name: 't' }]],
    ['create table a.b as select * from c.d', [{ schema: 'a', name: 'b' }, { schema: 'c', name: 'd' }]],
  ])('%s', (sql, tables) => {
    expect(one(sql).tables).toEqual(expect.arrayContaining(tables));
    expect(one(sql).tables).toHaveLength(tables.length);
  });

  it('walks a deep but valid tree without recursion', () => {
    const sql = `select ${'('.repeat(900)}1${')'.repeat(900)} from deep.t`;
    expect(one(sql).tables).toEqual([{ schema: 'deep', name: 't' }]);
  });
});

describe('unknowable statements', () => {
  it.each([
    ['do $$ begin delete from t; end $$', /DO block/],
    ['call p()', /CALL/],
    ['select dblink_exec(\'host=x\', \'delete from t\')', /dblink_exec/],
    ['select public.dblink(\'x\', \'select 1\')', /dblink/],
    ['select * from query_to_xml(\'delete from t returning *\', true, true, \'\')', /query_to_xml/],
    ['select pg_read_file(\'/etc/passwd\')', /files/],
    ['copy t to program \'sh\'', /PROGRAM/],
    ['copy t from program \'curl x\'', /PROGRAM/],
    ['copy t to \'/tmp/x\'', /file/],
    ['set standard_conforming_strings = off', /standard_conforming_strings/],
    ['set standard_conforming_strings to default', /standard_conforming_strings/],
    ['reset standard_conforming_strings', /standard_conforming_strings/],
    ['set client_encoding = \'SJIS\'', /client_encoding/],
    ['set names \'GBK\'', /client_encoding/],
    ['set backslash_quote = on', /backslash_quote/],
    ['set escape_string_warning = off', /escape_string_warning/],
    ['select set_config(\'standard_conforming_strings\', \'off\', false)', /standard_conforming_strings/],
    ['select pg_catalog.set_config(\'client_encoding\'::text, \'BIG5\', true)', /client_encoding/],
    ['select set_config(name, \'off\', false) from t', /computed setting name/],
    ['update pg_settings set setting = \'off\' where name = \'standard_conforming_strings\'', /pg_settings/],
    ['explain delete from t where dblink_exec(\'x\') = \'\'', /dblink_exec/],
    ['load \'somelib\'', /LOAD/],
  ])('%s', (sql, reason) => {
    const s = one(sql);
    expect(s.unknowable).toBe(true);
    expect(s.reasons.join('; ')).toMatch(reason);
  });

  it.each([
    'set standard_conforming_strings = on',
    'set client_encoding = \'UTF8\'',
    'select set_config(\'application_name\', \'x\', false)',
    'select count(*) from t',
    'set search_path = app, public',
  ])('%s is knowable', (sql) => {
    expect(one(sql).unknowable).toBe(false);
  });

  it('reports EXECUTE and PREPARE for the session judge', () => {
    expect(one('execute p(1, 2)').executes).toEqual(['p']);
    expect(one('explain analyze execute p').executes).toEqual(['p']);
    expect(one('explain execute p').executes).toEqual([]);
    expect(one('create table x as execute p').executes).toEqual(['p']);
    const prep = one('prepare p (int) as delete from s.t where id = $1');
    expect(prep.prepare?.name).toBe('p');
    expect(prep.prepare?.inner.effects).toEqual(['delete']);
    expect(prep.prepare?.inner.tables).toEqual([{ schema: 's', name: 't' }]);
    expect(one('deallocate all').deallocate).toEqual({ name: null });
    expect(one('deallocate prepare p').deallocate).toEqual({ name: 'p' });
    expect(one('discard all').deallocate).toEqual({ name: null });
  });
});

describe('statement splitting by UTF-8 byte offsets', () => {
  it('cuts each statement exactly after multi-byte text', () => {
    const all = analyze("select 'é€😀' as \"名前\"; delete from \"テーブル\" ; /* ü */ select 2");
    expect(all.map((s) => s.text)).toEqual(["select 'é€😀' as \"名前\"", 'delete from "テーブル"', 'select 2']);
    expect(all[1]!.tables).toEqual([{ schema: null, name: 'テーブル' }]);
  });

  it('keeps comments and semicolons inside strings and dollar quotes in their statement', () => {
    const all = analyze("select 'a;b' -- ; drop table t\n; select $x$ ; delete from t $x$; select /* ; /* nested ; */ */ 3");
    expect(all.map((s) => s.kind)).toEqual(['select', 'select', 'select']);
    expect(all).toHaveLength(3);
  });

  it('returns nothing for an empty or comment-only query', () => {
    expect(analyze('')).toEqual([]);
    expect(analyze('  -- nothing\n /* here */ ')).toEqual([]);
  });
});

describe('harmless session statements', () => {
  it.each([
    ['begin', true], ['commit', true], ['rollback', true], ['savepoint a', true], ['show all', true],
    ['set extra_float_digits = 3', true], ['set application_name = \'x\'', true],
    ['set transaction isolation level serializable', true], ['set search_path = app', true],
    ['set role admin', false], ['set session authorization bob', false], ['set session_replication_role = replica', false],
    ['commit prepared \'x\'', false], ['prepare transaction \'x\'', false], ['select 1', false], ['reset all', true],
    ['deallocate all', true], ['fetch all from c', true],
  ] as const)('%s → %s', (sql, harmless) => {
    expect(one(sql).harmless).toBe(harmless);
  });
});
