import { randomBytes } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ResumableStream, ResumeError } from './resumable-stream.js';

/** A cuttable link between two streams, standing in for the two calls the control plane splices. */
function link() {
  const aToB = new PassThrough();
  const bToA = new PassThrough();
  return {
    forA: { source: bToA, sink: aToB },
    forB: { source: aToB, sink: bToA },
    cut() {
      // The relay vanishes: both calls close without a close frame.
      aToB.destroy();
      bToA.destroy();
    },
  };
}

function collect(stream: ResumableStream): { bytes: () => Buffer; ended: Promise<void> } {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve) => stream.once('end', resolve));
  return { bytes: () => Buffer.concat(chunks), ended };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('ResumableStream', () => {
  it('carries bytes both ways and ends with explicit closes', async () => {
    const l = link();
    const a = new ResumableStream(l.forA);
    const b = new ResumableStream(l.forB);
    const atB = collect(b);
    const atA = collect(a);
    a.end(Buffer.from('hello'));
    b.end(Buffer.from('world'));
    await Promise.all([atA.ended, atB.ended]);
    expect(atB.bytes().toString()).toBe('hello');
    expect(atA.bytes().toString()).toBe('world');
    expect(a.peerClose).toEqual({});
  });

  it('survives cuts at arbitrary points without losing or repeating a byte', async () => {
    const payloadA = randomBytes(3 * 1024 * 1024);
    const payloadB = randomBytes(1024 * 1024 + 7);
    let l = link();
    const a = new ResumableStream(l.forA);
    const b = new ResumableStream(l.forB);
    const atB = collect(b);
    const atA = collect(a);
    const detached: string[] = [];
    a.on('detached', () => detached.push('a'));
    b.on('detached', () => detached.push('b'));
    // Write in uneven slices, a few per tick, while the link is cut three times underneath.
    const writes = (async () => {
      for (let off = 0, i = 0; off < payloadA.length; off += 100_003, i++) {
        a.write(payloadA.subarray(off, off + 100_003));
        if (off < payloadB.length) b.write(payloadB.subarray(off, off + 100_003));
        if (i % 3 === 0) await tick();
      }
      a.end();
      b.end();
    })();
    for (let cut = 0; cut < 3; cut++) {
      await tick();
      l.cut();
      await tick();
      l = link();
      // Each side tells the other how much it received, as TunnelOpened and SessionAttach do.
      const [aGot, bGot] = [a.receivedBytes, b.receivedBytes];
      a.attach(l.forA, bGot);
      b.attach(l.forB, aGot);
    }
    await writes;
    await Promise.all([atA.ended, atB.ended]);
    expect(atB.bytes().equals(payloadA)).toBe(true);
    expect(atA.bytes().equals(payloadB)).toBe(true);
    expect(detached.filter((d) => d === 'a').length).toBeGreaterThanOrEqual(1);
  });

  it('keeps at most one drain listener on a full sink while acknowledgements free the window', async () => {
    // The peer gets every byte at once (so it acknowledges), but the sink reports itself full until a
    // timer lets it drain: acknowledgements keep freeing the window while the sink stays full.
    const aToB = new PassThrough();
    const bToA = new PassThrough();
    const held: (() => void)[] = [];
    const sink = new Writable({ highWaterMark: 16, write(chunk: Buffer, _encoding, done) { aToB.write(chunk); held.push(done); } });
    const release = setInterval(() => held.splice(0).forEach((done) => done()), 20);
    const a = new ResumableStream({ source: bToA, sink });
    const b = new ResumableStream({ source: aToB, sink: bToA });
    const atB = collect(b);
    const payload = randomBytes(512 * 1024);
    let maxListeners = 0;
    for (let offset = 0; offset < payload.length; offset += 8 * 1024) {
      if (!a.write(payload.subarray(offset, offset + 8 * 1024))) await new Promise((r) => a.once('drain', r));
      maxListeners = Math.max(maxListeners, sink.listenerCount('drain'));
    }
    a.end();
    await atB.ended;
    clearInterval(release);
    expect(atB.bytes().equals(payload)).toBe(true);
    expect(maxListeners).toBeLessThanOrEqual(1);
  });

  it('refuses a resume from an offset it can no longer serve', async () => {
    const l = link();
    const a = new ResumableStream(l.forA);
    const b = new ResumableStream(l.forB);
    collect(b);
    a.write(Buffer.alloc(10));
    await tick();
    expect(() => a.attach(link().forA, 11)).toThrow(ResumeError);
  });
});
