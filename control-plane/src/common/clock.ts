/** Injected wherever time matters (expiry, timestamps) so tests can move time without sleeping. */
export interface Clock {
  now(): Date;
}

export const CLOCK = Symbol('Clock');

export const systemClock: Clock = { now: () => new Date() };
