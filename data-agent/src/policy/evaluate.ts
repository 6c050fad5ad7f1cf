/**
 * Pure local policy evaluation. Within a policy the first matching rule wins, else its default;
 * across policies and across the statements of one query the strictest action wins (deny > review >
 * allow), so a query is refused whole if any part of it is denied.
 *
 * Fail-closed semantics, in one place:
 *  - A statement that did not parse, or whose effects are unknowable (DO, CALL, EXECUTE of a statement
 *    the session did not see prepared, SQL-running functions, lexing settings, COPY ... PROGRAM, and
 *    with `unknownFunctions: 'fail-closed'` any function outside the known built-ins) gets the
 *    strictest action any rule or the default of that policy could give.
 *  - Rules are asymmetric on purpose. A review/deny rule matches when ANY of the statement's kind or
 *    effects is listed and ANY touched table could be one its globs name (case-insensitively, any
 *    schema for an unqualified name). An allow rule matches only when ALL the statement's effects are
 *    listed and ALL touched tables certainly match: otherwise `WITH x AS (DELETE ...) SELECT` would be
 *    allowed by "allow select", and `SELECT ... FROM public.a, secrets.b` by "allow public.*".
 *  - A harmless session statement (BEGIN, COMMIT, SHOW, SET of a harmless setting...) that no rule
 *    names is allowed rather than given the default: drivers send them unasked, and they run no SQL.
 *  - PREPARE runs nothing and is judged at EXECUTE, but preparing a statement the policy denies is
 *    refused at once.
 */
import { namesRequestCriteria } from './request-evaluate.js';
import { KNOWN_SAFE_FUNCTIONS } from './sql/catalogue.js';
import { compileTableGlob, matchesForAllow, matchesForRestrict, type TableGlob } from './table-glob.js';
import {
  ACTION_RANK, stricter,
  type Action, type EvaluationContext, type MatchedRule, type PolicyRules, type Rule, type SessionRules,
  type StatementAnalysis, type Verdict,
} from './types.js';

export const DEFAULT_CONTEXT: EvaluationContext = { searchPathIsDefault: true };

interface Decision {
  action: Action;
  ruleIndex: number | 'default';
  reason: string;
}

const globCache = new WeakMap<Rule, TableGlob[]>();

function globsOf(rule: Rule): TableGlob[] {
  let globs = globCache.get(rule);
  if (!globs) globCache.set(rule, (globs = rule.tables.map(compileTableGlob)));
  return globs;
}

function ruleMatches(rule: Rule, s: StatementAnalysis, ctx: EvaluationContext): boolean {
  if (namesRequestCriteria(rule)) return false; // written for SSH, HTTP or Kubernetes
  const restrictive = rule.action !== 'allow';
  if (rule.invalidPattern !== undefined) return restrictive;
  if (rule.statements.length > 0) {
    const listed = (k: string) => rule.statements.includes(k);
    const ok = restrictive ? listed(s.kind) || s.effects.some(listed) : s.effects.length > 0 && s.effects.every(listed);
    if (!ok) return false;
  }
  if (rule.tables.length > 0) {
    const globs = globsOf(rule);
    const ok = restrictive
      ? s.tables.some((t) => globs.some((g) => matchesForRestrict(g, t)))
      : s.tables.every((t) => globs.some((g) => matchesForAllow(g, t, ctx)));
    if (!ok) return false;
  }
  if (rule.patterns.length > 0 && !rule.patterns.some((p) => p.test(s.text))) return false;
  return true;
}

/** Why the statement's effects cannot be known for this policy, or null when they can. */
function unknowableReason(policy: PolicyRules, s: StatementAnalysis): string | null {
  if (s.parseError !== undefined) return `cannot be analysed (${s.parseError})`;
  if (s.unknowable) return `effects cannot be known (${s.reasons.join('; ')})`;
  if (s.executes.length > 0) return `runs prepared statement ${s.executes.map((n) => `"${n}"`).join(', ')} not prepared through airlock`;
  if (policy.unknownFunctions === 'fail-closed') {
    const unknown = s.functions.filter((f) => !KNOWN_SAFE_FUNCTIONS.has(f.replace(/^pg_catalog\./, '')));
    if (unknown.length > 0) return `calls functions the policy does not trust (${unknown.join(', ')})`;
  }
  return null;
}

/** The strictest action this policy can give anything, and which rule (or the default) gives it. */
function strictest(policy: PolicyRules): { action: Action; ruleIndex: number | 'default' } {
  let best: { action: Action; ruleIndex: number | 'default' } = { action: policy.defaultAction, ruleIndex: 'default' };
  policy.rules.forEach((r, i) => {
    if (ACTION_RANK[r.action] > ACTION_RANK[best.action]) best = { action: r.action, ruleIndex: i };
  });
  return best;
}

function label(policy: PolicyRules): string {
  return `policy ${policy.name} v${policy.version}`;
}

export function decideStatement(policy: PolicyRules, s: StatementAnalysis, ctx: EvaluationContext = DEFAULT_CONTEXT): Decision {
  const why = unknowableReason(policy, s);
  if (why !== null) {
    const worst = strictest(policy);
    return { ...worst, reason: `${label(policy)}: statement ${why}: ${worst.action} (strictest the policy allows)` };
  }
  if (s.prepare) {
    const inner = decideStatement(policy, s.prepare.inner, ctx);
    if (inner.action === 'deny') return { ...inner, reason: `PREPARE of a denied statement: ${inner.reason}` };
  }
  const index = policy.rules.findIndex((r) => ruleMatches(r, s, ctx));
  if (index >= 0) {
    const action = policy.rules[index]!.action;
    return { action, ruleIndex: index, reason: `${label(policy)}: rule ${index + 1} (${action}) matches ${s.kind}` };
  }
  if (s.harmless) return { action: 'allow', ruleIndex: 'default', reason: `${label(policy)}: harmless session statement` };
  return { action: policy.defaultAction, ruleIndex: 'default', reason: `${label(policy)}: no rule matches ${s.kind}, default ${policy.defaultAction}` };
}

function preview(text: string): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > 80 ? `${flat.slice(0, 80)}…` : flat;
}

/** Judges a whole query (one or more analysed statements) against every policy of the session. */
export function evaluate(rules: SessionRules, statements: StatementAnalysis[], ctx: EvaluationContext = DEFAULT_CONTEXT): Verdict {
  if (rules.unrestricted) return { action: 'allow', reasons: ['unrestricted session: no policy covers this connection'], matched: [] };
  if (rules.policies.length === 0) return { action: 'deny', reasons: ['no policy applies to this session'], matched: [] };
  if (statements.length === 0) return { action: 'allow', reasons: ['empty query'], matched: [] };
  const decisions: (Decision & MatchedRule)[] = [];
  statements.forEach((s, statementIndex) => {
    for (const policy of rules.policies) {
      const d = decideStatement(policy, s, ctx);
      const where = statements.length > 1 ? `statement ${statementIndex + 1} ` : '';
      decisions.push({ ...d, reason: `${where}"${preview(s.text)}" — ${d.reason}`, policy: policy.name, version: policy.version, statementIndex });
    }
  });
  const action = decisions.reduce<Action>((acc, d) => stricter(acc, d.action), 'allow');
  const winners = decisions.filter((d) => d.action === action);
  return {
    action,
    reasons: [...new Set(winners.map((d) => d.reason))],
    matched: winners.map(({ policy, version, ruleIndex, statementIndex }) => ({ policy, version, ruleIndex, statementIndex })),
  };
}
