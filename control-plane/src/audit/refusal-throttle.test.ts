import { describe, expect, it } from 'vitest';
import { tokenPrefix } from '../common/tokens.js';
import { recordableTokenPrefix, RefusalThrottle } from './refusal-throttle.js';

const at = (seconds: number) => new Date(seconds * 1000);

describe('RefusalThrottle', () => {
  it('admits one refusal per source a window, counting the rest', () => {
    const throttle = new RefusalThrottle(60_000);
    expect(throttle.admit('a', at(0))).toEqual({ unrecorded: 0 });
    expect(throttle.admit('a', at(10))).toBeNull();
    expect(throttle.admit('b', at(10))).toEqual({ unrecorded: 0 });
    expect(throttle.admit('a', at(59))).toBeNull();
    expect(throttle.admit('a', at(60))).toEqual({ unrecorded: 2 });
    expect(throttle.admit('a', at(61))).toBeNull();
  });

  it('remembers at most maxSources sources, forgetting the longest-recorded first', () => {
    const throttle = new RefusalThrottle(60_000, 2);
    throttle.admit('a', at(0));
    throttle.admit('b', at(1));
    throttle.admit('c', at(2));
    expect(throttle.admit('b', at(3))).toBeNull();
    expect(throttle.admit('a', at(3))).toEqual({ unrecorded: 0 }); // forgotten, so admitted again
  });
});

describe('recordableTokenPrefix', () => {
  it('gives the lookup prefix only when most of the token stays unwritten', () => {
    expect(recordableTokenPrefix('alk_user_WrongWrongWrongWrongWrongWrong12', tokenPrefix)).toBe('alk_user_WrongWro');
    expect(recordableTokenPrefix('hunter2', tokenPrefix)).toBeNull();
    expect(recordableTokenPrefix('alk_user_short1234', tokenPrefix)).toBeNull();
  });
});
