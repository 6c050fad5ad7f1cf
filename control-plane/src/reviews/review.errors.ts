import { DomainError } from '../common/errors.js';

/** The caller may not decide this review (their own statement, not a reviewer, approve-for too long). */
export class ReviewForbiddenError extends DomainError {
  override readonly name = 'ReviewForbiddenError';
  readonly code = 'forbidden';
  readonly httpStatus = 403;
}

/** An agent's request cannot become a review (e.g. its policy has no review settings). */
export class ReviewRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReviewRequestError';
  }
}
