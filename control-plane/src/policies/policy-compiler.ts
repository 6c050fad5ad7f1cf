/**
 * Which policies apply to whom and where, and the compiled form the agent evaluates. Pure functions
 * over already-validated specs; PoliciesService loads the policies and calls these.
 */
import { MaskMode, PolicyAction } from '@airlock/proto';
import { matchesGlob } from '../common/globs.js';
import type { Role } from '../identity/api-token.entity.js';
import { policySubjectsOf } from '../identity/principal.js';
import type { MaskingSpec, MaskModeName, PolicySpec, Verdict } from './policy-document.js';

/** Who is asking, as the gateway knows them (a Principal fits). */
export interface PolicySubject {
  /** `user:NAME`, `serviceaccount:NAME`, or an un-prefixed name such as `bootstrap-admin` (read as user:NAME). */
  readonly subject: string;
  readonly groups: readonly string[];
  readonly role: Role;
}

/** The connection a session is for. Tags are matched by `tag:KEY=VALUE` selectors. */
export interface PolicyTarget {
  readonly name: string;
  readonly tags?: Readonly<Record<string, string>>;
}

/** A live policy at its current version. */
export interface StoredPolicy {
  readonly name: string;
  readonly version: number;
  readonly spec: PolicySpec;
}

/** airlock.v1.CommandRule as a plain object (also a protobuf-es init shape). */
export interface CommandRulePlain {
  statements: string[];
  tables: string[];
  patterns: string[];
  commands: string[];
  methods: string[];
  paths: string[];
  verbs: string[];
  resources: string[];
  namespaces: string[];
  names: string[];
  subresources: string[];
  action: PolicyAction;
}

/** airlock.v1.ReviewSettings as a plain object. */
export interface ReviewSettingsPlain {
  reviewers: string[];
  approvals: number;
  rejectOnAny: boolean;
  timeoutSeconds: number;
  approveForMaxSeconds: number;
}

/** airlock.v1.MaskingRule as a plain object. */
export interface MaskingRulePlain {
  columns: string[];
  detectors: string[];
  pattern: string;
  mode: MaskMode;
  keep: number;
}

/** airlock.v1.CompiledPolicy as a plain object. */
export interface CompiledPolicyPlain {
  name: string;
  version: number;
  rules: CommandRulePlain[];
  defaultAction: PolicyAction;
  review?: ReviewSettingsPlain;
  failFast: boolean;
  failClosedOnUnknownFunctions: boolean;
  /** Present only when the policy masks something. */
  masking?: MaskingRulePlain[];
  sshPortForwarding: boolean;
  sshAgentForwarding: boolean;
  continueWithoutRecording: boolean;
}

/**
 * airlock.v1.SessionPolicy as a plain object: `create(SessionPolicySchema, plain)` gives the message.
 * Every policy applies to every statement; the strictest verdict wins.
 */
export interface SessionPolicyPlain {
  policies: CompiledPolicyPlain[];
  /** No policy covers the connection and the subject is an admin: allow and record everything. */
  unrestricted: boolean;
}

/** What it takes to open a session at all (just-in-time access), across every applicable policy. */
export type AccessRequirement =
  | { readonly access: 'allow' }
  | {
      readonly access: 'review';
      /** The policies that ask for it, by name. */
      readonly policies: string[];
      /** The longest grant any reviewer may give: the shortest accessDuration among those policies. */
      readonly maxDurationSeconds: number;
      /** Review settings of each of those policies, in name order. */
      readonly reviews: ReviewSettingsPlain[];
    };

const ACTION: Record<Verdict, PolicyAction> = {
  allow: PolicyAction.ALLOW,
  review: PolicyAction.REVIEW,
  deny: PolicyAction.DENY,
};

/** Does the policy's `spec.connections` select this connection (name, glob or tag)? */
export function coversConnection(spec: PolicySpec, target: PolicyTarget): boolean {
  return spec.connections.some((selector) => {
    if (selector.startsWith('tag:')) {
      const [key, value] = selector.slice('tag:'.length).split('=', 2);
      const actual = target.tags?.[key];
      return actual !== undefined && matchesGlob(value, actual);
    }
    return matchesGlob(selector, target.name);
  });
}

/** Does the policy's `spec.subjects` name this principal (directly, by group, or with `*`)? */
export function bindsSubject(spec: PolicySpec, who: PolicySubject): boolean {
  const names = new Set(policySubjectsOf(who));
  return spec.subjects.some((subject) => subject === '*' || names.has(subject));
}

