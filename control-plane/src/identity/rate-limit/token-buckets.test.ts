import { describe, expect, it } from 'vitest';
import { TokenBuckets } from './token-buckets.js';

const at = (seconds: number) => new Date(Date.UTC(2026, 10, 25, 10, 0, seconds));

describe('TokenBuckets', () => {
  it('lets a burst through, then says how long to wait, and refills at the rate', () => {
    const buckets = new TokenBuckets(3, 6); // one token every 10 s
    expect([buckets.take('a', at(0)), buckets.take('a', at(0)), buckets.take('a', at(0))]).toEqual([0, 0, 0]);
    expect(buckets.take('a', at(0))).toBe(10);
    expect(buckets.wait('a', at(4))).toBe(6);
    expect(buckets.take('a', at(10))).toBe(0);
    expect(buckets.take('a', at(10))).toBe(10);
    // Another source has its own bucket.
    expect(buckets.take('b', at(10))).toBe(0);
    expect(buckets.wait('never-seen', at(10))).toBe(0);
  });

  it('never holds more than its capacity, and forgets the least recently seen sources past its bound', () => {
    const buckets = new TokenBuckets(2, 60, 2);
    buckets.take('a', at(0));
    expect(buckets.take('a', at(59))).toBe(0);
    expect(buckets.take('a', at(59))).toBe(0);
    expect(buckets.take('a', at(59))).toBe(1);
    buckets.take('b', at(59));
    buckets.take('c', at(59)); // 'a' is forgotten: it starts again full
    expect(buckets.take('a', at(59))).toBe(0);
  });
});
