import { describe, expect, it } from 'vitest';
import { PROD_POSTGRES } from '../testing/policy-fixtures.js';
import { MaskMode } from '@airlock/proto';
import { compilePolicy } from './policy-compiler.js';
import { describeProblems, parsePolicyDocument, type PolicySpec } from './policy-document.js';


function problemsOf(text: string): string {
  const parsed = parsePolicyDocument(text);
  if (parsed.ok) throw new Error('expected the document to be refused');
  return describeProblems(parsed.problems);
}

/** PROD_POSTGRES with its spec lines replaced: `spec` is the YAML under `spec:` (2-space indented). */
function withSpec(spec: string): string {
  return `apiVersion: airlock/v1\nkind: Policy\nmetadata:\n  name: p\nspec:\n${spec.replace(/^/gm, '  ')}\n`;
}

const MINIMAL = 'subjects: ["*"]\nconnections: [dev]\ndefault: allow';
const REVIEW = 'review: { reviewers: ["group:dba"], approvals: 1 }';

describe('parsePolicyDocument', () => {
  it('reads the issue’s example into a normalized spec', () => {
    const parsed = parsePolicyDocument(PROD_POSTGRES);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.document.name).toBe('prod-postgres');
    expect(parsed.document.spec).toEqual<PolicySpec>({
      subjects: ['group:engineers', 'user:alice@example.com', 'serviceaccount:nightly-ci'],
      connections: ['prod-*'],
      access: 'allow',
      accessDurationSeconds: null,
      rules: [
        { match: { statements: ['drop', 'truncate', 'alter', 'grant', 'revoke'], tables: [], patterns: [] }, action: 'deny' },
        { match: { statements: ['delete', 'update', 'insert'], tables: ['public.*'], patterns: [] }, action: 'review' },
        { match: { statements: ['select', 'show', 'explain'], tables: [], patterns: [] }, action: 'allow' },
      ],
      default: 'review',
      review: { reviewers: ['group:dba'], approvals: 2, rejectOnAny: true, timeoutSeconds: 900, approveForSeconds: 3600 },
      reviewMode: 'wait',
      unknownFunctions: 'trust',
    });
  });

  it('reads JSON too, and fills in defaults', () => {
    const json = JSON.stringify({
      apiVersion: 'airlock/v1',
      kind: 'Policy',
      metadata: { name: 'jit' },
      spec: { subjects: ['*'], connections: ['tag:env=prod'], access: 'review', default: 'allow', reviewMode: 'fail-fast', review: { reviewers: ['user:bob'], approvals: 1 } },
    });
    const parsed = parsePolicyDocument(json);
    expect(parsed).toMatchObject({
      ok: true,
      document: {
        name: 'jit',
        spec: {
          access: 'review',
          accessDurationSeconds: 3600,
          rules: [],
          reviewMode: 'fail-fast',
          review: { reviewers: ['user:bob'], approvals: 1, rejectOnAny: true, timeoutSeconds: 900, approveForSeconds: 0 },
        },
      },
    });
  });

  it('accepts patterns, table globs, every subject kind and durations in several units', () => {
    const parsed = parsePolicyDocument(
      withSpec(`subjects: ["*", "user:bootstrap-admin", "group:dba", "serviceaccount:ci"]
connections: ["*"]
access: review
accessDuration: 1h30m
rules:
  - match: { patterns: ["pg_sleep\\\\s*\\\\(", "^\\\\s*copy .* program"] }
    action: deny
  - match: { tables: ["*.secrets", "billing.invoice_*"] }
    action: review
default: allow
${REVIEW.replace('approvals: 1', 'approvals: 1, timeout: 90s, approveFor: 2d'.replace('2d', '24h'))}`),
    );
    expect(parsed).toMatchObject({
      ok: true,
      document: { spec: { accessDurationSeconds: 5400, review: { timeoutSeconds: 90, approveForSeconds: 86_400 } } },
    });
  });

  // Each row: a bad document, and exactly what its author is told.
  it.each<[string, string, string]>([
    ['an unknown rule action', withSpec(`${MINIMAL}\nrules:\n  - match: { statements: [select] }\n    action: allow\n  - match: { statements: [drop] }\n    action: block`),
      'spec.rules[1].action: must be one of allow, review, deny'],
    ['too many approvals for the named reviewers', withSpec(`${MINIMAL.replace('allow', 'review')}\nreview: { reviewers: ["user:ann", "user:bob"], approvals: 3 }`),
      'spec.review.approvals: 3 exceeds the 2 reviewers listed in spec.review.reviewers'],
    ['more approvals than the maximum', withSpec(`${MINIMAL.replace('allow', 'review')}\nreview: { reviewers: ["group:dba"], approvals: 11 }`),
      'spec.review.approvals: 11 exceeds the maximum of 10'],
    ['zero approvals', withSpec(`${MINIMAL.replace('allow', 'review')}\nreview: { reviewers: ["group:dba"], approvals: 0 }`),
      'spec.review.approvals: must be a whole number of 1 or more'],
    ['approvals as a string', withSpec(`${MINIMAL.replace('allow', 'review')}\nreview: { reviewers: ["group:dba"], approvals: "2" }`),
      'spec.review.approvals: must be a whole number of 1 or more'],
    ['a review default without a review block', withSpec(MINIMAL.replace('allow', 'review')),
      'spec.review: is required because spec.default is review: it names the reviewers and how many approvals are needed'],
    ['a review rule without a review block', withSpec(`${MINIMAL}\nrules:\n  - match: { statements: [select] }\n    action: allow\n  - match: { statements: [delete] }\n    action: review`),
      'spec.review: is required because spec.rules[1].action is review: it names the reviewers and how many approvals are needed'],
    ['just-in-time access without a review block', withSpec(`${MINIMAL}\naccess: review`),
      'spec.review: is required because spec.access is review: it names the reviewers and how many approvals are needed'],
    ['a review block without reviewers', withSpec(`${MINIMAL.replace('allow', 'review')}\nreview: { reviewers: [], approvals: 1 }`),
      'spec.review.reviewers: must list at least one reviewer'],
    ['a reviewer without a kind', withSpec(`${MINIMAL.replace('allow', 'review')}\nreview: { reviewers: ["dba"], approvals: 1 }`),
      'spec.review.reviewers[0]: "dba" must be group:NAME or user:NAME'],
    ['a timeout that is not a duration', withSpec(`${MINIMAL.replace('allow', 'review')}\nreview: { reviewers: ["group:dba"], approvals: 1, timeout: 15 }`),
      'spec.review.timeout: must be a duration such as 90s, 15m, 1h or 1h30m'],
    ['a timeout with an unknown unit', withSpec(`${MINIMAL.replace('allow', 'review')}\nreview: { reviewers: ["group:dba"], approvals: 1, timeout: 15min }`),
      'spec.review.timeout: must be a duration such as 90s, 15m, 1h or 1h30m'],
    ['approve-for longer than a day', withSpec(`${MINIMAL.replace('allow', 'review')}\nreview: { reviewers: ["group:dba"], approvals: 1, approveFor: 2d }`),
      'spec.review.approveFor: 2d exceeds the maximum of 1d'],
    ['rejectOnAny that is not a boolean', withSpec(`${MINIMAL.replace('allow', 'review')}\nreview: { reviewers: ["group:dba"], approvals: 1, rejectOnAny: "yes" }`),
      'spec.review.rejectOnAny: must be true or false'],
    ['accessDuration with plain access', withSpec(`${MINIMAL}\naccessDuration: 1h`),
      'spec.accessDuration: only applies when spec.access is review'],
    ['accessDuration longer than a week', withSpec(`${MINIMAL}\naccess: review\naccessDuration: 8d\n${REVIEW}`),
      'spec.accessDuration: 8d exceeds the maximum of 7d'],
    ['an unknown access mode', withSpec(`${MINIMAL}\naccess: maybe`),
      'spec.access: must be one of allow, review'],
    ['an unknown review mode', withSpec(`${MINIMAL}\nreviewMode: async`),
      'spec.reviewMode: must be one of wait, fail-fast'],
    ['a misspelled statement kind', withSpec(`${MINIMAL}\nrules:\n  - match: { statements: [select, dorp] }\n    action: deny`),
      'spec.rules[0].match.statements[1]: "dorp" is not a statement kind (did you mean drop?)'],
    ['an upper-case statement kind', withSpec(`${MINIMAL}\nrules:\n  - match: { statements: [DELETE] }\n    action: deny`),
      'spec.rules[0].match.statements[0]: "DELETE" must be lower case: delete'],
    ['an unqualified table', withSpec(`${MINIMAL}\nrules:\n  - match: { tables: [users] }\n    action: deny`),
      'spec.rules[0].match.tables[0]: "users" must be schema-qualified, such as public.users or *.users'],
    ['a table with too many parts', withSpec(`${MINIMAL}\nrules:\n  - match: { tables: ["db.public.users"] }\n    action: deny`),
      'spec.rules[0].match.tables[0]: "db.public.users" must be schema.table, each part a name or a glob with *, such as public.* or *.secrets'],
    ['an invalid regular expression', withSpec(`${MINIMAL}\nrules:\n  - match: { patterns: ["copy (.* program"] }\n    action: deny`),
      'spec.rules[0].match.patterns[0]: is not a valid regular expression (Unterminated group)'],
    ['a rule that matches nothing in particular', withSpec(`${MINIMAL}\nrules:\n  - match: {}\n    action: deny`),
      'spec.rules[0].match: must name at least one of statements, tables, patterns, commands, methods, paths, kube (spec.default covers everything else)'],
    ['a rule without an action', withSpec(`${MINIMAL}\nrules:\n  - match: { statements: [drop] }`),
      'spec.rules[0].action: is required: one of allow, review, deny'],
    ['a misspelled rule field', withSpec(`${MINIMAL}\nrules:\n  - match: { statements: [drop] }\n    action: deny\n    actoin: allow`),
      'spec.rules[0].actoin: unknown field (expected match, action)'],
    ['an unknown spec field', withSpec(`${MINIMAL}\nredaction: []`),
      'spec.redaction: unknown field (expected subjects, connections, access, accessDuration, rules, default, review, reviewMode, unknownFunctions, masking, ssh, recordingFailure)'],
    ['a subject of an unknown kind', withSpec(MINIMAL.replace('["*"]', '["team:core"]')),
      'spec.subjects[0]: "team:core" must be "*", user:NAME, group:NAME or serviceaccount:NAME'],
    ['no subjects', withSpec(MINIMAL.replace('subjects: ["*"]', 'subjects: []')),
      'spec.subjects: must list at least one subject'],
    ['a connection name with spaces', withSpec(MINIMAL.replace('[dev]', '["prod db"]')),
      'spec.connections[0]: "prod db" must be a connection name, a glob such as prod-*, or tag:KEY=VALUE'],
    ['a missing default', withSpec('subjects: ["*"]\nconnections: [dev]'),
      'spec.default: is required: one of allow, review, deny'],
    ['a wrong apiVersion and kind', 'apiVersion: v1\nkind: Role\nmetadata: { name: p }\nspec:\n  subjects: ["*"]\n  connections: [dev]\n  default: allow\n',
      'apiVersion: must be airlock/v1; kind: must be Policy'],
    ['an invalid name', withSpec(MINIMAL).replace('name: p', 'name: Prod_Postgres!'),
      "metadata.name: must be 1-63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"],
    ['no spec at all', 'apiVersion: airlock/v1\nkind: Policy\nmetadata: { name: p }\n',
      'spec: is required'],
    ['a list instead of a document', '- a\n- b\n',
      'the document must be a mapping with apiVersion, kind, metadata and spec'],
    ['broken YAML', 'apiVersion: airlock/v1\nspec: { subjects: [\n',
      'the document is not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] (line 3, column 1)'],
    ['a duplicated key', 'apiVersion: airlock/v1\napiVersion: airlock/v2\n',
      'the document is not valid YAML: Map keys must be unique (line 2, column 1)'],
    ['two documents', `${withSpec(MINIMAL)}---\n${withSpec(MINIMAL)}`,
      'the text holds 2 YAML documents; apply one policy at a time'],
    ['nothing', '# just a comment\n', 'the document is empty'],
  ])('refuses %s', (_, text, expected) => {
    expect(problemsOf(text)).toBe(expected);
  });

  it('reports every problem at once', () => {
    const text = withSpec(`subjects: ["*"]\nconnections: [dev]\ndefault: maybe\nrules:\n  - match: { statements: [nope] }\n    action: deny`);
    const parsed = parsePolicyDocument(text);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.name).toBe('p');
    expect(parsed.problems.map((p) => p.path)).toEqual(['spec.rules[0].match.statements[0]', 'spec.default']);
  });

  it('refuses a document larger than 64 KiB', () => {
    expect(problemsOf(`${withSpec(MINIMAL)}#${'x'.repeat(64 * 1024)}`)).toBe('the document is larger than 64 KiB');
  });
});

