import { describe, expect, it } from 'vitest';
import { evaluate } from './evaluate.js';
import { PROD, READ_ONLY, policy, rule, session } from './test-support/rules.js';
import type { StatementAnalysis } from './types.js';

function stmt(over: Partial<StatementAnalysis>): StatementAnalysis {
  const kind = over.kind ?? 'select';
  return {
    text: 'x', kind, effects: [kind], tables: [], functions: [], program: false, unknowable: false, reasons: [],
    harmless: false, settings: [], executes: [], ...over,
  };
}

describe('evaluate', () => {
  it('allows everything in an unrestricted session and denies when no policy applies', () => {
    expect(evaluate({ policies: [], unrestricted: true }, [stmt({ kind: 'drop' })]).action).toBe('allow');
    expect(evaluate({ policies: [], unrestricted: false }, [stmt({})]).action).toBe('deny');
  });

  it('uses the first matching rule, else the default', () => {
    const p = policy('p', [
      { statements: ['delete'], action: 'review' },
      { statements: ['delete'], action: 'deny' },
    ], 'allow');
    const v = evaluate(session(p), [stmt({ kind: 'delete' })]);
    expect(v).toMatchObject({ action: 'review', matched: [{ policy: 'p', version: 1, ruleIndex: 0, statementIndex: 0 }] });
    expect(evaluate(session(p), [stmt({ kind: 'insert' })]).matched[0]!.ruleIndex).toBe('default');
  });

  it('gives unknowable and unparseable statements the strictest action of each policy', () => {
    const reviewAtMost = policy('r', [{ statements: ['drop'], action: 'review' }], 'allow');
    const u = stmt({ kind: 'do', unknowable: true, reasons: ['DO block'] });
    expect(evaluate(session(reviewAtMost), [u])).toMatchObject({ action: 'review', matched: [{ ruleIndex: 0 }] });
    expect(evaluate(session(READ_ONLY), [u]).action).toBe('deny');
    expect(evaluate(session(policy('a', [], 'allow')), [u]).action).toBe('allow');
    const broken = stmt({ kind: 'other', parseError: 'syntax error', unknowable: true });
    expect(evaluate(session(reviewAtMost), [broken]).reasons[0]).toMatch(/cannot be analysed \(syntax error\)/);
    expect(evaluate(session(reviewAtMost), [stmt({ kind: 'execute', executes: ['p'] })]).action).toBe('review');
  });

  it('matches review/deny rules on ANY effect but allow rules only when ALL effects are listed', () => {
    const hidden = stmt({ kind: 'select', effects: ['select', 'delete'] });
    expect(evaluate(session(READ_ONLY), [hidden]).action).toBe('deny');
    const denyDelete = policy('d', [{ statements: ['delete'], action: 'deny' }], 'allow');
    expect(evaluate(session(denyDelete), [hidden]).action).toBe('deny');
    const denyExecute = policy('e', [{ statements: ['execute'], action: 'deny' }], 'allow');
    expect(evaluate(session(denyExecute), [stmt({ kind: 'execute', effects: ['select'] })]).action).toBe('deny');
  });

  it('treats unqualified tables per action', () => {
    const t = [stmt({ tables: [{ schema: null, name: 'keys' }] })];
    expect(evaluate(session(policy('d', [{ tables: ['secrets.keys'], action: 'deny' }], 'allow')), t).action).toBe('deny');
    const allowPublic = policy('a', [{ tables: ['public.*'], action: 'allow' }], 'review');
    expect(evaluate(session(allowPublic), t).action).toBe('allow');
    expect(evaluate(session(allowPublic), t, { searchPathIsDefault: false }).action).toBe('review');
    expect(evaluate(session(policy('s', [{ tables: ['*.keys'], action: 'allow' }], 'review')), t, { searchPathIsDefault: false }).action).toBe('allow');
    expect(evaluate(session(policy('x', [{ tables: ['app.*'], action: 'allow' }], 'review')), t).action).toBe('review');
    expect(evaluate(session(policy('p', [{ tables: ['pub*.*'], action: 'allow' }], 'review')), t).action).toBe('review');
  });

  it('matches globs segment by segment', () => {
    const p = policy('g', [{ tables: ['bill*.inv*'], action: 'deny' }], 'allow');
    const at = (schema: string | null, name: string) => evaluate(session(p), [stmt({ tables: [{ schema, name }] })]).action;
    expect(at('billing', 'invoices')).toBe('deny');
    expect(at('BILLING', 'Invoices')).toBe('deny');
    expect(at('billing', 'orders')).toBe('allow');
    expect(at('public', 'invoices')).toBe('allow');
    expect(at('bill.ing', 'invoices')).toBe('deny'); // quoted dotted name: still one segment
  });

  it('requires all present criteria of a rule', () => {
    const p = policy('c', [{ statements: ['delete'], tables: ['public.*'], patterns: ['where'], action: 'deny' }], 'allow');
    const del = (text: string, schema: string) => stmt({ kind: 'delete', text, tables: [{ schema, name: 't' }] });
    expect(evaluate(session(p), [del('delete from public.t where a', 'public')]).action).toBe('deny');
    expect(evaluate(session(p), [del('delete from public.t', 'public')]).action).toBe('allow');
    expect(evaluate(session(p), [del('delete from x.t where a', 'x')]).action).toBe('allow');
  });

  it('fails closed on an invalid pattern: restrictive rules match, allow rules do not', () => {
    const bad = { ...policy('b', [], 'review'), rules: [{ ...rule({ action: 'deny' }), invalidPattern: '(' }] };
    expect(evaluate(session(bad), [stmt({})]).action).toBe('deny');
    const badAllow = { ...bad, rules: [{ ...bad.rules[0]!, action: 'allow' as const }] };
    expect(evaluate(session(badAllow), [stmt({})]).action).toBe('review');
  });

  it('lets harmless statements through unless a rule names them', () => {
    expect(evaluate(session(READ_ONLY), [stmt({ kind: 'begin', harmless: true })]).action).toBe('allow');
    const noBegin = policy('n', [{ statements: ['begin'], action: 'deny' }], 'deny');
    expect(evaluate(session(noBegin), [stmt({ kind: 'begin', harmless: true })]).action).toBe('deny');
  });

  it('refuses PREPARE of a denied statement but defers review to EXECUTE', () => {
    const prep = (kind: 'delete' | 'drop') => stmt({
      kind: 'prepare', effects: ['prepare'], harmless: true,
      prepare: { name: 'p', inner: stmt({ kind, tables: [{ schema: 'public', name: 't' }] }) },
    });
    expect(evaluate(session(PROD), [prep('drop')]).action).toBe('deny');
    expect(evaluate(session(PROD), [prep('delete')]).action).toBe('allow');
  });

  it('fails closed on untrusted functions when the policy asks for it', () => {
    const strict = policy('f', [{ statements: ['select'], action: 'allow' }], 'review', { unknownFunctions: 'fail-closed' });
    expect(evaluate(session(strict), [stmt({ functions: ['count', 'pg_catalog.lower'] })]).action).toBe('allow');
    const v = evaluate(session(strict), [stmt({ functions: ['count', 'myschema.wipe'] })]);
    expect(v.action).toBe('review');
    expect(v.reasons[0]).toMatch(/myschema\.wipe/);
  });

  it('judges a query as its strictest statement', () => {
    const v = evaluate(session(PROD), [stmt({}), stmt({ kind: 'drop' }), stmt({ kind: 'delete', tables: [{ schema: 'public', name: 't' }] })]);
    expect(v.action).toBe('deny');
    expect(v.matched).toEqual([{ policy: 'prod-postgres', version: 1, ruleIndex: 0, statementIndex: 1 }]);
    expect(v.reasons[0]).toMatch(/^statement 2 /);
  });
});
