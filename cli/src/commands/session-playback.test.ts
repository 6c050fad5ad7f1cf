// Runs the built `airlock` binary against FakeControlPlane (test/fake-control-plane.ts), an in-process
// stand-in for the control plane's REST API; the real path is covered by e2e/sessions.e2e.test.ts.
// Nothing here sleeps for real: replays run at --speed 1000 or 0 (timing itself is proven in
// lib/session-timeline.test.ts with an injected sleep).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { saveProfile } from '../lib/profile.js';
import { ALICE, CAROL, FakeControlPlane, IDS, type SessionDetailView, type StatementView } from '../test/fake-control-plane.js';
import { makeHome, runCli, startCli } from '../test/run-cli.js';

let fake: FakeControlPlane;
let home: ReturnType<typeof makeHome>;
const airlock = (...args: string[]) => runCli(home.path, args);

const RECORDED = '00000000-0000-4000-8000-000000000031';
const LIVE = '00000000-0000-4000-8000-000000000032';

function at(seconds: number): string {
  return new Date(Date.parse('2025-11-25T08:00:00.000Z') + seconds * 1000).toISOString();
}

function statement(sequence: number, seconds: number, text: string, fields: Partial<StatementView> = {}): StatementView {
  return { sequence, protocol: 'postgres', text, startedAt: at(seconds), durationMs: 0.4, rows: 1, commandTag: 'SELECT 1', error: null, verdict: 'allowed', reviewId: null, ...fields };
}

/** A finished session whose statements are stored out of order: the CLI must order them by sequence. */
function recordedSession(): SessionDetailView {
  return {
    id: RECORDED, connection: 'pg-prod', connectionId: IDS.pgProd, agentId: IDS.east, subject: ALICE.subject, mode: 'tunnel',
    clientAddress: '127.0.0.1:50001', status: 'closed', startedAt: at(0), endedAt: at(9), bytesFromClient: 300, bytesToClient: 900, error: null,
    statements: [
      statement(3, 4, 'drop table accounts', { durationMs: 0.1, rows: null, commandTag: null, verdict: 'denied', error: { sqlstate: '42501', message: 'airlock: denied by policy "prod"' } }),
      statement(1, 1, 'begin', { durationMs: 0.2, rows: null, commandTag: 'BEGIN' }),
      statement(2, 2.5, 'update accounts set balance = 0\nwhere id = 7', { durationMs: 12, commandTag: 'UPDATE 1', verdict: 'approved', reviewId: 12 }),
      statement(4, 6, 'select 1'),
    ],
  };
}

