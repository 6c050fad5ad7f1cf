import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionJudge } from './session-judge.js';
import { ParserPool } from './sql/parser-pool.js';
import { PERMISSIVE, PROD, READ_ONLY, policy, session } from './test-support/rules.js';

let pool: ParserPool;
beforeAll(() => {
  pool = new ParserPool();
});
afterAll(async () => {
  await pool.close();
});

const judge = (...policies: Parameters<typeof session>) => new SessionJudge(session(...policies), pool);

describe('SessionJudge: extended protocol', () => {
  it('judges Parse and, at Execute, what the bound portal runs', async () => {
    const j = judge(PROD);
    expect((await j.judgeParse('s1', 'delete from public.t where id = $1')).verdict.action).toBe('review');
    j.bind('', 's1');
    const run = j.judgeExecute('');
    expect(run.verdict.action).toBe('review');
    expect(run.statements[0]!.kind).toBe('delete');
  });

  it('replaces the unnamed statement on each Parse', async () => {
    const j = judge(READ_ONLY);
    await j.judgeParse('', 'delete from t');
    await j.judgeParse('', 'select 1');
    j.bind('', '');
    expect(j.judgeExecute('').verdict.action).toBe('allow');
  });

  it('fails closed on a portal or statement it never saw', async () => {
    const j = judge(READ_ONLY);
    expect(j.judgeExecute('nope').verdict.action).toBe('deny');
    j.bind('p', 'never-parsed');
    expect(j.judgeExecute('p').verdict.action).toBe('deny');
    await j.judgeSimpleQuery('declare c cursor for select 1');
    expect(j.judgeExecute('c').verdict.action).toBe('deny'); // cursors are not tracked as portals
  });

  it('shares one namespace between protocol Parse and SQL PREPARE/EXECUTE', async () => {
    const j = judge(PROD);
    await j.judgeParse('s1', 'delete from public.t');
    expect((await j.judgeSimpleQuery('execute s1')).verdict.action).toBe('review');
    await j.judgeSimpleQuery('prepare q as select 1');
    j.bind('', 'q');
    expect(j.judgeExecute('').verdict.action).toBe('allow');
  });

  it('resolves a Parse of EXECUTE at Execute time', async () => {
    const j = judge(PROD);
    await j.judgeParse('outer', 'execute inner_p');
    await j.judgeSimpleQuery('prepare inner_p as delete from public.t');
    j.bind('', 'outer');
    expect(j.judgeExecute('').verdict.action).toBe('review');
  });

  it('forgets statements on Close and DEALLOCATE (later use fails closed)', async () => {
    const j = judge(READ_ONLY);
    await j.judgeParse('s', 'select 1');
    j.closeStatement('s');
    expect((await j.judgeSimpleQuery('execute s')).verdict.action).toBe('deny');
    await j.judgeParse('s', 'select 1');
    j.bind('p', 's');
    j.closePortal('p');
    expect(j.judgeExecute('p').verdict.action).toBe('deny');
  });

  it('records a SET from a Parse before it runs', async () => {
    const j = judge(PERMISSIVE);
    expect((await j.judgeParse('', 'set standard_conforming_strings = off')).verdict.action).toBe('deny');
    expect((await j.judgeSimpleQuery('select 1')).verdict.action).toBe('deny');
  });
});

describe('SessionJudge: lexing context', () => {
  it('fails the whole session closed after a lexing setting changes', async () => {
    const j = judge(PERMISSIVE);
    expect((await j.judgeSimpleQuery("select set_config('standard_conforming_strings', 'off', false)")).verdict.action).toBe('deny');
    expect(j.failingClosed).toBe(true);
    const next = await j.judgeSimpleQuery("select 'a\\'; drop table public.t; --'");
    expect(next.verdict.action).toBe('deny');
    expect(next.verdict.reasons.join()).toMatch(/standard_conforming_strings/);
  });

  it('fails closed when the server reports a lexing setting we do not lex alike', async () => {
    const j = judge(PERMISSIVE);
    j.onParameterStatus('client_encoding', 'UTF8');
    j.onParameterStatus('standard_conforming_strings', 'on');
    j.onParameterStatus('server_version', '16.1');
    expect((await j.judgeSimpleQuery('select 1')).verdict.action).toBe('allow');
    j.onParameterStatus('client_encoding', 'SJIS');
    expect((await j.judgeSimpleQuery('select 1')).verdict.action).toBe('deny');
    j.onParameterStatus('client_encoding', 'UTF8');
    expect((await j.judgeSimpleQuery('select 1')).verdict.action).toBe('deny'); // sticky for the session
  });

  it('does not mind a harmless policy: its strictest action is still allow', async () => {
    const j = judge(policy('all', [], 'allow'));
    await j.judgeSimpleQuery('set standard_conforming_strings = off');
    expect((await j.judgeSimpleQuery('select 1')).verdict.action).toBe('allow');
  });
});

describe('SessionJudge: search_path', () => {
  const publicOnly = policy('public-only', [{ statements: ['select'], tables: ['public.*'], action: 'allow' }], 'deny');

  it('stops assuming public once the startup options set search_path', async () => {
    const j = new SessionJudge(session(publicOnly), pool, { searchPathIsDefault: false });
    expect((await j.judgeSimpleQuery('select * from a')).verdict.action).toBe('deny');
    expect((await j.judgeSimpleQuery('select * from public.a')).verdict.action).toBe('allow');
  });

  it('a SET search_path applies to the rest of its own query too (conservatively, to all of it)', async () => {
    const j = judge(publicOnly);
    expect((await j.judgeSimpleQuery('set search_path = secrets; select * from keys')).verdict.action).toBe('deny');
    expect((await j.judgeSimpleQuery('select * from a')).verdict.action).toBe('deny');
    expect((await j.judgeSimpleQuery('select * from public.a')).verdict.action).toBe('allow');
  });
});
