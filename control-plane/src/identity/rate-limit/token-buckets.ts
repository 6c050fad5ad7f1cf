/**
 * Token buckets keyed by source address, in memory (each control-plane process keeps its own, so
 * behind N replicas a source gets up to N times the allowance). A bucket holds up to `capacity`
 * tokens and refills at `perMinute`. Memory is bounded: past `maxSources`, the least recently
 * touched sources are forgotten (a forgotten source starts again with a full bucket).
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly capacity: number,
    private readonly perMinute: number,
    private readonly maxSources = 10_000,
  ) {}

  /** Takes a token for `source`: 0 when it got one, otherwise the whole seconds until one is there. */
  take(source: string, now: Date): number {
    const bucket = this.refilled(source, now.getTime());
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return this.secondsUntilOne(bucket.tokens);
  }

  /** Whole seconds until `source` has a token (0 when it has one now), without taking it. */
  wait(source: string, now: Date): number {
    const bucket = this.buckets.get(source);
    if (!bucket) return 0;
    const tokens = Math.min(this.capacity, bucket.tokens + (Math.max(0, now.getTime() - bucket.at) * this.perMinute) / 60_000);
    return tokens >= 1 ? 0 : this.secondsUntilOne(tokens);
  }

  private refilled(source: string, at: number): { tokens: number; at: number } {
    const seen = this.buckets.get(source);
    // A clock that steps back refills nothing (and takes nothing away).
    const tokens = seen ? Math.min(this.capacity, seen.tokens + (Math.max(0, at - seen.at) * this.perMinute) / 60_000) : this.capacity;
    const bucket = { tokens, at: Math.max(at, seen?.at ?? at) };
    this.buckets.delete(source); // re-inserted last: the map stays in least-recently-touched order
    this.buckets.set(source, bucket);
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= this.maxSources) break;
      this.buckets.delete(key);
    }
    return bucket;
  }

  private secondsUntilOne(tokens: number): number {
    return Math.max(1, Math.ceil(((1 - tokens) * 60) / this.perMinute));
  }
}
