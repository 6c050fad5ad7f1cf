export interface BackoffPolicy {
  readonly baseMs: number;
  readonly capMs: number;
}

/**
 * Exponential backoff with jitter: after the n-th failed attempt wait base·2^(n-1), capped, then
 * drawn from the upper half of that, so many control planes retrying one endpoint spread out while
 * the wait still grows. `random` is injectable for tests.
 */
export function backoffDelayMs(failedAttempts: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(failedAttempts - 1, 0), 30);
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** exponent);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
