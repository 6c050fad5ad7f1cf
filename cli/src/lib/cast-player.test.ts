import { describe, expect, it } from 'vitest';
import { CastFormatError, castLines, playCast } from './cast-player.js';

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield Buffer.from(p, 'utf8');
}

const CAST = [
  JSON.stringify({ version: 2, width: 80, height: 24, timestamp: 1 }),
  JSON.stringify([0.5, 'o', '$ ']),
  JSON.stringify([1.0, 'i', 'ls\r']),
  JSON.stringify([1.5, 'o', 'ls\r\nfile-a  file-b\r\n']),
  JSON.stringify([11.5, 'o', '$ ']),
].join('\n') + '\n';

describe('playCast', () => {
  it('writes output events in order with their pauses scaled by speed, skipping input', async () => {
    const sleeps: number[] = [];
    let out = '';
    // Split mid-line and mid-character (é is two bytes) to prove lines are rebuilt from any chunking.
    const bytes = Buffer.from(CAST.replace('file-b', 'fé'), 'utf8');
    const cut = bytes.indexOf(0xa9);
    const header = await playCast(castLines(chunks(bytes.subarray(0, 17).toString('latin1'))), {
      speed: 2, sleep: async (ms) => void sleeps.push(ms), write: (d) => (out += d),
    }).catch((e: Error) => e);
    expect(header).toBeInstanceOf(CastFormatError); // a header cut in half is not a header

    async function* split(): AsyncGenerator<Uint8Array> {
      yield bytes.subarray(0, cut);
      yield bytes.subarray(cut);
    }
    const played = await playCast(castLines(split()), { speed: 2, maxPauseMs: 2000, sleep: async (ms) => void sleeps.push(ms), write: (d) => (out += d) });
    expect(played).toMatchObject({ version: 2, width: 80, height: 24 });
    expect(out).toBe('$ ls\r\nfile-a  fé\r\n$ ');
    expect(sleeps).toEqual([250, 500, 2000]);
  });

  it('names the line that is not an event', async () => {
    const bad = `${JSON.stringify({ version: 2, width: 1, height: 1 })}\n{"not":"an event"}\n`;
    await expect(playCast(castLines(chunks(bad)), { speed: 0, sleep: async () => {}, write: () => {} })).rejects.toThrow('line 2 of the recording is not an asciicast event');
  });
});
