/**
 * Converts the control plane's SessionPolicy (protobuf) into plain SessionRules, compiling regexes
 * once per session so that evaluation stays pure and cheap.
 */
import { MaskMode, PolicyAction, type CommandRule, type CompiledPolicy, type MaskingRule as WireMaskingRule, type SessionPolicy } from '@airlock/proto';
import { DETECTOR_NAMES, type DetectorName, type MaskingRule, type MaskMode as PlainMaskMode } from '../masking/index.js';
import type { Action, PolicyRules, Rule, SessionRules } from './types.js';

/** An unspecified action is a malformed policy: fail closed rather than guess. */
function toAction(a: PolicyAction): Action {
  switch (a) {
    case PolicyAction.ALLOW:
      return 'allow';
    case PolicyAction.REVIEW:
      return 'review';
    default:
      return 'deny';
  }
}

function toRule(r: CommandRule): Rule {
  const patterns: RegExp[] = [];
  let invalidPattern: string | undefined;
  for (const p of r.patterns) {
    try {
      patterns.push(new RegExp(p, 'i'));
    } catch {
      invalidPattern ??= p;
    }
  }
  return {
    statements: r.statements.map((s) => s.trim().toLowerCase()).filter((s) => s !== ''),
    tables: r.tables.map((t) => t.trim()).filter((t) => t !== ''),
    patterns,
    ...(invalidPattern !== undefined ? { invalidPattern } : {}),
    commands: nonEmpty(r.commands),
    methods: nonEmpty(r.methods).map((m) => m.toUpperCase()),
    paths: nonEmpty(r.paths),
    kube: {
      verbs: nonEmpty(r.verbs).map((v) => v.toLowerCase()),
      resources: nonEmpty(r.resources),
      namespaces: nonEmpty(r.namespaces),
      names: nonEmpty(r.names),
      subresources: nonEmpty(r.subresources),
    },
    action: toAction(r.action),
  };
}

function nonEmpty(values: readonly string[]): string[] {
  return values.map((v) => v.trim()).filter((v) => v !== '');
}

function toPolicy(p: CompiledPolicy): PolicyRules {
  return {
    name: p.name,
    version: p.version,
    rules: p.rules.map(toRule),
    defaultAction: toAction(p.defaultAction),
    ...(p.review
      ? {
          review: {
            reviewers: [...p.review.reviewers],
            approvals: p.review.approvals,
            rejectOnAny: p.review.rejectOnAny,
            timeoutSeconds: p.review.timeoutSeconds,
            approveForMaxSeconds: p.review.approveForMaxSeconds,
          },
        }
      : {}),
    failFast: p.failFast,
    unknownFunctions: p.failClosedOnUnknownFunctions ? 'fail-closed' : 'trust',
    sshPortForwarding: p.sshPortForwarding,
    sshAgentForwarding: p.sshAgentForwarding,
    continueWithoutRecording: p.continueWithoutRecording,
  };
}

export function fromWirePolicy(wire: SessionPolicy): SessionRules {
  return { policies: wire.policies.map(toPolicy), unrestricted: wire.unrestricted };
}

/** Every policy's masking rules, together: each value gets the strictest mode any rule gives it. */
export function maskingRulesOf(wire: SessionPolicy): MaskingRule[] {
  return wire.policies.flatMap((p) => p.masking.map(toMaskingRule));
}

/** Anything malformed masks more, never less: an unknown mode redacts, an unknown detector enables them all. */
function toMaskingRule(r: WireMaskingRule): MaskingRule {
  const mode = toMaskMode(r);
  if (r.columns.length > 0) return { columns: [...r.columns], mode };
  if (r.detectors.length > 0) {
    const known = r.detectors.every((d) => (DETECTOR_NAMES as readonly string[]).includes(d));
    return { detect: known ? (r.detectors as DetectorName[]) : [...DETECTOR_NAMES], mode };
  }
  try {
    return { pattern: new RegExp(r.pattern, 'gu'), mode };
  } catch {
    return { pattern: /[\s\S]+/gu, mode: { kind: 'redact' } };
  }
}

function toMaskMode(r: WireMaskingRule): PlainMaskMode {
  switch (r.mode) {
    case MaskMode.KEEP_LAST:
      return r.keep > 0 ? { kind: 'keep-last', keep: r.keep } : { kind: 'redact' };
    case MaskMode.HASH:
      return { kind: 'hash' };
    default:
      return { kind: 'redact' };
  }
}
