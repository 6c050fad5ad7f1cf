import { describe, expect, it } from 'vitest';
import { assertTransition, outcomeOf, ReviewTransitionError } from './review-state.js';

describe('review state machine', () => {
  it('lets a pending review reach every decided state, and nothing leave one', () => {
    for (const to of ['approved', 'rejected', 'expired', 'cancelled'] as const) expect(() => assertTransition(1, 'pending', to)).not.toThrow();
    expect(() => assertTransition(7, 'approved', 'rejected')).toThrow(new ReviewTransitionError(7, 'approved', 'rejected'));
    expect(() => assertTransition(7, 'expired', 'approved')).toThrow('review 7 is expired and can no longer be approved');
  });

  it('counts N of M approvals and honours reject-on-any', () => {
    expect(outcomeOf({ approvals: 1, rejections: 0 }, 2, true)).toBe('pending');
    expect(outcomeOf({ approvals: 2, rejections: 0 }, 2, true)).toBe('approved');
    expect(outcomeOf({ approvals: 1, rejections: 1 }, 2, true)).toBe('rejected');
    expect(outcomeOf({ approvals: 1, rejections: 1 }, 2, false)).toBe('pending');
    expect(outcomeOf({ approvals: 0, rejections: 2 }, 2, false)).toBe('rejected');
  });
});