function liveSession(statements: StatementView[] = []): SessionDetailView {
  return { ...recordedSession(), id: LIVE, status: 'open', endedAt: null, startedAt: at(0), statements };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeEach(async () => {
  fake = await new FakeControlPlane().start();
  fake.sessions.push(recordedSession());
  home = makeHome();
  saveProfile({ url: fake.url, token: ALICE.token }, { AIRLOCK_HOME: home.path });
});

afterEach(async () => {
  await fake.stop();
  home.remove();
});

const REPLAY = [
  `Session ${RECORDED} · pg-prod · alice@example.com · tunnel`,
  'Started 2025-11-25 08:00:00 UTC',
  '+00:01.000  #1  begin',
  '                BEGIN · 0.2ms',
  '+00:02.500  #2  update accounts set balance = 0',
  '                where id = 7',
  '                UPDATE 1 · 1 row · 12ms · approved in review 12',
  '+00:04.000  #3  drop table accounts',
  '                ERROR 42501 airlock: denied by policy "prod" · 0.1ms · denied by policy',
  '+00:06.000  #4  select 1',
  '                SELECT 1 · 1 row · 0.4ms',
  '+00:09.000  Session closed after 4 statements',
];

describe('airlock sessions replay', () => {
  it('plays the statements in sequence order with their outcomes, scaled by --speed', async () => {
    const started = Date.now();
    const result = await airlock('sessions', 'replay', RECORDED, '--speed', '1000');

    expect(result).toEqual({ code: 0, stdout: REPLAY.join('\n') + '\n', stderr: '' });
    expect(Date.now() - started).toBeLessThan(5000); // 8 s of recorded pauses at 1000×
  });

  it('prints at once with --speed 0 or --no-wait', async () => {
    expect((await airlock('sessions', 'replay', RECORDED, '--speed', '0')).stdout).toBe(REPLAY.join('\n') + '\n');
    expect((await airlock('sessions', 'replay', RECORDED, '--no-wait')).stdout).toBe(REPLAY.join('\n') + '\n');
  });

  it('says a live session is still going, rejects a bad speed, and exits 4 for an unknown session', async () => {
    fake.sessions.push(liveSession([statement(1, 1, 'select 1')]));
    const live = await airlock('sessions', 'replay', LIVE, '--no-wait');
    expect(live.stdout.trimEnd().split('\n').at(-1)).toBe(`Session still open (1 statement so far): airlock sessions tail ${LIVE} follows it`);

    const bad = await airlock('sessions', 'replay', RECORDED, '--speed', 'fast');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("airlock: option '--speed <n>' argument 'fast' is invalid. Expected a speed of 0 or more, e.g. 2 for twice as fast or 0.5 for half speed.\n");

    expect(await airlock('sessions', 'replay', IDS.unknownSession)).toEqual({ code: 4, stdout: '', stderr: `airlock: session "${IDS.unknownSession}" does not exist\n` });
  });
});

describe('airlock sessions export', () => {
  it('--format jsonl writes one statement a line, in order, with every field', async () => {
    const result = await airlock('sessions', 'export', RECORDED, '--format', 'jsonl');

    expect(result.code).toBe(0);
    expect(result.stdout.endsWith('\n')).toBe(true);
    const lines = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((l) => l.sequence)).toEqual([1, 2, 3, 4]);
    expect(lines[1]).toEqual({
      sessionId: RECORDED, connection: 'pg-prod', subject: ALICE.subject, sequence: 2, protocol: 'postgres',
      text: 'update accounts set balance = 0\nwhere id = 7', startedAt: '2025-11-25T08:00:02.500Z', durationMs: 12, rows: 1,
      commandTag: 'UPDATE 1', error: null, verdict: 'approved', reviewId: 12,
    });
    expect(lines[2]).toMatchObject({ verdict: 'denied', error: { sqlstate: '42501', message: 'airlock: denied by policy "prod"' } });
    expect((await airlock('sessions', 'export', RECORDED)).stdout).toBe(result.stdout); // jsonl is the default
  });

  it('--format cast writes an asciicast v2: a header line, then timed output events', async () => {
    const result = await airlock('sessions', 'export', RECORDED, '--format', 'cast');

    expect(result.code).toBe(0);
    const [headerLine, ...eventLines] = result.stdout.trimEnd().split('\n');
    const header = JSON.parse(headerLine!) as Record<string, unknown>;
    expect(Object.keys(header)).toEqual(['version', 'width', 'height', 'timestamp', 'title']);
    expect(header).toMatchObject({ version: 2, height: 30, timestamp: Date.parse('2025-11-25T08:00:00.000Z') / 1000, title: `airlock session ${RECORDED}` });
    expect(header.width).toBeGreaterThanOrEqual(80);

    const events = eventLines.map((line) => JSON.parse(line) as [number, string, string]);
    for (const event of events) {
      expect(event).toHaveLength(3);
      expect(typeof event[0]).toBe('number');
      expect(event[1]).toBe('o');
      expect(event[2]).toMatch(/\r\n$/);
      expect(event[2].replace(/\r\n/g, '')).not.toContain('\n');
    }
    const times = events.map((e) => e[0]);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times[0]).toBe(0);
    expect(times.at(-1)).toBe(9);
    const screen = events.map((e) => e[2]).join('').replace(/\x1b\[[0-9;]*m/g, ''); // eslint-disable-line no-control-regex
    expect(screen.split('\r\n').slice(0, -1)).toEqual(REPLAY);
  });

  it('refuses an unknown format', async () => {
    const result = await airlock('sessions', 'export', RECORDED, '--format', 'csv');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("airlock: option '--format <format>' argument 'csv' is invalid. Allowed choices are jsonl, cast.\n");
  });
});