describe('spec.unknownFunctions', () => {
  const base = (extra: string) => `apiVersion: airlock/v1
kind: Policy
metadata: { name: fn }
spec:
  subjects: ["*"]
  connections: ["*"]
  access: allow
  rules: []
  default: allow
${extra}`;
  const specOf = (text: string) => {
    const parsed = parsePolicyDocument(text);
    if (!parsed.ok) throw new Error(describeProblems(parsed.problems));
    return parsed.document.spec;
  };

  it('defaults to trust and accepts strictest', () => {
    expect(specOf(base('')).unknownFunctions).toBe('trust');
    expect(specOf(base('  unknownFunctions: strictest\n')).unknownFunctions).toBe('strictest');
  });

  it('names the field and the choices when the value is wrong', () => {
    const parsed = parsePolicyDocument(base('  unknownFunctions: maybe\n'));
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : describeProblems(parsed.problems)).toMatch(/spec\.unknownFunctions: must be one of trust, strictest/);
  });
});

describe('spec.masking', () => {
  const doc = (masking: string) => withSpec(`${MINIMAL}\nmasking:\n${masking.replace(/^/gm, '  ')}`);

  it('reads column, detector and pattern rules and compiles them for the agent', () => {
    const parsed = parsePolicyDocument(doc(`- columns: ["*.email", "customers.ssn"]
  mode: redact
- columns: ["billing.customers.card_number"]
  mode: keep-last
  keep: 4
- detect: [email, card, iban, ssn, phone, ipv4, ipv6, jwt, api-key]
  mode: hash
- pattern: "ACME-[0-9]{6}"
  mode: redact`));
    if (!parsed.ok) throw new Error(describeProblems(parsed.problems));
    expect(parsed.document.spec.masking).toEqual([
      { columns: ['*.email', 'customers.ssn'], mode: 'redact' },
      { columns: ['billing.customers.card_number'], mode: 'keep-last', keep: 4 },
      { detect: ['email', 'card', 'iban', 'ssn', 'phone', 'ipv4', 'ipv6', 'jwt', 'api-key'], mode: 'hash' },
      { pattern: 'ACME-[0-9]{6}', mode: 'redact' },
    ]);
    expect(compilePolicy({ name: 'p', version: 3, spec: parsed.document.spec }).masking).toEqual([
      { columns: ['*.email', 'customers.ssn'], detectors: [], pattern: '', mode: MaskMode.REDACT, keep: 0 },
      { columns: ['billing.customers.card_number'], detectors: [], pattern: '', mode: MaskMode.KEEP_LAST, keep: 4 },
      { columns: [], detectors: ['email', 'card', 'iban', 'ssn', 'phone', 'ipv4', 'ipv6', 'jwt', 'api-key'], pattern: '', mode: MaskMode.HASH, keep: 0 },
      { columns: [], detectors: [], pattern: 'ACME-[0-9]{6}', mode: MaskMode.REDACT, keep: 0 },
    ]);
  });

  it('leaves specs and compiled policies without masking unchanged', () => {
    const parsed = parsePolicyDocument(withSpec(MINIMAL));
    if (!parsed.ok) throw new Error('expected a valid document');
    expect('masking' in parsed.document.spec).toBe(false);
    expect('masking' in compilePolicy({ name: 'p', version: 1, spec: parsed.document.spec })).toBe(false);
  });

  it.each([
    ['not a list', 'spec.masking: must be a list of masking rules, each with columns, detect or pattern, and a mode', '{ columns: [a.b] }'],
    ['no selector', 'spec.masking[0]: must name columns, detect or pattern', '- mode: redact'],
    ['two selectors', 'spec.masking[0]: must name only one of columns, detect or pattern (found columns, detect)', '- { columns: ["*.email"], detect: [email], mode: redact }'],
    ['no mode', 'spec.masking[0].mode: is required: one of redact, keep-last, hash', '- columns: ["*.email"]'],
    ['an unknown mode', 'spec.masking[0].mode: must be one of redact, keep-last, hash', '- { columns: ["*.email"], mode: scramble }'],
    ['keep-last without keep', 'spec.masking[0].keep: is required when mode is keep-last: how many trailing characters stay visible', '- { columns: ["*.card"], mode: keep-last }'],
    ['keep without keep-last', 'spec.masking[0].keep: only applies when mode is keep-last', '- { columns: ["*.card"], mode: hash, keep: 4 }'],
    ['keep out of range', 'spec.masking[0].keep: must be a whole number from 1 to 64', '- { columns: ["*.card"], mode: keep-last, keep: 0 }'],
    ['an unqualified column', 'spec.masking[0].columns[1]: "email" must be table.column or schema.table.column, each part a name or a glob with *, such as *.email or customers.ssn', '- { columns: ["*.ssn", email], mode: redact }'],
    ['an unknown detector', 'spec.masking[1].detect[0]: "passport" is not a detector; known detectors: email, card, iban, ssn, phone, ipv4, ipv6, jwt, api-key', '- { detect: [email], mode: hash }\n- { detect: [passport], mode: hash }'],
    ['an invalid pattern', 'spec.masking[0].pattern: is not a valid regular expression (Unterminated group)', '- { pattern: "ACME-(", mode: redact }'],
    ['a pattern matching the empty string', 'spec.masking[0].pattern: must not match the empty string (it would mask nothing and everything)', '- { pattern: "x*", mode: redact }'],
    ['a misspelled field', 'spec.masking[0].colums: unknown field (expected columns, detect, pattern, mode, keep); spec.masking[0]: must name columns, detect or pattern', '- { colums: ["*.email"], mode: redact }'],
  ])('refuses %s', (_what, problem, masking) => {
    expect(problemsOf(doc(masking))).toBe(problem);
  });
});
