import { InvalidRequestError } from '../common/errors.js';
import { describeProblems, type PolicyProblem } from './policy-document.js';

/** 400 with one readable line and the problems as data: `{ error, message, problems: [{ path, reason }] }`. */
export class PolicyInvalidError extends InvalidRequestError {
  override readonly details: { problems: PolicyProblem[] };

  constructor(problems: PolicyProblem[], name?: string) {
    super(`policy${name ? ` "${name}"` : ''} is not valid: ${describeProblems(problems)}`);
    this.details = { problems };
  }
}