describe('airlock sessions tail', () => {
  it('prints what is recorded, then each new statement, and stops when the session ends', async () => {
    const session = liveSession([statement(1, 1, 'select 1')]);
    fake.sessions.push(session);
    const tail = startCli(home.path, ['sessions', 'tail', LIVE]);
    await tail.stderrMatching(/Following session/);
    const polled = (after: number) => fake.requests.some((r) => r.path === `/v1/sessions/${LIVE}/statements?after=${after}`);

    await until(() => polled(1), 'a poll after statement 1');
    session.statements.push(statement(2, 3, 'select 2', { rows: 5, commandTag: 'SELECT 5' }));
    await until(() => polled(2), 'a poll after statement 2');
    Object.assign(session, { status: 'closed', endedAt: at(4) });
    const result = await tail.result;

    expect(result.code).toBe(0);
    expect(result.stderr).toBe(`Following session ${LIVE} (pg-prod, alice@example.com); Ctrl-C to stop\n`);
    expect(result.stdout).toBe(
      [
        '+00:01.000  #1  select 1',
        '                SELECT 1 · 1 row · 0.4ms',
        '+00:03.000  #2  select 2',
        '                SELECT 5 · 5 rows · 0.4ms',
        '+00:04.000  Session closed after 2 statements',
      ].join('\n') + '\n',
    );
  });

  it('prints a session that has already ended and returns; --json gives JSON lines', async () => {
    const result = await airlock('sessions', 'tail', RECORDED, '--json');

    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { sequence: number; sessionId: string });
    expect(lines.map((l) => l.sequence)).toEqual([1, 2, 3, 4]);
    expect(lines[0]!.sessionId).toBe(RECORDED);
    expect(result.stderr).toContain('+00:09.000  Session closed after 4 statements\n');
  });
});

describe('airlock sessions kill', () => {
  it('tells the agent to end the session, waits until it has ended, and says why', async () => {
    fake.sessions.push(liveSession());
    const result = await airlock('sessions', 'kill', LIVE, '--reason', 'incident 4711');

    expect(result).toEqual({ code: 0, stdout: `Session ${LIVE} ended (failed): killed by alice@example.com: incident 4711\n`, stderr: '' });
    expect(fake.kills).toEqual([{ sessionId: LIVE, reason: 'killed by alice@example.com: incident 4711' }]);
    expect(fake.requests.find((r) => r.method === 'POST')).toMatchObject({ path: `/v1/sessions/${LIVE}/kill`, body: { reason: 'incident 4711' } });
  });

  it('--no-wait returns once the agent has been told; --json prints the order', async () => {
    fake.sessions.push(liveSession());
    const result = await airlock('sessions', 'kill', LIVE, '--no-wait', '--json');

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ session: { id: LIVE, status: 'open' }, reason: 'killed by alice@example.com' });
    expect(fake.requests.at(-1)).toMatchObject({ method: 'POST', body: {} });
  });

  it('fails with a clear message when the agent does not report the end in time', async () => {
    fake.sessions.push(liveSession());
    fake.agentEndsKilledSessions = false;
    const result = await airlock('sessions', 'kill', LIVE, '--timeout', '0.3');

    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `airlock: the agent was told to end session ${LIVE} but has not reported its end within 0.3s; check with airlock sessions show ${LIVE}\n`,
    });
  });

  it('reports unknown, ended and agent-offline sessions, and non-admins, in the server\'s words', async () => {
    expect(await airlock('sessions', 'kill', IDS.unknownSession)).toEqual({ code: 4, stdout: '', stderr: `airlock: session "${IDS.unknownSession}" does not exist\n` });
    expect(await airlock('sessions', 'kill', RECORDED)).toEqual({ code: 1, stdout: '', stderr: `airlock: session ${RECORDED} has already ended (closed)\n` });
    expect(await airlock('sessions', 'kill', IDS.openSession)).toEqual({
      code: 1,
      stdout: '',
      stderr: `airlock: cannot kill session ${IDS.openSession}: its agent "west" is not connected to the control plane; try again once it reconnects\n`,
    });
    saveProfile({ url: fake.url, token: CAROL.token }, { AIRLOCK_HOME: home.path });
    expect(await airlock('sessions', 'kill', RECORDED)).toEqual({ code: 3, stdout: '', stderr: 'airlock: only admins may kill sessions; you are signed in as user:carol\n' });
    expect(fake.kills).toEqual([]);
  });
});
