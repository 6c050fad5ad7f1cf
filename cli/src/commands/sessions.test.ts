// Runs the built `airlock` binary against FakeControlPlane, an in-process node:http stand-in for the
// control plane's REST API (the real control plane is covered by the e2e tests).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { saveProfile } from '../lib/profile.js';
import { ALICE, FakeControlPlane, LONG_STATEMENT } from '../test/fake-control-plane.js';
import { makeHome, runCli } from '../test/run-cli.js';

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

describe('airlock sessions list', () => {
  it('shows sessions with humanized durations and byte counts', async () => {
    const result = await airlock('sessions', 'list');

    const [header, first, second] = rows(result.stdout);
    expect(header).toBe('ID | CONNECTION | SUBJECT | MODE | STATUS | STARTED | DURATION | FROM CLIENT | TO CLIENT');
    expect(first).toMatch(/^ses_1 \| pg-prod \| alice@example.com \| tunnel \| ended \| .+ ago \| 3m 12s \| 2 KiB \| 1.5 MiB$/);
    expect(second).toMatch(/^ses_2 \| pg-staging \| bob@example.com \| exec \| active \| .+ \| - \| 10 B \| 0 B$/);
  });

  it('passes --connection and --limit to the control plane, and --json keeps raw numbers', async () => {
    const result = await airlock('sessions', 'list', '--connection', 'pg-prod', '--limit', '5', '--json');

    expect(fake.requests.at(-1)?.path).toBe('/v1/sessions?limit=5&connection=pg-prod');
    expect(JSON.parse(result.stdout)).toEqual([
      expect.objectContaining({ id: 'ses_1', bytesFromClient: 2048, bytesToClient: 1_572_864 }),
    ]);
  });

  it('rejects a limit that is not a positive integer', async () => {
    const result = await airlock('sessions', 'list', '--limit', '0');

    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "airlock: option '--limit <n>' argument '0' is invalid. Expected a whole number of 1 or more.\n",
    );
  });
});

describe('airlock sessions show', () => {
  it('prints the session header, then its statements fitted to the terminal width', async () => {
    const result = await runCli(home.path, ['sessions', 'show', 'ses_1'], { COLUMNS: '100' });

    const [header, statements] = result.stdout.split('\n\n');
    expect(header).toContain('Session:     ses_1\n');
    expect(header).toContain('Connection:  pg-prod (agent east)\n');
    expect(header).toContain('Client:      127.0.0.1:51234\n');
    expect(header).toContain('Duration:    3m 12s\n');
    expect(header).toContain('Traffic:     2 KiB from client, 1.5 MiB to client');
    const lines = statements.trimEnd().split('\n');
    expect(rows(statements)[0]).toBe('# | STATEMENT | DURATION | ROWS | ERROR');
    expect(rows(statements)[1]).toBe('1 | select 1 | 0.4ms | 1');
    expect(lines[2]).toMatch(/^2 +SELECT o\.id, .*… +1\.5s +100$/);
    expect(rows(statements)[3]).toBe('3 | select * from nope | 3ms | - | 42P01 relation "nope" does not exist');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(100);
  });

  it('--json gives the full statement text and the structured error', async () => {
    const result = await airlock('sessions', 'show', 'ses_1', '--json');

    const session = JSON.parse(result.stdout);
    expect(session).toMatchObject({ id: 'ses_1', status: 'ended', bytesToClient: 1_572_864 });
    expect(session.statements[1]).toEqual({
      sequence: 2, text: LONG_STATEMENT, startedAt: '2025-11-25T07:00:00.000Z', durationMs: 1530, rows: 100,
      commandTag: 'SELECT 100', error: null,
    });
    expect(session.statements[2].error).toEqual({ sqlstate: '42P01', message: 'relation "nope" does not exist' });
  });

  it('says so when a session has no statements, and exits 4 for an unknown id', async () => {
    const empty = await airlock('sessions', 'show', 'ses_2');
    const missing = await airlock('sessions', 'show', 'ses_404');

    expect(empty.stdout).toMatch(/Ended: +-\n[\s\S]*\n\nNo statements recorded\.\n$/);
    expect(missing).toEqual({ code: 4, stdout: '', stderr: 'airlock: session "ses_404" does not exist\n' });
  });
});
