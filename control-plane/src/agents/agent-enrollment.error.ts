import { DomainError } from '../common/errors.js';

export type EnrollmentRefusal = 'unknown_token' | 'expired' | 'already_used' | 'revoked' | 'invalid_key';

/** A join token (or key) that cannot enrol an agent; `reason` lets the gateway answer in gRPC terms. */
export class AgentEnrollmentError extends DomainError {
  override readonly name = 'AgentEnrollmentError';
  readonly code = 'enrollment_refused';
  readonly httpStatus = 401;

  constructor(
    readonly reason: EnrollmentRefusal,
    message: string,
    /** The agent the join token belongs to, when the token is a real one. */
    readonly agentName?: string,
  ) {
    super(message);
  }
}
