import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service.js';
import { CLOCK, type Clock } from '../../common/clock.js';
import { CONFIG } from '../../common/config.token.js';
import type { ControlPlaneConfig } from '../../config/config.js';
import { TooManyAttemptsError } from '../auth-errors.js';
import { TokenBuckets } from './token-buckets.js';

const MAX_TRACKED_SOURCES = 10_000;

/**
 * Per-source limits against guessing: failed authentications (bad tokens, API keys, ID tokens) use
 * up an allowance that refills slowly; once it is gone, every authentication from that source is
 * answered 429 with Retry-After *before* the credential is looked at, so guessing stops paying.
 * The login and token endpoints also have a call allowance. In memory, per process: a restart
 * forgets, and behind N replicas a source gets N allowances. The first 429 of a run is audited.
 */
@Injectable()
export class AuthRateLimiter {
  private readonly failures: TokenBuckets;
  private readonly logins: TokenBuckets;
  /** Sources currently limited whose limiting was already audited. */
  private readonly limited = new Set<string>();

  constructor(
    private readonly audit: AuditService,
    @Inject(CONFIG) config: ControlPlaneConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    const limits = config.identity.rateLimits;
    this.failures = new TokenBuckets(limits.failureBurst, limits.failuresPerMinute, MAX_TRACKED_SOURCES);
    this.logins = new TokenBuckets(limits.loginBurst, limits.loginsPerMinute, MAX_TRACKED_SOURCES);
  }

  /** Throws 429 while `source` has no failed attempts left. */
  async assertMayAuthenticate(source: string): Promise<void> {
    const wait = this.failures.wait(source, this.clock.now());
    if (wait === 0) {
      this.limited.delete(`failures|${source}`);
      return;
    }
    await this.recordLimited(`failures|${source}`, source, 'failed authentications', wait);
    throw new TooManyAttemptsError(`too many failed authentication attempts from ${source}; try again in ${wait}s`, wait);
  }

  /** Counts one failed authentication against `source`. */
  recordFailure(source: string): void {
    this.failures.take(source, this.clock.now());
  }

  /** Takes one call of the login and token endpoints for `source`, or throws 429. */
  async admitLoginCall(source: string): Promise<void> {
    const wait = this.logins.take(source, this.clock.now());
    if (wait === 0) {
      this.limited.delete(`logins|${source}`);
      return;
    }
    await this.recordLimited(`logins|${source}`, source, 'login requests', wait);
    throw new TooManyAttemptsError(`too many login requests from ${source}; try again in ${wait}s`, wait);
  }

  private async recordLimited(key: string, source: string, what: string, retryAfterSeconds: number): Promise<void> {
    if (this.limited.has(key)) return;
    if (this.limited.size >= MAX_TRACKED_SOURCES) this.limited.clear();
    this.limited.add(key);
    await this.audit.record({ actor: `anonymous:${source}`, kind: 'auth.rate_limited', target: `source/${source}`, details: { source, limited: what, retryAfterSeconds } });
  }
}
