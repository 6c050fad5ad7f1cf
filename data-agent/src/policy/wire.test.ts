import { create } from '@bufbuild/protobuf';
import { MaskMode, PolicyAction, SessionPolicySchema } from '@airlock/proto';
import { describe, expect, it } from 'vitest';
import { maskingFactory } from '../masking/session-masking.js';
import { fromWirePolicy, maskingRulesOf } from './wire.js';

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

describe('maskingRulesOf', () => {
  it('collects every policy\'s masking rules, and anything malformed masks more, never less', () => {
    const wire = create(SessionPolicySchema, {
      policies: [
        { name: 'a', masking: [{ columns: ['*.email'], mode: MaskMode.REDACT }, { columns: ['*.card'], mode: MaskMode.KEEP_LAST, keep: 4 }] },
        { name: 'b', masking: [
          { detectors: ['email', 'card'], mode: MaskMode.HASH },
          { detectors: ['email', 'passport'], mode: MaskMode.HASH },
          { pattern: 'ACME-[0-9]{6}', mode: MaskMode.UNSPECIFIED },
          { pattern: 'ACME-(', mode: MaskMode.HASH },
          { columns: ['*.x'], mode: MaskMode.KEEP_LAST, keep: 0 },
        ] },
      ],
    });
    const rules = maskingRulesOf(wire);
    expect(rules.slice(0, 3)).toEqual([
      { columns: ['*.email'], mode: { kind: 'redact' } },
      { columns: ['*.card'], mode: { kind: 'keep-last', keep: 4 } },
      { detect: ['email', 'card'], mode: { kind: 'hash' } },
    ]);
    expect(rules[3]).toMatchObject({ detect: ['email', 'card', 'iban', 'ssn', 'phone', 'ipv4', 'ipv6', 'jwt', 'api-key'] });
    expect(rules[4]).toMatchObject({ pattern: /ACME-[0-9]{6}/gu, mode: { kind: 'redact' } });
    expect(rules[5]).toMatchObject({ pattern: /[\s\S]+/gu, mode: { kind: 'redact' } });
    expect(rules[6]).toEqual({ columns: ['*.x'], mode: { kind: 'redact' } });
  });

  it('gives no masker unless a policy declares masking rules', () => {
    const maskingFor = maskingFactory('agent-key');
    expect(maskingFor(create(SessionPolicySchema, { policies: [{ name: 'a' }] }))).toBeUndefined();
    expect(maskingFor(create(SessionPolicySchema, { unrestricted: true }))).toBeUndefined();
    expect(maskingFor(undefined)).toBeUndefined();
    expect(maskingFor(create(SessionPolicySchema, { policies: [{ name: 'a', masking: [{ columns: ['*.email'], mode: MaskMode.REDACT }] }] }))).toBeDefined();
  });
});