/** The policies that apply to `who` on `target`, in name order. */
export function applicablePolicies(policies: readonly StoredPolicy[], who: PolicySubject, target: PolicyTarget): StoredPolicy[] {
  return policies.filter((p) => coversConnection(p.spec, target) && bindsSubject(p.spec, who)).sort(byName);
}

/**
 * The session policy for `who` on `target`, or null when they may not use it at all: no policy
 * binds them there and they are not an admin. Admins on a connection no policy covers are
 * unrestricted; on a covered connection policies bind admins like anyone.
 */
export function compileSessionPolicy(policies: readonly StoredPolicy[], who: PolicySubject, target: PolicyTarget): SessionPolicyPlain | null {
  const applicable = applicablePolicies(policies, who, target);
  if (applicable.length > 0) return { policies: applicable.map(compilePolicy), unrestricted: false };
  const covered = policies.some((p) => coversConnection(p.spec, target));
  return who.role === 'admin' && !covered ? { policies: [], unrestricted: true } : null;
}

/** Whether opening a session needs a just-in-time grant; null exactly when compileSessionPolicy is. */
export function accessRequirement(policies: readonly StoredPolicy[], who: PolicySubject, target: PolicyTarget): AccessRequirement | null {
  const session = compileSessionPolicy(policies, who, target);
  if (!session) return null;
  const asking = applicablePolicies(policies, who, target).filter((p) => p.spec.access === 'review');
  if (asking.length === 0) return { access: 'allow' };
  return {
    access: 'review',
    policies: asking.map((p) => p.name),
    maxDurationSeconds: Math.min(...asking.map((p) => p.spec.accessDurationSeconds ?? Number.POSITIVE_INFINITY)),
    reviews: asking.flatMap((p) => (p.spec.review ? [reviewSettings(p.spec.review)] : [])),
  };
}

export function compilePolicy(policy: StoredPolicy): CompiledPolicyPlain {
  const { spec } = policy;
  return {
    name: policy.name,
    version: policy.version,
    rules: spec.rules.map((rule) => ({
      statements: [...rule.match.statements],
      tables: [...rule.match.tables],
      patterns: [...rule.match.patterns],
      commands: [...(rule.match.commands ?? [])],
      methods: [...(rule.match.methods ?? [])],
      paths: [...(rule.match.paths ?? [])],
      verbs: [...(rule.match.kube?.verbs ?? [])],
      resources: [...(rule.match.kube?.resources ?? [])],
      namespaces: [...(rule.match.kube?.namespaces ?? [])],
      names: [...(rule.match.kube?.names ?? [])],
      subresources: [...(rule.match.kube?.subresources ?? [])],
      action: ACTION[rule.action],
    })),
    defaultAction: ACTION[spec.default],
    ...(spec.review ? { review: reviewSettings(spec.review) } : {}),
    failFast: spec.reviewMode === 'fail-fast',
    // Stored specs from before the field existed trust functions, as they did when applied.
    failClosedOnUnknownFunctions: spec.unknownFunctions === 'strictest',
    ...(spec.masking && spec.masking.length > 0 ? { masking: spec.masking.map(maskingRule) } : {}),
    sshPortForwarding: spec.ssh?.portForwarding ?? false,
    sshAgentForwarding: spec.ssh?.agentForwarding ?? false,
    continueWithoutRecording: spec.recordingFailure === 'continue',
  };
}

const MASK_MODE: Record<MaskModeName, MaskMode> = {
  redact: MaskMode.REDACT,
  'keep-last': MaskMode.KEEP_LAST,
  hash: MaskMode.HASH,
};

function maskingRule(rule: MaskingSpec): MaskingRulePlain {
  return {
    columns: [...(rule.columns ?? [])],
    detectors: [...(rule.detect ?? [])],
    pattern: rule.pattern ?? '',
    mode: MASK_MODE[rule.mode],
    keep: rule.keep ?? 0,
  };
}

function reviewSettings(review: NonNullable<PolicySpec['review']>): ReviewSettingsPlain {
  return {
    reviewers: [...review.reviewers],
    approvals: review.approvals,
    rejectOnAny: review.rejectOnAny,
    timeoutSeconds: review.timeoutSeconds,
    approveForMaxSeconds: review.approveForSeconds,
  };
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
