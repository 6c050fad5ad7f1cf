// `airlock apply` and `airlock policies` against FakeControlPlane, whose policy validation is the
// control plane's own parser.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { saveProfile } from '../lib/profile.js';
import { ALICE, CAROL, FakeControlPlane } from '../test/fake-control-plane.js';
import { makeHome, runCli } from '../test/run-cli.js';

let fake: FakeControlPlane;
let home: ReturnType<typeof makeHome>;
const airlock = (...args: string[]) => runCli(home.path, args);

const POLICY = `# who may touch production
apiVersion: airlock/v1
kind: Policy
metadata:
  name: prod-postgres
spec:
  subjects: ["group:engineers", "user:alice@example.com"]
  connections: ["pg-*"]
  rules:
    - match: { statements: [drop, truncate] }
      action: deny
    - match: { statements: [delete, update], tables: ["public.*"] }
      action: review
  default: allow
  review:
    reviewers: ["group:dba"]
    approvals: 2
    timeout: 15m
`;

function writePolicy(name: string, text: string): string {
  const path = join(home.path, name);
  writeFileSync(path, text);
  return path;
}

beforeEach(async () => {
  fake = await new FakeControlPlane().start();
  home = makeHome();
  saveProfile({ url: fake.url, token: ALICE.token }, { AIRLOCK_HOME: home.path });
});

afterEach(async () => {
  await fake.stop();
  home.remove();
});

describe('airlock apply', () => {
  it('sends the file as YAML and says what happened, kubectl-style', async () => {
    const file = writePolicy('policy.yaml', POLICY);

    expect(await airlock('apply', '-f', file)).toEqual({ code: 0, stdout: 'policy/prod-postgres created (version 1)\n', stderr: '' });
    expect(fake.requests.at(-1)).toEqual({ method: 'POST', path: '/v1/policies:apply', body: POLICY });
    expect(await airlock('apply', '-f', file)).toEqual({ code: 0, stdout: 'policy/prod-postgres unchanged (version 1)\n', stderr: '' });

    writePolicy('policy.yaml', POLICY.replace('approvals: 2', 'approvals: 1'));
    expect((await airlock('apply', '--file', file)).stdout).toBe('policy/prod-postgres configured (version 2)\n');
  });

  it('reads standard input with -f -, and prints JSON with --json', async () => {
    const result = await runCli(home.path, ['apply', '-f', '-', '--json'], {}, POLICY);

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ name: 'prod-postgres', version: 1, changed: true, outcome: 'created' });
  });

  it('takes JSON documents too', async () => {
    const json = JSON.stringify({ apiVersion: 'airlock/v1', kind: 'Policy', metadata: { name: 'dev' }, spec: { subjects: ['*'], connections: ['dev'], default: 'allow' } });
    const result = await airlock('apply', '-f', writePolicy('dev.json', json));

    expect(result.stdout).toBe('policy/dev created (version 1)\n');
  });

  it('reports an invalid document in the control plane’s words, naming each field, and exits 1', async () => {
    const file = writePolicy('bad.yaml', POLICY.replace('action: deny', 'action: block').replace('timeout: 15m', 'timeout: 15 minutes'));
    const result = await airlock('apply', '-f', file);

    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'airlock: policy "prod-postgres" is not valid: spec.rules[0].action: must be one of allow, review, deny; ' +
        'spec.review.timeout: must be a duration such as 90s, 15m, 1h or 1h30m\n',
    });
    expect(fake.policies).toEqual([]);
  });

  it('refuses a missing, empty or directory file before calling the control plane (exit 2)', async () => {
    mkdirSync(join(home.path, 'dir'));
    expect(await airlock('apply', '-f', join(home.path, 'nope.yaml'))).toEqual({
      code: 2, stdout: '', stderr: `airlock: cannot read ${join(home.path, 'nope.yaml')}: no such file\n`,
    });
    expect((await airlock('apply', '-f', writePolicy('empty.yaml', '\n'))).stderr).toBe(
      `airlock: ${join(home.path, 'empty.yaml')} is empty: expected a policy document\n`,
    );
    expect((await airlock('apply', '-f', join(home.path, 'dir'))).stderr).toBe(`airlock: cannot read ${join(home.path, 'dir')}: it is a directory\n`);
    expect((await runCli(home.path, ['apply', '-f', '-'], {}, '')).stderr).toBe('airlock: standard input is empty: expected a policy document\n');
    expect((await airlock('apply')).stderr).toBe("airlock: required option '-f, --file <path>' not specified\n");
    expect(fake.requests).toEqual([]);
  });

  it('tells a non-admin they may not, with exit 3', async () => {
    const result = await runCli(home.path, ['apply', '-f', writePolicy('p.yaml', POLICY)], { AIRLOCK_URL: fake.url, AIRLOCK_TOKEN: CAROL.token });

    expect(result).toEqual({ code: 3, stdout: '', stderr: 'airlock: only admins may apply policies; you are signed in as user:carol\n' });
  });
});

