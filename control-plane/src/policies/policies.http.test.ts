import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { apiClient, ManualClock, startTestControlPlane, TEST_ADMIN_TOKEN, type TestControlPlane } from '../testing/test-control-plane.js';
import { PROD_POSTGRES } from '../testing/policy-fixtures.js';

/** POSTs a policy document as YAML text, the way `airlock apply -f` sends it. */
async function applyYaml(cp: TestControlPlane, text: string, token = TEST_ADMIN_TOKEN) {
  const response = await fetch(`${cp.url}/v1/policies:apply`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/yaml' },
    body: text,
  });
  return { status: response.status, body: await response.json() };
}

const STAGING = (defaultAction: string) => `apiVersion: airlock/v1
kind: Policy
metadata: { name: staging }
spec:
  subjects: ["*"]
  connections: ["stage-*", "dev"]
  default: ${defaultAction}
`;

describe('policies over HTTP', () => {
  let db: TestDatabase;
  let cp: TestControlPlane;
  let api: ReturnType<typeof apiClient>;
  const clock = new ManualClock();

  beforeAll(async () => {
    db = await createTestDatabase();
    cp = await startTestControlPlane({ databaseUrl: db.url, bootstrapToken: TEST_ADMIN_TOKEN }, clock);
    api = apiClient(cp.url, TEST_ADMIN_TOKEN);
    await api('POST', '/v1/agents', { name: 'eu' });
    for (const name of ['prod-eu', 'stage-eu', 'lab']) {
      await api('POST', '/v1/connections', { name, type: 'postgres', agent: 'eu', host: 'db', port: 5432 });
    }
  });
  afterAll(async () => {
    await cp?.close();
    await db?.drop();
  });

  it('creates a policy from YAML text as version 1, then reports an identical document as unchanged', async () => {
    expect(await applyYaml(cp, PROD_POSTGRES)).toEqual({
      status: 200,
      body: { name: 'prod-postgres', version: 1, changed: true, outcome: 'created' },
    });
    // Comments and formatting are not content: re-applying the same policy writes nothing.
    clock.advance(60_000);
    const reformatted = `${PROD_POSTGRES.replace('# first match wins', '')}\n# applied again\n`;
    expect(await applyYaml(cp, reformatted)).toEqual({
      status: 200,
      body: { name: 'prod-postgres', version: 1, changed: false, outcome: 'unchanged' },
    });
    const versions = await api('GET', '/v1/policies/prod-postgres/versions');
    expect(versions.body.versions.map((v: { version: number }) => v.version)).toEqual([1]);
  });

  it('takes JSON {document} too, and a changed document becomes the next version', async () => {
    const changed = PROD_POSTGRES.replace('approvals: 2', 'approvals: 1');
    expect(await api('POST', '/v1/policies:apply', { document: changed })).toMatchObject({
      status: 200,
      body: { name: 'prod-postgres', version: 2, changed: true, outcome: 'configured' },
    });

    const shown = await api('GET', '/v1/policies/prod-postgres');
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({
      name: 'prod-postgres',
      version: 2,
      subjects: ['group:engineers', 'user:alice@example.com', 'serviceaccount:nightly-ci'],
      connections: ['prod-*'],
      access: 'allow',
      default: 'review',
      reviewMode: 'wait',
      unknownFunctions: 'trust',
      rules: 3,
      document: changed,
      createdAt: '2026-11-25T10:00:00.000Z',
      createdBy: 'bootstrap-admin',
      updatedAt: '2026-11-25T10:01:00.000Z',
      updatedBy: 'bootstrap-admin',
    });
    expect(shown.body.spec.review).toEqual({ reviewers: ['group:dba'], approvals: 1, rejectOnAny: true, timeoutSeconds: 900, approveForSeconds: 3600 });

    const versions = await api('GET', '/v1/policies/prod-postgres/versions');
    expect(versions.body).toMatchObject({ name: 'prod-postgres', deletedAt: null });
    expect(versions.body.versions).toEqual([
      { version: 2, appliedAt: '2026-11-25T10:01:00.000Z', appliedBy: 'bootstrap-admin', document: changed },
      { version: 1, appliedAt: '2026-11-25T10:00:00.000Z', appliedBy: 'bootstrap-admin', document: PROD_POSTGRES },
    ]);
  });

  it('refuses an invalid document with every problem, by field path, as a line and as data', async () => {
    const bad = PROD_POSTGRES.replace('action: deny', 'action: block').replace('approvals: 2', 'approvals: 0');
    const res = await applyYaml(cp, bad);
    expect(res).toEqual({
      status: 400,
      body: {
        error: 'invalid_request',
        message:
          'policy "prod-postgres" is not valid: spec.rules[0].action: must be one of allow, review, deny; spec.review.approvals: must be a whole number of 1 or more',
        problems: [
          { path: 'spec.rules[0].action', reason: 'must be one of allow, review, deny' },
          { path: 'spec.review.approvals', reason: 'must be a whole number of 1 or more' },
        ],
      },
    });
    // Nothing was stored.
    expect((await api('GET', '/v1/policies/prod-postgres')).body.version).toBe(2);
  });

  it.each<[string, RequestInit['body'], Record<string, string>, string]>([
    ['an empty YAML body', '', { 'content-type': 'application/yaml' }, 'the request body is empty: send the policy document with Content-Type: application/yaml, or as JSON {"document": "<yaml or json text>"}'],
    ['a JSON policy object instead of {document}', JSON.stringify({ apiVersion: 'airlock/v1' }), { 'content-type': 'application/json' }, 'unknown field "apiVersion": send the policy document with Content-Type: application/yaml, or as JSON {"document": "<yaml or json text>"}'],
    ['a non-string document', JSON.stringify({ document: 42 }), { 'content-type': 'application/json' }, 'document must be a string holding the policy text'],
    ['no body at all', undefined, {}, 'no policy document in the request: send the policy document with Content-Type: application/yaml, or as JSON {"document": "<yaml or json text>"}'],
  ])('says how to send a policy when given %s', async (_, body, headers, message) => {
    const res = await fetch(`${cp.url}/v1/policies:apply`, { method: 'POST', headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...headers }, body });
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 400, body: { error: 'invalid_request', message } });
  });

  it('lists live policies by name, and shows which policies cover each connection', async () => {
    await applyYaml(cp, STAGING('allow'));
    const list = await api('GET', '/v1/policies');
    expect(list.body.policies.map((p: { name: string; version: number }) => [p.name, p.version])).toEqual([
      ['prod-postgres', 2],
      ['staging', 1],
    ]);
    const connections = await api('GET', '/v1/connections');
    expect(connections.body.connections.map((c: { name: string; policies: string[] }) => [c.name, c.policies])).toEqual([
      ['lab', []],
      ['prod-eu', ['prod-postgres']],
      ['stage-eu', ['staging']],
    ]);
    expect((await api('GET', '/v1/connections/prod-eu')).body.policies).toEqual(['prod-postgres']);
  });

  it('soft-deletes: the policy stops covering connections, its versions stay, and re-applying continues the numbering', async () => {
    expect((await api('DELETE', '/v1/policies/staging')).status).toBe(204);
    expect(await api('GET', '/v1/policies/staging')).toMatchObject({ status: 404, body: { error: 'not_found', message: 'policy "staging" does not exist' } });
    expect(await api('DELETE', '/v1/policies/staging')).toMatchObject({ status: 404, body: { message: 'policy "staging" does not exist' } });
    expect((await api('GET', '/v1/policies')).body.policies.map((p: { name: string }) => p.name)).toEqual(['prod-postgres']);
    expect((await api('GET', '/v1/connections/stage-eu')).body.policies).toEqual([]);

    const history = await api('GET', '/v1/policies/staging/versions');
    expect(history.body).toMatchObject({ name: 'staging', deletedAt: '2026-11-25T10:01:00.000Z', versions: [{ version: 1 }] });

    // The same document again is a new version: deleting was a change.
    expect((await applyYaml(cp, STAGING('allow'))).body).toEqual({ name: 'staging', version: 2, changed: true, outcome: 'created' });
    expect((await api('GET', '/v1/policies/staging/versions')).body).toMatchObject({ deletedAt: null, versions: [{ version: 2 }, { version: 1 }] });
    expect(await api('GET', '/v1/policies/nope/versions')).toMatchObject({ status: 404, body: { message: 'policy "nope" does not exist' } });
  });

  it('serializes concurrent applies of one policy into consecutive versions', async () => {
    const documents = [0, 1, 2].map((i) => STAGING('allow').replace('"dev"', `"dev-${i}"`));
    const results = await Promise.all(documents.map((text) => applyYaml(cp, text)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(results.map((r) => r.body.version).sort()).toEqual([3, 4, 5]);
  });

  it('records an audit event for each change, and none for a no-op', async () => {
    const audit = await api('GET', '/v1/audit?kind=policy.applied&limit=100');
    expect(audit.status).toBe(200);
    const prod = audit.body.events.filter((e: { target: string }) => e.target === 'policy/prod-postgres');
    const chained = { prevHash: expect.stringMatching(/^[0-9a-f]{64}$/), hash: expect.stringMatching(/^[0-9a-f]{64}$/) };
    expect(prod).toEqual([
      { id: expect.any(Number), at: '2026-11-25T10:01:00.000Z', actor: 'bootstrap-admin', kind: 'policy.applied', target: 'policy/prod-postgres', details: { version: 2, outcome: 'configured' }, ...chained },
      { id: expect.any(Number), at: '2026-11-25T10:00:00.000Z', actor: 'bootstrap-admin', kind: 'policy.applied', target: 'policy/prod-postgres', details: { version: 1, outcome: 'created' }, ...chained },
    ]);
    const deleted = await api('GET', '/v1/audit?kind=policy.deleted');
    expect(deleted.body.events).toEqual([
      { id: expect.any(Number), at: '2026-11-25T10:01:00.000Z', actor: 'bootstrap-admin', kind: 'policy.deleted', target: 'policy/staging', details: { version: 1 }, ...chained },
    ]);
    const staging = await api('GET', '/v1/audit?target=policy/staging&limit=2');
    expect(staging.body.events.map((e: { kind: string; details: { version: number } }) => [e.kind, e.details.version])).toEqual([
      ['policy.applied', 5],
      ['policy.applied', 4],
    ]);
    expect(await api('GET', '/v1/audit?limit=0')).toMatchObject({ status: 400, body: { message: 'limit must be an integer between 1 and 1000' } });
    expect(await api('GET', '/v1/audit?kind=DROP')).toMatchObject({ status: 400, body: { message: 'kind must be an event kind such as policy.applied' } });
  });

  it('documents the endpoints in the OpenAPI document', async () => {
    const openapi = await apiClient(cp.url)('GET', '/openapi.json');
    expect(Object.keys(openapi.body.paths)).toEqual(
      expect.arrayContaining(['/v1/policies:apply', '/v1/policies', '/v1/policies/{name}', '/v1/policies/{name}/versions', '/v1/users', '/v1/users/{name}', '/v1/audit']),
    );
  });

  it('keeps versions and audit events append-only, even against direct SQL', async () => {
    const { DataSource } = await import('typeorm');
    const dataSource = cp.app.get(DataSource);
    await expect(dataSource.query(`UPDATE policy_versions SET document = 'x'`)).rejects.toThrow('policy_versions is append-only');
    await expect(dataSource.query(`DELETE FROM audit_events`)).rejects.toThrow('audit_events is append-only');
  });
});
