import { afterEach, describe, expect, it, vi } from 'vitest';
import { AsciicastRecorder, type RecordingChunkOut } from './terminal-recorder.js';

afterEach(() => vi.useRealTimers());

function lines(chunks: RecordingChunkOut[]): unknown[] {
  return chunks.flatMap((c) => c.data.toString('utf8').split('\n').filter(Boolean)).map((l) => JSON.parse(l));
}

describe('AsciicastRecorder', () => {
  it('streams an asciicast v2 header and timed events in numbered chunks', () => {
    vi.useFakeTimers();
    const chunks: RecordingChunkOut[] = [];
    let now = 1000;
    const recorder = new AsciicastRecorder((c) => chunks.push(c), () => now, () => 1_700_000_000_000);
    recorder.start({ width: 120, height: 40, term: 'xterm-256color' });
    now += 250;
    recorder.output('$ ');
    recorder.input('whoami\r');
    now += 1000;
    recorder.resize(100, 30);
    vi.advanceTimersByTime(300);
    recorder.output('root\r\n');
    recorder.flush();
    expect(chunks.map((c) => [c.format, c.sequence])).toEqual([['asciicast-v2', 0], ['asciicast-v2', 1]]);
    expect(lines(chunks)).toEqual([
      { version: 2, width: 120, height: 40, timestamp: 1_700_000_000, env: { TERM: 'xterm-256color' } },
      [0.25, 'o', '$ '],
      [0.25, 'i', 'whoami\r'],
      [1.25, 'r', '100x30'],
      [1.25, 'o', 'root\r\n'],
    ]);
  });

  it('keeps every chunk bounded, however much one write prints', () => {
    const chunks: RecordingChunkOut[] = [];
    const recorder = new AsciicastRecorder((c) => chunks.push(c));
    recorder.output('x'.repeat(200_000));
    recorder.flush();
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) expect(c.data.length).toBeLessThan(64 * 1024);
    const output = lines(chunks).filter(Array.isArray).map((e) => (e as [number, string, string])[2]).join('');
    expect(output).toBe('x'.repeat(200_000));
  });

  it('sends nothing for a session that never used a terminal', () => {
    const chunks: RecordingChunkOut[] = [];
    new AsciicastRecorder((c) => chunks.push(c)).flush();
    expect(chunks).toEqual([]);
  });
});
