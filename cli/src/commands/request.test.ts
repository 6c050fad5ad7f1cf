// `airlock request` and `airlock grants` (the real binary) against FakeControlPlane, whose access
// reviews and grants (test/fake-access.ts) mirror the control plane's; reviewers decide through it
// while the command waits, as they would from their own terminals.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { saveProfile } from '../lib/profile.js';
import { ALICE, CAROL, DORA, ED, FakeControlPlane } from '../test/fake-control-plane.js';
import { makeHome, runCli, startCli } from '../test/run-cli.js';

let fake: FakeControlPlane;
let home: ReturnType<typeof makeHome>;

beforeEach(async () => {
  fake = await new FakeControlPlane().start();
  home = makeHome();
  saveProfile({ url: fake.url, token: CAROL.token }, { AIRLOCK_HOME: home.path });
});

afterEach(async () => {
  await fake.stop();
  home.remove();
});

const airlock = (...args: string[]) => runCli(home.path, args);
const waiting = (approvals: number) => new RegExp(`waiting for approval of access review 7: ${approvals} of 2 approvals, asked: group:dba\\n`);

function reviewPolls(): number {
  return fake.requests.filter((r) => r.method === 'GET' && r.path === '/v1/reviews/7').length;
}

describe('airlock request', () => {
  it('--no-wait creates the access request and says who must approve it', async () => {
    const result = await airlock('request', 'pg-prod', '--for', '30m', '--reason', 'INC-42: stuck refunds', '--no-wait');

    expect(result).toEqual({ code: 0, stdout: 'access review 7 created: it needs 2 approvals from group:dba (airlock reviews show 7)\n', stderr: '' });
    expect(fake.requests.at(-1)).toEqual({ method: 'POST', path: '/v1/access-requests', body: { connection: 'pg-prod', forSeconds: 1800, reason: 'INC-42: stuck refunds' } });
  });

  it('--no-wait --json prints the review as the API returned it', async () => {
    const result = await airlock('request', 'pg-prod', '--for', '1h', '--reason', 'r', '--no-wait', '--json');

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ id: 7, kind: 'access', state: 'pending', connection: 'pg-prod', accessSeconds: 3600, requester: CAROL.subject, reviewers: ['group:dba'] });
  });

  it('waits with a live status line, polling once a second, until enough reviewers approve; then prints the grant', async () => {
    const run = startCli(home.path, ['request', 'pg-prod', '--for', '30m', '--reason', 'INC-42']);
    await run.stderrMatching(waiting(0));
    expect(fake.access.approve(7, DORA)[0]).toBe(200);
    await run.stderrMatching(waiting(1));
    expect(fake.access.approve(7, ED)[0]).toBe(200);
    const result = await run.result;

    const grant = fake.access.grants.find((g) => g.reviewId === 7)!;
    const until = new Date(grant.expiresAt).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^access to pg-prod granted until ${until} \\(in (29|30)m\\)\\n$`));
    expect(result.stderr).toBe(
      ['waiting for approval of access review 7: 0 of 2 approvals, asked: group:dba', 'waiting for approval of access review 7: 1 of 2 approvals, asked: group:dba', ''].join('\n'),
    );
    expect(reviewPolls()).toBeGreaterThanOrEqual(2);
    expect(fake.requests.at(-1)?.path).toBe('/v1/grants?active=true');
  });

  it('--json prints the grant once approved', async () => {
    const run = startCli(home.path, ['request', 'pg-prod', '--for', '15m', '--reason', 'r', '--json']);
    await run.stderrMatching(waiting(0));
    fake.access.approve(7, DORA);
    fake.access.approve(7, ED);
    const result = await run.result;

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ id: 3, subject: CAROL.subject, connection: 'pg-prod', reviewId: 7, state: 'active' });
  });

  it('exits 1 with the reviewer and reason when the request is rejected', async () => {
    const run = startCli(home.path, ['request', 'pg-prod', '--for', '30m', '--reason', 'r']);
    await run.stderrMatching(waiting(0));
    fake.access.reject(7, DORA, 'use the read replica');
    const result = await run.result;

    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'waiting for approval of access review 7: 0 of 2 approvals, asked: group:dba\nairlock: access to pg-prod was not granted: review 7 was rejected by user:dora: use the read replica\n',
    });
  });

  it('exits 1 when the review expires or is cancelled elsewhere', async () => {
    const run = startCli(home.path, ['request', 'pg-prod', '--for', '30m', '--reason', 'r']);
    await run.stderrMatching(waiting(0));
    Object.assign(fake.access.reviews[0], { state: 'expired', stateReason: 'nobody decided before the review timed out' });
    const result = await run.result;

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/airlock: access to pg-prod was not granted: review 7 expired: nobody decided before the review timed out\n$/);
  });

  it('Ctrl-C while waiting withdraws the request', async () => {
    const run = startCli(home.path, ['request', 'pg-prod', '--for', '30m', '--reason', 'r']);
    await run.stderrMatching(waiting(0));
    run.child.kill('SIGINT');
    const result = await run.result;

    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'waiting for approval of access review 7: 0 of 2 approvals, asked: group:dba\nairlock: cancelled: access review 7 was withdrawn\n',
    });
    expect(fake.requests.at(-1)).toEqual({ method: 'POST', path: '/v1/reviews/7/cancel', body: {} });
    expect(fake.access.reviews[0]).toMatchObject({ state: 'cancelled', stateReason: 'cancelled by the requester' });
  });

  it('reports a request longer than the policy allows in the server\'s words, and a bad duration as a usage error', async () => {
    expect(await airlock('request', 'pg-prod', '--for', '2h', '--reason', 'r')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'airlock: you may ask for at most 1h of access to "pg-prod" (accessDuration of prod-jit), not 2h\n',
    });
    expect(await airlock('request', 'nope', '--for', '5m', '--reason', 'r')).toMatchObject({ code: 4, stderr: 'airlock: connection "nope" does not exist\n' });
    const usage = await airlock('request', 'pg-prod', '--for', 'soon', '--reason', 'r');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('Expected a duration such as 90s, 15m, 1h or 2d.');
    expect((await airlock('request', 'pg-prod', '--for', '5m')).stderr).toBe("airlock: required option '--reason <text>' not specified\n");
  });
});

describe('airlock grants', () => {
  it('list shows the grants in force (ask the server for active ones), --all the ended ones too, --json the API objects', async () => {
    fake.access.addGrant({ subject: CAROL.subject, connection: 'pg-prod' });
    fake.access.addGrant({ subject: CAROL.subject, connection: 'pg-prod', state: 'revoked', revokedBy: DORA.subject, revokedAt: new Date().toISOString() });
    fake.access.addGrant({ subject: 'user:zoe', connection: 'pg-prod' });

    const table = await airlock('grants', 'list');
    expect(fake.requests.at(-1)?.path).toBe('/v1/grants?active=true');
    expect(table.stdout.trimEnd().split('\n').map((l) => l.replace(/ {2,}/g, ' | '))).toEqual([
      'ID | SUBJECT | CONNECTION | STATE | FOR | EXPIRES | REVIEW',
      expect.stringMatching(/^3 \| user:carol \| pg-prod \| active \| 30m \| in (29|30)m \| 7$/),
    ]);

    const all = await airlock('grants', 'list', '--all');
    expect(fake.requests.at(-1)?.path).toBe('/v1/grants');
    expect(all.stdout).toContain('revoked by user:dora');

    const json = JSON.parse((await airlock('grants', 'list', '--all', '--json')).stdout);
    expect(json.map((g: { id: number }) => g.id)).toEqual([4, 3]);

    saveProfile({ url: fake.url, token: ALICE.token }, { AIRLOCK_HOME: home.path });
    const admin = JSON.parse((await airlock('grants', 'list', '--json')).stdout);
    expect(admin.map((g: { subject: string }) => g.subject)).toEqual(['user:zoe', CAROL.subject]);
  });

  it('says so when there are none', async () => {
    expect(await airlock('grants', 'list')).toEqual({ code: 0, stdout: 'No grants in force.\n', stderr: '' });
  });

  it('revoke ends a grant for a reviewer, and refuses others in the server\'s words', async () => {
    const grant = fake.access.addGrant({ subject: CAROL.subject, connection: 'pg-prod' });

    expect(await airlock('grants', 'revoke', String(grant.id))).toEqual({
      code: 3,
      stdout: '',
      stderr: `airlock: you cannot revoke grant ${grant.id}: only admins and reviewers of policy "prod-jit" (group:dba) may\n`,
    });
    saveProfile({ url: fake.url, token: DORA.token }, { AIRLOCK_HOME: home.path });
    expect(await airlock('grants', 'revoke', String(grant.id))).toEqual({
      code: 0,
      stdout: `revoked grant ${grant.id}: user:carol on pg-prod; their sessions under it are being ended\n`,
      stderr: '',
    });
    expect(fake.requests.at(-1)).toEqual({ method: 'DELETE', path: `/v1/grants/${grant.id}`, body: {} });
    expect(await airlock('grants', 'revoke', String(grant.id))).toMatchObject({ code: 1, stderr: `airlock: grant ${grant.id} is already revoked\n` });
    expect(await airlock('grants', 'revoke', '99')).toMatchObject({ code: 4, stderr: 'airlock: grant 99 does not exist\n' });
  });
});
