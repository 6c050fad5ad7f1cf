import { create } from '@bufbuild/protobuf';
import { PolicyAction, SessionPolicySchema } from '@airlock/proto';
import { describe, expect, it } from 'vitest';
import { fromWirePolicy } from './wire.js';

describe('fromWirePolicy', () => {
  it('converts every field and compiles patterns', () => {
    const rules = fromWirePolicy(create(SessionPolicySchema, {
      unrestricted: false,
      policies: [{
        name: 'prod', version: 3, defaultAction: PolicyAction.REVIEW, failFast: true,
        rules: [{ statements: [' DELETE '], tables: ['public.*'], patterns: ['where\\s+1'], action: PolicyAction.DENY }],
        review: { reviewers: ['group:dba'], approvals: 2, rejectOnAny: true, timeoutSeconds: 900, approveForMaxSeconds: 3600 },
      }],
    }));
    const p = rules.policies[0]!;
    expect(p).toMatchObject({ name: 'prod', version: 3, defaultAction: 'review', failFast: true, unknownFunctions: 'trust' });
    expect(p.review).toEqual({ reviewers: ['group:dba'], approvals: 2, rejectOnAny: true, timeoutSeconds: 900, approveForMaxSeconds: 3600 });
    expect(p.rules[0]).toMatchObject({ statements: ['delete'], tables: ['public.*'], action: 'deny' });
    expect(p.rules[0]!.patterns[0]!.test('DELETE FROM t WHERE 1')).toBe(true);
  });

  it('fails closed on unspecified actions and invalid patterns', () => {
    const rules = fromWirePolicy(create(SessionPolicySchema, {
      policies: [{ name: 'x', rules: [{ patterns: ['('], action: PolicyAction.ALLOW }] }],
    }));
    expect(rules.policies[0]!.defaultAction).toBe('deny');
    expect(rules.policies[0]!.rules[0]!.invalidPattern).toBe('(');
  });

  it('carries the policy’s choice to fail closed on unknown functions', () => {
    const rules = fromWirePolicy(create(SessionPolicySchema, {
      policies: [{ name: 'strict', defaultAction: PolicyAction.ALLOW, failClosedOnUnknownFunctions: true }],
    }));
    expect(rules.policies[0]!.unknownFunctions).toBe('fail-closed');
  });
});
