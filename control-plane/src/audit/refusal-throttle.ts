/**
 * Decides which refused logins are worth an audit event: at most one per source per window, so a
 * client retrying a bad token (or someone guessing) cannot flood the log. Each event says how many
 * refusals from that source went unrecorded since the previous one. Memory is bounded: past
 * `maxSources` sources, the longest-recorded ones are forgotten.
 */
export class RefusalThrottle {
  private readonly sources = new Map<string, { recordedAt: number; unrecorded: number }>();

  constructor(
    private readonly windowMs = 60_000,
    private readonly maxSources = 10_000,
  ) {}

  /** The number of refusals from `source` left unrecorded before this one, or null if this one is not to be recorded. */
  admit(source: string, now: Date): { unrecorded: number } | null {
    const at = now.getTime();
    const seen = this.sources.get(source);
    if (seen && at - seen.recordedAt < this.windowMs) {
      seen.unrecorded += 1;
      return null;
    }
    this.sources.delete(source); // re-inserted last: the map stays in recording order
    this.sources.set(source, { recordedAt: at, unrecorded: 0 });
    this.evict();
    return { unrecorded: seen?.unrecorded ?? 0 };
  }

  /** The map is in recording order, so the first entries are the oldest (and the likeliest expired). */
  private evict(): void {
    for (const source of this.sources.keys()) {
      if (this.sources.size <= this.maxSources) return;
      this.sources.delete(source);
    }
  }
}

/**
 * The part of a presented bearer token that may be written down: the lookup prefix listings show
 * (`alk_admin_3fZk81Qa`), and only when most of the token stays unwritten; otherwise nothing.
 */
export function recordableTokenPrefix(token: string, prefixOf: (token: string) => string): string | null {
  const prefix = prefixOf(token);
  return token.length >= prefix.length + 16 ? prefix : null;
}
