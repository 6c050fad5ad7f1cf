// Runs the built `airlock` binary against FakeControlPlane, an in-process node:http stand-in for the
// control plane's REST API (the real control plane is covered by the e2e tests).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { saveProfile } from '../lib/profile.js';
import { ALICE, FakeControlPlane, IDS, LONG_STATEMENT } from '../test/fake-control-plane.js';
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
  it('shows sessions newest first, with humanized durations and byte counts', async () => {
    const result = await airlock('sessions', 'list');

    expect(fake.requests.at(-1)?.path).toBe('/v1/sessions');
    const [header, open, closed, failed, ...rest] = rows(result.stdout);
    expect(header).toBe('ID | CONNECTION | SUBJECT | MODE | STATUS | STARTED | DURATION | FROM CLIENT | TO CLIENT');
    expect(open).toMatch(new RegExp(`^${IDS.openSession} \\| pg-staging \\| bob@example.com \\| exec \\| open \\| \\d+d ago \\| - \\| 10 B \\| 0 B$`));
    expect(closed).toMatch(
      new RegExp(`^${IDS.closedSession} \\| pg-prod \\| alice@example.com \\| tunnel \\| closed \\| \\d+d ago \\| 3m 12s \\| 2 KiB \\| 1.5 MiB$`),
    );
    expect(failed).toMatch(new RegExp(`^${IDS.failedSession} \\| pg-prod \\| alice@example.com \\| tunnel \\| failed \\| \\d+d ago \\| 1.5s \\| 0 B \\| 0 B$`));
    expect(rest).toEqual([]);
  });

  it('passes --connection and --limit to the control plane, and --json prints the sessions unwrapped', async () => {
    const result = await airlock('sessions', 'list', '--connection', 'pg-prod', '--limit', '1', '--json');

    expect(fake.requests.at(-1)?.path).toBe('/v1/sessions?limit=1&connection=pg-prod');
    expect(JSON.parse(result.stdout)).toEqual([
      {
        id: IDS.closedSession, connection: 'pg-prod', connectionId: IDS.pgProd, agentId: IDS.east,
        subject: ALICE.subject, mode: 'tunnel', clientAddress: '127.0.0.1:51234', status: 'closed',
        startedAt: '2025-11-25T06:00:00.000Z', endedAt: '2025-11-25T06:03:12.000Z',
        bytesFromClient: 2048, bytesToClient: 1_572_864, error: null,
      },
    ]);
  });

  it('says so when nothing matches', async () => {
    const result = await airlock('sessions', 'list', '--connection', 'nope');

    expect(result).toEqual({ code: 0, stdout: 'No sessions recorded.\n', stderr: '' });
  });

  it('rejects a limit that is not a positive integer', async () => {
    const result = await airlock('sessions', 'list', '--limit', '0');

    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "airlock: option '--limit <n>' argument '0' is invalid. Expected a whole number of 1 or more.\n",
    );
    expect(fake.requests).toEqual([]);
  });

  it('reports a limit above the server’s maximum in the server’s words', async () => {
    const result = await airlock('sessions', 'list', '--limit', '501');

    expect(result).toEqual({ code: 1, stdout: '', stderr: 'airlock: limit must be an integer between 1 and 500\n' });
  });
});

describe('airlock sessions show', () => {
  it('prints the session header, then its statements fitted to the terminal width', async () => {
    const result = await runCli(home.path, ['sessions', 'show', IDS.closedSession], { COLUMNS: '100' });

    expect(fake.requests.map((r) => r.path)).toContain(`/v1/sessions/${IDS.closedSession}`);
    const [header, statements] = result.stdout.split('\n\n');
    expect(header).toContain(`Session:     ${IDS.closedSession}\n`);
    expect(header).toMatch(/^Connection: +pg-prod\b/m);
    expect(header).toContain('Subject:     alice@example.com\n');
    expect(header).toContain('Mode:        tunnel\n');
    expect(header).toContain('Client:      127.0.0.1:51234\n');
    expect(header).toContain('Status:      closed\n');
    expect(header).toContain('Duration:    3m 12s\n');
    expect(header).toContain('Traffic:     2 KiB from client, 1.5 MiB to client');
    expect(header).not.toContain('Error:');
    const lines = statements.trimEnd().split('\n');
    expect(rows(statements)[0]).toBe('# | STATEMENT | DURATION | ROWS | ERROR');
    expect(rows(statements)[1]).toBe('1 | select 1 | 0.4ms | 1');
    expect(lines[2]).toMatch(/^2 +SELECT o\.id, .*… +1\.5s +100$/);
    expect(rows(statements)[3]).toBe('3 | select * from nope | 3ms | - | 42P01 relation "nope" does not exist');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(100);
  });

  it('names the session’s agent by name, looked up from its id', async () => {
    const result = await airlock('sessions', 'show', IDS.closedSession);

    const connectionLine = result.stdout.split('\n').find((line) => line.startsWith('Connection:'));
    expect(connectionLine).toMatch(/^Connection: +pg-prod \(agent [a-z0-9-]+\)$/);
    expect(connectionLine).not.toMatch(/undefined|[0-9a-f]{8}-[0-9a-f]{4}/);
  });

  it('shows why a failed session failed', async () => {
    const result = await airlock('sessions', 'show', IDS.failedSession);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Status:      failed\n');
    expect(result.stdout).toContain('Duration:    1.5s\n');
    expect(result.stdout).toContain('Error:       agent_disconnected: the agent went away in the middle of the session\n');
    expect(result.stdout).toMatch(/\n\nNo statements recorded\.\n$/);
  });

  it('--json gives the session as the API sends it, with the full statement text and structured errors', async () => {
    const result = await airlock('sessions', 'show', IDS.closedSession, '--json');

    const session = JSON.parse(result.stdout);
    expect(session).toMatchObject({
      id: IDS.closedSession, connection: 'pg-prod', connectionId: IDS.pgProd, agentId: IDS.east,
      status: 'closed', bytesToClient: 1_572_864, error: null,
    });
    expect(session.statements).toHaveLength(3);
    expect(session.statements[1]).toMatchObject({
      sequence: 2, text: LONG_STATEMENT, startedAt: '2025-11-25T07:00:00.000Z', durationMs: 1530, rows: 100,
      commandTag: 'SELECT 100', error: null,
    });
    expect(session.statements[2].error).toEqual({ sqlstate: '42P01', message: 'relation "nope" does not exist' });

    const failed = JSON.parse((await airlock('sessions', 'show', IDS.failedSession, '--json')).stdout);
    expect(failed.error).toEqual({ code: 'agent_disconnected', message: 'the agent went away in the middle of the session' });
  });

  it('says so when a session has no statements, and exits 4 for an unknown id', async () => {
    const empty = await airlock('sessions', 'show', IDS.openSession);
    const missing = await airlock('sessions', 'show', IDS.unknownSession);
    const malformed = await airlock('sessions', 'show', 'ses_404');

    expect(empty.stdout).toMatch(/Ended: +-\n[\s\S]*\n\nNo statements recorded\.\n$/);
    expect(missing).toEqual({ code: 4, stdout: '', stderr: `airlock: session "${IDS.unknownSession}" does not exist\n` });
    expect(malformed).toEqual({ code: 4, stdout: '', stderr: 'airlock: session "ses_404" does not exist\n' });
  });
});
