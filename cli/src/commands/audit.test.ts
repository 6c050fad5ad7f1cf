// Runs the built `airlock` binary against FakeControlPlane (fake-audit.ts holds its audit log).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { saveProfile } from '../lib/profile.js';
import { ALICE, CAROL, FakeControlPlane } from '../test/fake-control-plane.js';
import { makeHome, runCli } from '../test/run-cli.js';
import { timeOf } from './audit.js';

let fake: FakeControlPlane;
let home: ReturnType<typeof makeHome>;
const airlock = (...args: string[]) => runCli(home.path, args);

beforeEach(async () => {
  fake = await new FakeControlPlane().start();
  home = makeHome();
  saveProfile({ url: fake.url, token: ALICE.token }, { AIRLOCK_HOME: home.path });
});

afterEach(async () => {
  await fake.stop();
  home.remove();
});

function rows(stdout: string): string[] {
  return stdout.trimEnd().split('\n').map((line) => line.replace(/ {2,}/g, ' | '));
}

describe('airlock audit list', () => {
  it('shows events newest first with their details', async () => {
    const result = await airlock('audit', 'list', '--kind', 'review.');

    expect(fake.requests.at(-1)?.path).toBe('/v1/audit?kind=review.');
    expect(rows(result.stdout)).toEqual([
      'ID | AT | ACTOR | KIND | TARGET | DETAILS',
      '5 | 2025-11-25T06:40:00.000Z | user:dora | review.approval | review/7 | comment=null',
      '4 | 2025-11-25T06:30:00.000Z | user:carol | review.created | review/7 | connection=pg-prod kind=access',
    ]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
  });

  it('passes every filter, turns --since 1h into a time, and --json prints the events', async () => {
    const before = Date.now();
    const result = await airlock('audit', 'list', '--actor', 'user:carol', '--target', 'review/7', '--connection', 'pg-prod', '--since', '1h', '--limit', '5', '--json');

    const query = new URL(fake.requests.at(-1)!.path, 'http://x').searchParams;
    expect(Object.fromEntries(query)).toMatchObject({ actor: 'user:carol', target: 'review/7', connection: 'pg-prod', limit: '5' });
    const since = Date.parse(query.get('since')!);
    expect(since).toBeGreaterThanOrEqual(before - 3_600_000 - 1000);
    expect(since).toBeLessThanOrEqual(Date.now() - 3_600_000);
    expect(JSON.parse(result.stdout)).toEqual([]); // the fake's events are older than an hour
  });

  it('says when more events match than were shown, and when none do', async () => {
    const more = await airlock('audit', 'list', '--limit', '2');
    expect(rows(more.stdout)).toHaveLength(3);
    expect(more.stderr).toBe('More events match: raise --limit or narrow the filters.\n');

    expect(await airlock('audit', 'list', '--actor', 'nobody')).toEqual({ code: 0, stdout: 'No audit events match.\n', stderr: '' });
  });

  it('refuses a time it cannot read, before asking the control plane', async () => {
    const result = await airlock('audit', 'list', '--since', 'yesterday');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Expected a duration ago (90s, 15m, 1h, 2d) or an ISO-8601 time');
    expect(fake.requests).toEqual([]);
  });

  it('is refused for someone who is not an admin', async () => {
    saveProfile({ url: fake.url, token: CAROL.token }, { AIRLOCK_HOME: home.path });
    expect(await airlock('audit', 'list')).toEqual({
      code: 3, stdout: '', stderr: 'airlock: only admins may read the audit log; you are signed in as user:carol\n',
    });
  });
});

describe('airlock audit verify', () => {
  it('exits 0 and names the head when the chain is intact', async () => {
    const head = fake.audit.events.at(-1)!.hash;
    expect(await airlock('audit', 'verify')).toEqual({ code: 0, stdout: `audit chain intact: 6 events, head ${head.slice(0, 16)}\n`, stderr: '' });
  });

  it('exits 1 with the first bad event and the problem', async () => {
    fake.audit.brokenChain = { ok: false, firstBadEventId: 4, problem: 'removed', message: 'event 4 was removed: event 5 follows an event that is no longer in the log' };
    expect(await airlock('audit', 'verify')).toEqual({
      code: 1, stdout: '',
      stderr: 'airlock: audit chain broken at event 4 (removed): event 4 was removed: event 5 follows an event that is no longer in the log\n',
    });
    const json = await airlock('audit', 'verify', '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual(fake.audit.brokenChain);
  });
});

describe('airlock audit export', () => {
  it('streams JSON lines oldest first, with hash and prevHash', async () => {
    const result = await airlock('audit', 'export', '--since', '2025-11-25T06:20:00Z', '--format', 'jsonl');

    expect(fake.requests.at(-1)?.path).toBe('/v1/audit/export?since=2025-11-25T06%3A20%3A00.000Z&format=jsonl');
    const lines = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((e) => e.id)).toEqual([3, 4, 5, 6]);
    expect(lines[1]).toEqual(fake.audit.events[3]);
    expect(lines[1].prevHash).toBe(lines[0].hash);
    expect(result.code).toBe(0);
  });

  it('writes to a file with -o', async () => {
    const file = join(home.path, 'audit.jsonl');
    const result = await airlock('audit', 'export', '--since', '2d', '--kind', 'policy', '-o', file);
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(file, 'utf8')).toBe('');
    expect(existsSync(`${file}.partial`)).toBe(false);

    const all = await airlock('audit', 'export', '--since', '2020-01-01T00:00:00Z', '--kind', 'policy', '-o', file);
    expect(all.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(`${JSON.stringify(fake.audit.events[1])}\n`);
  });

  it('needs --since, and knows only jsonl', async () => {
    expect(await airlock('audit', 'export')).toMatchObject({ code: 2, stderr: "airlock: required option '--since <when>' not specified\n" });
    expect(await airlock('audit', 'export', '--since', '1h', '--format', 'csv')).toMatchObject({ code: 2, stderr: expect.stringContaining('The only format is jsonl.') });
  });
});

describe('timeOf', () => {
  it('reads durations ago and ISO-8601 times', () => {
    const now = Date.parse('2026-11-25T10:00:00Z');
    expect(timeOf('90s', now)).toBe('2026-11-25T09:58:30.000Z');
    expect(timeOf('1h30m', now)).toBe('2026-11-25T08:30:00.000Z');
    expect(timeOf('2d', now)).toBe('2026-11-23T10:00:00.000Z');
    expect(timeOf('2026-11-01T00:00:00+01:00', now)).toBe('2026-10-31T23:00:00.000Z');
    expect(() => timeOf('', now)).toThrow();
    expect(() => timeOf('soon', now)).toThrow();
  });
});
