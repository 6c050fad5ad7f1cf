/** Small builders for policies in tests. */
import type { Action, PolicyRules, Rule, SessionRules } from '../types.js';

export interface RuleSpec {
  statements?: string[];
  tables?: string[];
  patterns?: string[];
  commands?: string[];
  methods?: string[];
  paths?: string[];
  kube?: Partial<Rule['kube']>;
  action: Action;
}

export function rule(spec: RuleSpec): Rule {
  return {
    statements: spec.statements ?? [],
    tables: spec.tables ?? [],
    patterns: (spec.patterns ?? []).map((p) => new RegExp(p, 'i')),
    commands: spec.commands ?? [],
    methods: spec.methods ?? [],
    paths: spec.paths ?? [],
    kube: { verbs: [], resources: [], namespaces: [], names: [], subresources: [], ...spec.kube },
    action: spec.action,
  };
}

export function policy(name: string, rules: RuleSpec[], defaultAction: Action, extra: Partial<PolicyRules> = {}): PolicyRules {
  return { name, version: 1, rules: rules.map(rule), defaultAction, failFast: false, unknownFunctions: 'trust',
    sshPortForwarding: false, sshAgentForwarding: false, continueWithoutRecording: false, ...extra };
}

export function session(...policies: PolicyRules[]): SessionRules {
  return { policies, unrestricted: false };
}

/** The example policy. */
export const PROD = policy('prod-postgres', [
  { statements: ['drop', 'truncate', 'alter', 'grant', 'revoke'], action: 'deny' },
  { statements: ['delete', 'update', 'insert'], tables: ['public.*'], action: 'review' },
  { statements: ['select', 'show', 'explain'], action: 'allow' },
], 'review');

/** Read-only: selects allowed, everything else denied. */
export const READ_ONLY = policy('read-only', [{ statements: ['select', 'show', 'explain'], action: 'allow' }], 'deny');

/** Everything allowed except writes to the secrets schema, which are denied. */
export const PERMISSIVE = policy('permissive', [
  { tables: ['secrets.*'], action: 'deny' },
  { statements: ['drop'], action: 'review' },
], 'allow');
