// PoliciesService.compileFor and accessFor against a real Postgres, with policies applied over HTTP.
import { create, toBinary, fromBinary } from '@bufbuild/protobuf';
import { PolicyAction, SessionPolicySchema } from '@airlock/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { apiClient, startTestControlPlane, TEST_ADMIN_TOKEN, type TestControlPlane } from '../testing/test-control-plane.js';
import { PROD_POSTGRES } from '../testing/policy-fixtures.js';
import type { PolicySubject } from './policy-compiler.js';
import { PoliciesService } from './policies.service.js';

const policy = (name: string, spec: string) => `apiVersion: airlock/v1\nkind: Policy\nmetadata: { name: ${name} }\nspec:\n${spec.replace(/^/gm, '  ')}\n`;

const ALICE: PolicySubject = { subject: 'user:alice@example.com', groups: [], role: 'user' };
const ENGINEER: PolicySubject = { subject: 'user:erin', groups: ['engineers'], role: 'user' };
const DBA: PolicySubject = { subject: 'user:dave', groups: ['dba', 'oncall'], role: 'user' };
const CI: PolicySubject = { subject: 'serviceaccount:nightly-ci', groups: [], role: 'user' };
const STRANGER: PolicySubject = { subject: 'user:sam', groups: ['sales'], role: 'user' };
const BOOTSTRAP_ADMIN: PolicySubject = { subject: 'bootstrap-admin', groups: [], role: 'admin' };
const NAMED_ADMIN: PolicySubject = { subject: 'user:ada', groups: ['platform'], role: 'admin' };

