import { afterEach, describe, expect, it } from 'vitest';
import { EventJournal, type EventJournalOptions, type SessionEventInit } from './event-journal.js';

const journals: EventJournal[] = [];
afterEach(() => journals.splice(0).forEach((j) => j.close()));

function setup(overrides: Partial<EventJournalOptions> = {}) {
  const sent: { batch: bigint; events: SessionEventInit[] }[] = [];
  const stopped: [string, string][] = [];
  const state = { connected: true, now: 0 };
  const journal = new EventJournal({
    send: (m) => sent.push(m.message!.value as { batch: bigint; events: SessionEventInit[] }),
    isConnected: () => state.connected,
    stopSession: (id, reason) => stopped.push([id, reason]),
    logger: { info() {}, warn() {}, error() {} },
    now: () => state.now,
    ...overrides,
  });
  journals.push(journal);
  return { journal, sent, stopped, state };
}

const statement = (sessionId: string, text: string): SessionEventInit => ({ sessionId, event: { case: 'statement', value: { text } } });

describe('EventJournal', () => {
  it('keeps batches until the control plane stored them and sends the rest again, in order, after a reconnect', () => {
    const { journal, sent, state } = setup();
    journal.sendEvents([statement('s1', 'select 1')]);
    journal.sendEvents([statement('s1', 'select 2')]);
    journal.onStored(1n);
    state.connected = false;
    journal.sendEvents([statement('s1', 'select 3')]);
    expect(sent.map((b) => b.batch)).toEqual([1n, 2n]);
    state.connected = true;
    journal.onConnected();
    expect(sent.map((b) => b.batch)).toEqual([1n, 2n, 2n, 3n]);
    journal.onStored(3n);
    expect(journal.pendingBatches).toBe(0);
    expect(journal.pendingBytes).toBe(0);
  });

  it('sends again when no acknowledgement comes while connected', () => {
    const { journal, sent, state } = setup({ resendAfterMs: 5_000 });
    journal.sendEvents([statement('s1', 'select 1')]);
    state.now = 4_000;
    journal.tick();
    expect(sent).toHaveLength(1);
    state.now = 5_000;
    journal.tick();
    expect(sent.map((b) => b.batch)).toEqual([1n, 1n]);
  });

  it('stops only the waiting sessions whose policy says stop when events wait too long, once', () => {
    const { journal, stopped, state } = setup({ maxWaitMs: 60_000 });
    journal.track('must-record', 'stop-session');
    journal.track('may-continue', 'continue');
    journal.track('idle', 'stop-session');
    state.connected = false;
    journal.sendEvents([statement('must-record', 'delete from t'), statement('may-continue', 'select 1')]);
    state.now = 59_000;
    journal.tick();
    expect(stopped).toEqual([]);
    state.now = 61_000;
    journal.tick();
    journal.tick();
    expect(stopped).toEqual([['must-record', 'its recording could not be stored by the control plane for 61 s']]);
    expect(journal.pendingBatches).toBe(1); // still kept: the control plane may come back
  });

  it('when full, stops sessions that must be recorded, drops the oldest events and reports each gap', () => {
    const { journal, sent, stopped, state } = setup({ maxBytes: 2_000 });
    journal.track('a', 'continue');
    journal.track('b', 'stop-session');
    state.connected = false;
    for (let i = 0; i < 10; i++) journal.sendEvents([statement(i % 2 ? 'a' : 'b', `select ${'x'.repeat(100)}`)]);
    expect(stopped.map(([id]) => id)).toEqual(['b']);
    expect(journal.pendingBytes).toBeLessThanOrEqual(2_000);
    state.connected = true;
    journal.onConnected();
    const gaps = sent.flatMap((b) => b.events).filter((e) => e.event?.case === 'gap');
    expect([...new Set(gaps.map((g) => g.sessionId))].sort()).toEqual(['a', 'b']);
    const lost = gaps.reduce((n, g) => n + Number((g.event!.value as { lostEvents: bigint }).lostEvents), 0);
    const statements = sent.flatMap((b) => b.events).filter((e) => e.event?.case === 'statement');
    expect(lost + statements.length).toBe(10); // every event is either delivered or counted in a gap
  });
});
