import { describe, expect, it } from 'vitest';
import type { SessionDetail } from './api.js';
import { describeOutcome, offset, playTimeline, recordedStatements, sessionTimeline, type TimelineLine } from './session-timeline.js';

const SESSION: SessionDetail = {
  id: '00000000-0000-4000-8000-000000000031', connection: 'pg-prod', connectionId: 'c', agentId: 'a', subject: 'user:alice',
  mode: 'tunnel', clientAddress: null, status: 'closed', startedAt: '2025-11-25T08:00:00.000Z', endedAt: '2025-11-25T08:00:09.000Z',
  bytesFromClient: 0, bytesToClient: 0, error: null,
  statements: [
    { sequence: 2, text: 'select 2', startedAt: '2025-11-25T08:00:02.500Z', durationMs: 12, rows: 1, commandTag: 'SELECT 1', error: null },
    { sequence: 1, text: 'select 1', startedAt: '2025-11-25T08:00:01.000Z', durationMs: 0.5, rows: 1, commandTag: 'SELECT 1', error: null },
  ],
};

/** Plays with a sleep that records what it was asked to wait, and never waits. */
async function play(options: { speed: number; maxPauseMs?: number; fromMs?: number }) {
  const sleeps: number[] = [];
  const lines: string[] = [];
  const events = sessionTimeline(SESSION, recordedStatements(SESSION.statements));
  await playTimeline(events, {
    ...options,
    sleep: async (ms) => void sleeps.push(ms),
    write: (line: TimelineLine) => lines.push(`${sleeps.length}:${line.text}`),
  });
  return { sleeps, lines };
}

describe('session timeline', () => {
  it('puts statements in sequence order, each followed by its outcome, then the end', () => {
    const events = sessionTimeline(SESSION, recordedStatements(SESSION.statements));
    expect(events.map((e) => [e.atMs, e.lines.map((l) => l.text)])).toEqual([
      [0, ['Session 00000000-0000-4000-8000-000000000031 · pg-prod · user:alice · tunnel', 'Started 2025-11-25 08:00:00 UTC']],
      [1000, ['+00:01.000  #1  select 1']],
      [1000.5, ['                SELECT 1 · 1 row · 0.5ms']],
      [2500, ['+00:02.500  #2  select 2']],
      [2512, ['                SELECT 1 · 1 row · 12ms']],
      [9000, ['+00:09.000  Session closed after 2 statements']],
    ]);
  });

  it('waits the recorded gaps divided by the speed, from the first statement on', async () => {
    const { sleeps, lines } = await play({ speed: 1, fromMs: 1000 });
    expect(sleeps).toEqual([0.5, 1499.5, 12, 6488]);
    expect(lines.map((l) => l.split(':')[0])).toEqual(['0', '0', '0', '1', '2', '3', '4']);

    expect((await play({ speed: 1000, fromMs: 1000 })).sleeps).toEqual([0.0005, 1.4995, 0.012, 6.488]);
    expect((await play({ speed: 1 })).sleeps[0]).toBe(1000);
  });

  it('prints everything at once at speed 0, and cuts long pauses to --max-pause', async () => {
    const instant = await play({ speed: 0 });
    expect(instant.sleeps).toEqual([]);
    expect(instant.lines).toHaveLength(7);
    expect((await play({ speed: 2, maxPauseMs: 500, fromMs: 1000 })).sleeps).toEqual([0.25, 500, 6, 500]);
  });

  it('keeps overlapping (pipelined) statements in sequence order without going back in time', () => {
    const statements = recordedStatements([
      { sequence: 1, text: 'a', startedAt: '2025-11-25T08:00:01.000Z', durationMs: 100, rows: null, commandTag: 'SELECT 0', error: null },
      { sequence: 2, text: 'b', startedAt: '2025-11-25T08:00:01.010Z', durationMs: 5, rows: null, commandTag: 'SELECT 0', error: null },
    ]);
    const times = sessionTimeline({ ...SESSION, endedAt: null, status: 'open' }, statements).map((e) => e.atMs);
    expect(times).toEqual([0, 1000, 1100, 1100, 1100, 1100]);
  });

  it('describes outcomes with errors, verdicts and reviews', () => {
    const [denied, approved, bare] = recordedStatements([
      { sequence: 1, text: 'drop table t', durationMs: 0.1, rows: null, commandTag: null, error: { sqlstate: '42501', message: 'airlock: denied by policy "prod"' }, verdict: 'denied', reviewId: null },
      { sequence: 2, text: 'update t set x = 1', durationMs: 1530, rows: 3, commandTag: 'UPDATE 3', error: null, verdict: 'approved', reviewId: 12 },
      { sequence: 3, text: 'listen x', durationMs: 2, rows: null, commandTag: null, error: null, verdict: 'allowed', reviewId: null },
    ]);
    expect(describeOutcome(denied!)).toBe('ERROR 42501 airlock: denied by policy "prod" · 0.1ms · denied by policy');
    expect(describeOutcome(approved!)).toBe('UPDATE 3 · 3 rows · 1.5s · approved in review 12');
    expect(describeOutcome(bare!)).toBe('OK · 2ms');
  });

  it('shows control characters in recorded text instead of sending them to the terminal', () => {
    const statements = recordedStatements([{ sequence: 1, text: "select '\x1b]0;pwned\x07'\r\nfrom t", startedAt: SESSION.startedAt, durationMs: 1, rows: 1, commandTag: 'SELECT 1', error: null }]);
    const lines = sessionTimeline(SESSION, statements).flatMap((e) => e.lines.map((l) => l.text));
    expect(lines).toContain("+00:00.000  #1  select '\\x1b]0;pwned\\x07'");
    expect(lines).toContain('                from t');
    for (const line of lines) expect(line).not.toMatch(/[\x00-\x08\x0a-\x1f\x7f]/); // eslint-disable-line no-control-regex
  });

  it('writes offsets as minutes:seconds.milliseconds, with hours once they count', () => {
    expect(offset(0)).toBe('+00:00.000');
    expect(offset(61_234.4)).toBe('+01:01.234');
    expect(offset(3_723_456)).toBe('+1:02:03.456');
  });
});
