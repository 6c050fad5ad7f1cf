/**
 * Converts the control plane's SessionPolicy (protobuf) into plain SessionRules, compiling regexes
 * once per session so that evaluation stays pure and cheap.
 */
import { PolicyAction, type CommandRule, type CompiledPolicy, type SessionPolicy } from '@airlock/proto';
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
    action: toAction(r.action),
  };
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
  };
}

export function fromWirePolicy(wire: SessionPolicy): SessionRules {
  return { policies: wire.policies.map(toPolicy), unrestricted: wire.unrestricted };
}
