/**
 * The assertion ids (jti) seen while their assertions are still valid, so each assertion opens one
 * call only. Entries leave once their assertion has expired; an assertion's lifetime is capped, so
 * the set holds at most a few minutes of calls. Past `maxEntries` the oldest are forgotten (an
 * attacker cannot add entries: only correctly signed assertions get here).
 */
export class AssertionReplayCache {
  /** `${agentId} ${jti}` → when it may be forgotten (ms), in insertion order. */
  private readonly seen = new Map<string, number>();

  constructor(private readonly maxEntries = 200_000) {}

  /** Records the assertion; false when it was seen before and has not expired since. */
  admit(agentId: string, jti: string, forgetAfter: Date, now: Date): boolean {
    this.prune(now.getTime());
    const key = `${agentId} ${jti}`;
    if (this.seen.has(key)) return false;
    this.seen.set(key, forgetAfter.getTime());
    for (const oldest of this.seen.keys()) {
      if (this.seen.size <= this.maxEntries) break;
      this.seen.delete(oldest);
    }
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  /** Entries are mostly in expiry order (lifetimes are short and similar), so stop at the first live one. */
  private prune(now: number): void {
    for (const [key, forgetAt] of this.seen) {
      if (forgetAt > now) return;
      this.seen.delete(key);
    }
  }
}
