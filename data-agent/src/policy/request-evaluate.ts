/**
 * Policy for SSH commands, HTTP requests and Kubernetes API calls: the same rules, actions and
 * strictest-wins combination as SQL statements, with each protocol's own criteria. Pure.
 */
import type { ProtocolRequest } from '../protocols/engine.js';
import { ACTION_RANK, stricter, type Action, type MatchedRule, type PolicyRules, type Rule, type SessionRules, type Verdict } from './types.js';

const globCache = new WeakMap<Rule, Map<string, RegExp>>();

/**
 * `*` matches any run of characters except `/` in paths; in commands it matches anything (spaces too),
 * so "rm *" covers "rm -rf /". `**` in paths crosses segments.
 */
export function compileGlob(glob: string, kind: 'path' | 'command' | 'name'): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (c === '*') source += kind === 'path' ? '[^/]*' : '.*';
    else if (c === '?') source += kind === 'path' ? '[^/]' : '.';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, kind === 'command' ? 's' : '');
}

function glob(rule: Rule, pattern: string, kind: 'path' | 'command' | 'name'): RegExp {
  let cache = globCache.get(rule);
  if (!cache) globCache.set(rule, (cache = new Map()));
  const key = `${kind}\u0000${pattern}`;
  let re = cache.get(key);
  if (!re) cache.set(key, (re = compileGlob(pattern, kind)));
  return re;
}

function anyGlob(rule: Rule, globs: string[], value: string, kind: 'path' | 'command' | 'name'): boolean {
  return globs.some((g) => glob(rule, g, kind).test(value));
}

/** Whether the rule names any Kubernetes criterion. */
export function hasKube(rule: Rule): boolean {
  const k = rule.kube;
  return k.verbs.length + k.resources.length + k.namespaces.length + k.names.length + k.subresources.length > 0;
}

/** Whether the rule names any SSH, HTTP or Kubernetes criterion: such a rule says nothing about SQL. */
export function namesRequestCriteria(rule: Rule): boolean {
  return rule.commands.length > 0 || rule.methods.length > 0 || rule.paths.length > 0 || hasKube(rule);
}

/** Whether the rule speaks about this protocol at all (SQL-only rules never do). */
function judgesProtocol(rule: Rule, protocol: ProtocolRequest['protocol']): boolean {
  if (rule.statements.length > 0 || rule.tables.length > 0) return false;
  const ssh = rule.commands.length > 0;
  const http = rule.methods.length > 0 || rule.paths.length > 0;
  const kube = hasKube(rule);
  switch (protocol) {
    case 'ssh':
      return !http && !kube && (ssh || rule.patterns.length > 0 || rule.invalidPattern !== undefined);
    case 'http':
      return !ssh && !kube && (http || rule.patterns.length > 0 || rule.invalidPattern !== undefined);
    case 'kubernetes':
      return !ssh && (kube || http || rule.patterns.length > 0 || rule.invalidPattern !== undefined);
  }
}

function requestMatches(rule: Rule, request: ProtocolRequest): boolean {
  if (!judgesProtocol(rule, request.protocol)) return false;
  if (rule.invalidPattern !== undefined) return rule.action !== 'allow';
  if (rule.patterns.length > 0 && !rule.patterns.some((p) => p.test(request.text))) return false;
  if (request.protocol === 'ssh') {
    return rule.commands.length === 0 || anyGlob(rule, rule.commands, request.command.trim(), 'command');
  }
  if (rule.methods.length > 0 && !rule.methods.includes(request.method.toUpperCase())) return false;
  if (rule.paths.length > 0 && !anyGlob(rule, rule.paths, request.path, 'path')) return false;
  if (request.protocol === 'http') return true;
  const k = rule.kube;
  if (k.verbs.length > 0 && !k.verbs.includes(request.verb)) return false;
  if (k.resources.length > 0 && !anyGlob(rule, k.resources, request.resource, 'name')) return false;
  if (k.namespaces.length > 0 && !anyGlob(rule, k.namespaces, request.namespace, 'name')) return false;
  if (k.names.length > 0 && !anyGlob(rule, k.names, request.name, 'name')) return false;
  if (k.subresources.length > 0 && !anyGlob(rule, k.subresources, request.subresource, 'name')) return false;
  return true;
}

interface RequestDecision {
  action: Action;
  ruleIndex: number | 'default';
  reason: string;
}

export function decideRequest(policy: PolicyRules, request: ProtocolRequest): RequestDecision {
  const label = `policy ${policy.name} v${policy.version}`;
  if (request.protocol === 'ssh' && request.unknowable) {
    const worst = strictestFor(policy, 'ssh');
    return { ...worst, reason: `${label}: what "${request.text}" runs cannot be known (${request.unknowable}): ${worst.action} (strictest the policy allows)` };
  }
  const index = policy.rules.findIndex((r) => requestMatches(r, request));
  if (index >= 0) {
    const action = policy.rules[index]!.action;
    return { action, ruleIndex: index, reason: `${label}: rule ${index + 1} (${action}) matches "${request.text}"` };
  }
  return { action: policy.defaultAction, ruleIndex: 'default', reason: `${label}: no rule matches "${request.text}", default ${policy.defaultAction}` };
}

/** The strictest action this policy gives any request of the protocol: its rules for it and its default. */
function strictestFor(policy: PolicyRules, protocol: ProtocolRequest['protocol']): { action: Action; ruleIndex: number | 'default' } {
  let worst: { action: Action; ruleIndex: number | 'default' } = { action: policy.defaultAction, ruleIndex: 'default' };
  policy.rules.forEach((rule, index) => {
    if (judgesProtocol(rule, protocol) && ACTION_RANK[rule.action] > ACTION_RANK[worst.action]) worst = { action: rule.action, ruleIndex: index };
  });
  return worst;
}

/** Every policy judges the request; the strictest verdict wins, as for statements. */
export function evaluateRequest(rules: SessionRules, request: ProtocolRequest): Verdict {
  if (rules.unrestricted) return { action: 'allow', reasons: ['unrestricted session: no policy covers this connection'], matched: [] };
  if (rules.policies.length === 0) return { action: 'deny', reasons: ['no policy applies to this session'], matched: [] };
  const decisions = rules.policies.map((policy) => ({ policy, decision: decideRequest(policy, request) }));
  const action = decisions.reduce<Action>((acc, d) => stricter(acc, d.decision.action), 'allow');
  const winners = decisions.filter((d) => ACTION_RANK[d.decision.action] === ACTION_RANK[action]);
  return {
    action,
    reasons: winners.map((w) => w.decision.reason),
    matched: winners.map((w): MatchedRule => ({ policy: w.policy.name, version: w.policy.version, ruleIndex: w.decision.ruleIndex, statementIndex: 0 })),
  };
}