describe('airlock policies', () => {
  beforeEach(async () => {
    await airlock('apply', '-f', writePolicy('policy.yaml', POLICY));
    await airlock('apply', '-f', writePolicy('policy.yaml', POLICY.replace('approvals: 2', 'approvals: 1')));
  });

  it('list shows a table, and --json the API objects', async () => {
    const table = await airlock('policies', 'list');
    const json = await airlock('policies', 'list', '--json');

    expect(table.stdout.split('\n').map((l) => l.replace(/ {2,}/g, ' | '))).toEqual([
      'NAME | VERSION | SUBJECTS | CONNECTIONS | ACCESS | DEFAULT | UPDATED',
      'prod-postgres | 2 | group:engineers, user:alice@example.com | pg-* | allow | allow | just now by alice@example.com',
      '',
    ]);
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ name: 'prod-postgres', version: 2, access: 'allow', default: 'allow', reviewMode: 'wait', rules: 2, updatedBy: 'alice@example.com' }),
    ]);
  });

  it('list says when there are none, and what that means', async () => {
    await airlock('policies', 'delete', 'prod-postgres');

    expect((await airlock('policies', 'list')).stdout).toBe(
      'No policies yet: connections are usable by admins only. Apply one with: airlock apply -f policy.yaml\n',
    );
  });

  it('show prints the details and the document as applied', async () => {
    const result = await airlock('policies', 'show', 'prod-postgres');

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Policy:       prod-postgres\n');
    expect(result.stdout).toContain('Version:      2\n');
    expect(result.stdout).toContain('Connections:  pg-*\n');
    expect(result.stdout).toContain('Review mode:  wait\n');
    expect(result.stdout).toContain(`\n\n${POLICY.replace('approvals: 2', 'approvals: 1')}`);
    expect(JSON.parse((await airlock('policies', 'show', 'prod-postgres', '--json')).stdout)).toMatchObject({
      name: 'prod-postgres', version: 2, spec: { review: { approvals: 1, timeoutSeconds: 900 } },
    });
  });

  it('show --versions lists every version, newest first, and still works after delete', async () => {
    const table = await airlock('policies', 'show', 'prod-postgres', '--versions');
    expect(table.stdout.split('\n').map((l) => l.replace(/ {2,}/g, ' | ').replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(just now\)/, 'T'))).toEqual([
      'VERSION | APPLIED | BY',
      '2 | T | alice@example.com',
      '1 | T | alice@example.com',
      '',
    ]);

    expect(await airlock('policies', 'delete', 'prod-postgres')).toEqual({ code: 0, stdout: 'policy/prod-postgres deleted\n', stderr: '' });
    const after = await airlock('policies', 'show', 'prod-postgres', '--versions');
    expect(after.stdout).toMatch(/\npolicy\/prod-postgres was deleted \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(just now\)\n$/);
    const json = JSON.parse((await airlock('policies', 'show', 'prod-postgres', '--versions', '--json')).stdout);
    expect(json.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
  });

  it('show and delete of an unknown policy exit 4 with the server’s message', async () => {
    expect(await airlock('policies', 'show', 'nope')).toEqual({ code: 4, stdout: '', stderr: 'airlock: policy "nope" does not exist\n' });
    expect(await airlock('policies', 'delete', 'nope')).toEqual({ code: 4, stdout: '', stderr: 'airlock: policy "nope" does not exist\n' });
  });

  it('re-applying a deleted policy creates it again as the next version', async () => {
    await airlock('policies', 'delete', 'prod-postgres');

    expect((await airlock('apply', '-f', join(home.path, 'policy.yaml'))).stdout).toBe('policy/prod-postgres created (version 3)\n');
  });

  it('a non-admin may read policies but not delete them', async () => {
    const asCarol = (...args: string[]) => runCli(home.path, args, { AIRLOCK_URL: fake.url, AIRLOCK_TOKEN: CAROL.token });

    expect((await asCarol('policies', 'list')).code).toBe(0);
    expect(await asCarol('policies', 'delete', 'prod-postgres')).toEqual({
      code: 3, stdout: '', stderr: 'airlock: only admins may delete policies; you are signed in as user:carol\n',
    });
  });

  it('connections list names the covering policies in the POLICY column', async () => {
    await airlock('connections', 'create', 'lab', '--type', 'tcp', '--agent', 'east', '--host', 'h', '--port', '22');
    const table = await airlock('connections', 'list');

    expect(table.stdout.split('\n').map((l) => l.replace(/ {2,}/g, ' | '))).toEqual([
      'NAME | TYPE | TARGET | USER | AGENT | AGENT CONNECTED | POLICY',
      'lab | tcp | h:22 | - | east | yes | none (admins only)',
      'pg-prod | postgres | 10.0.0.5:5432/shop | app | east | yes | prod-postgres',
      '',
    ]);
    expect((await airlock('connections', 'show', 'pg-prod')).stdout).toContain('Policies:  prod-postgres\n');
  });
});