describe('PoliciesService.compileFor', () => {
  let db: TestDatabase;
  let cp: TestControlPlane;
  let api: ReturnType<typeof apiClient>;
  let policies: PoliciesService;
  const names = async (who: PolicySubject, connection: string, tags?: Record<string, string>) =>
    (await policies.compileFor(who, { name: connection, tags }))?.policies.map((p) => p.name);

  beforeAll(async () => {
    db = await createTestDatabase();
    cp = await startTestControlPlane({ databaseUrl: db.url, bootstrapToken: TEST_ADMIN_TOKEN });
    api = apiClient(cp.url, TEST_ADMIN_TOKEN);
    policies = cp.app.get(PoliciesService);
    const documents = [
      PROD_POSTGRES,
      policy('everyone-reads-staging', 'subjects: ["*"]\nconnections: ["stage-*"]\nrules:\n  - match: { statements: [select] }\n    action: allow\ndefault: deny'),
      policy('dba-everywhere', 'subjects: ["group:dba"]\nconnections: ["*"]\ndefault: allow\nreviewMode: fail-fast'),
      policy('tagged', 'subjects: ["group:oncall", "user:bootstrap-admin"]\nconnections: ["tag:env=prod*"]\naccess: review\naccessDuration: 30m\ndefault: allow\nreview: { reviewers: ["group:leads"], approvals: 1 }'),
      policy('admins-on-billing', 'subjects: ["user:ada"]\nconnections: [billing]\naccess: review\ndefault: deny\nreview: { reviewers: ["user:bob", "user:carol"], approvals: 2, timeout: 1h }'),
    ];
    for (const document of documents) expect((await api('POST', '/v1/policies:apply', { document })).status).toBe(200);
  });
  afterAll(async () => {
    await cp?.close();
    await db?.drop();
  });

  it('compiles the issue’s policy into the SessionPolicy shape, with rules in order', async () => {
    expect(await policies.compileFor(ALICE, { name: 'prod-eu' })).toEqual({
      unrestricted: false,
      policies: [
        {
          name: 'prod-postgres',
          version: 1,
          rules: [
            { statements: ['drop', 'truncate', 'alter', 'grant', 'revoke'], tables: [], patterns: [], commands: [], methods: [], paths: [], verbs: [], resources: [], namespaces: [], names: [], subresources: [], action: PolicyAction.DENY },
            { statements: ['delete', 'update', 'insert'], tables: ['public.*'], patterns: [], commands: [], methods: [], paths: [], verbs: [], resources: [], namespaces: [], names: [], subresources: [], action: PolicyAction.REVIEW },
            { statements: ['select', 'show', 'explain'], tables: [], patterns: [], commands: [], methods: [], paths: [], verbs: [], resources: [], namespaces: [], names: [], subresources: [], action: PolicyAction.ALLOW },
          ],
          defaultAction: PolicyAction.REVIEW,
          review: { reviewers: ['group:dba'], approvals: 2, rejectOnAny: true, timeoutSeconds: 900, approveForMaxSeconds: 3600 },
          failFast: false,
          failClosedOnUnknownFunctions: false,
          sshPortForwarding: false,
          sshAgentForwarding: false,
          continueWithoutRecording: false,
        },
      ],
    });
  });

  it('is a protobuf-es init shape: the agent gets exactly these values on the wire', async () => {
    const compiled = await policies.compileFor(DBA, { name: 'prod-eu' });
    const wire = fromBinary(SessionPolicySchema, toBinary(SessionPolicySchema, create(SessionPolicySchema, compiled!)));
    expect(wire.policies.map((p) => [p.name, p.failFast, p.defaultAction, p.rules.length])).toEqual([
      ['dba-everywhere', true, PolicyAction.ALLOW, 0],
    ]);
    expect(wire.unrestricted).toBe(false);
  });

  it.each<[string, PolicySubject, string, string[] | undefined]>([
    ['a user named directly', ALICE, 'prod-eu', ['prod-postgres']],
    ['a member of a named group', ENGINEER, 'prod-us', ['prod-postgres']],
    ['a service account', CI, 'prod-eu', ['prod-postgres']],
    ['everyone ("*") on a glob', STRANGER, 'stage-1', ['everyone-reads-staging']],
    ['several policies at once, in name order', DBA, 'stage-1', ['dba-everywhere', 'everyone-reads-staging']],
    ['a group on any connection', DBA, 'anything', ['dba-everywhere']],
  ])('applies to %s', async (_, who, connection, expected) => {
    expect(await names(who, connection)).toEqual(expected);
  });

  it('is null for a user no policy binds there, whether or not the connection is covered', async () => {
    expect(await policies.compileFor(STRANGER, { name: 'prod-eu' })).toBeNull();
    expect(await policies.compileFor(ENGINEER, { name: 'lab' })).toBeNull();
  });

  it('leaves an admin unrestricted only where no policy covers the connection', async () => {
    // "dba-everywhere" covers every connection, so drop it for this check.
    expect((await api('DELETE', '/v1/policies/dba-everywhere')).status).toBe(204);
    try {
      expect(await policies.compileFor(BOOTSTRAP_ADMIN, { name: 'lab' })).toEqual({ policies: [], unrestricted: true });
      expect(await policies.compileFor(STRANGER, { name: 'lab' })).toBeNull();
      // Policies bind admins too: prod-eu is covered, and nothing names the bootstrap admin there.
      expect(await policies.compileFor(BOOTSTRAP_ADMIN, { name: 'prod-eu' })).toBeNull();
      expect(await names(NAMED_ADMIN, 'billing')).toEqual(['admins-on-billing']);
    } finally {
      await api('POST', '/v1/policies:apply', { document: policy('dba-everywhere', 'subjects: ["group:dba"]\nconnections: ["*"]\ndefault: allow\nreviewMode: fail-fast') });
    }
  });

  it('selects connections by tag, and names the bootstrap admin as user:bootstrap-admin', async () => {
    expect(await names(BOOTSTRAP_ADMIN, 'x', { env: 'production' })).toEqual(['tagged']);
    expect(await names(DBA, 'x', { env: 'prod' })).toEqual(['dba-everywhere', 'tagged']);
    expect(await names(DBA, 'x', { env: 'staging' })).toEqual(['dba-everywhere']);
    expect(await names(STRANGER, 'x', { env: 'prod' })).toBeUndefined();
  });

  it('says when a session needs a just-in-time grant, across the applicable policies', async () => {
    expect(await policies.accessFor(ALICE, { name: 'prod-eu' })).toEqual({ access: 'allow' });
    expect(await policies.accessFor(STRANGER, { name: 'prod-eu' })).toBeNull();
    expect(await policies.accessFor(NAMED_ADMIN, { name: 'billing' })).toEqual({
      access: 'review',
      policies: ['admins-on-billing'],
      maxDurationSeconds: 3600,
      reviews: [{ reviewers: ['user:bob', 'user:carol'], approvals: 2, rejectOnAny: true, timeoutSeconds: 3600, approveForMaxSeconds: 0 }],
    });
    expect(await policies.accessFor(DBA, { name: 'x', tags: { env: 'prod' } })).toMatchObject({ access: 'review', policies: ['tagged'], maxDurationSeconds: 1800 });
  });

  it('follows changes at once: a deleted policy no longer applies', async () => {
    expect((await api('DELETE', '/v1/policies/everyone-reads-staging')).status).toBe(204);
    expect(await policies.compileFor(STRANGER, { name: 'stage-1' })).toBeNull();
    expect(await names(DBA, 'stage-1')).toEqual(['dba-everywhere']);
  });
});
