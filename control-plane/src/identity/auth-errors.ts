import { DomainError, UnauthenticatedError } from '../common/errors.js';

/** Why a credential was refused; recorded in the audit event (never the credential itself). */
export type RefusalReason =
  | 'missing'
  | 'malformed'
  | 'algorithm_not_allowed'
  | 'unknown_key'
  | 'bad_signature'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'expired'
  | 'not_yet_valid'
  | 'missing_claim'
  | 'nonce_mismatch'
  | 'unknown_token'
  | 'revoked'
  | 'session_ended'
  | 'refresh_reused'
  | 'user_deleted'
  | 'unusable_identity'
  | 'issuer_unreachable'
  | 'not_configured';

/** What was presented: a session token, an API key or token, an ID token from the issuer, a refresh token. */
export type PresentedCredential = 'session-token' | 'service-account-key' | 'api-token' | 'id-token' | 'refresh-token' | 'none';

/** A credential was refused: 401 with a sentence saying exactly why, and the reason for the audit log. */
export class AuthenticationRefusedError extends UnauthenticatedError {
  constructor(
    message: string,
    readonly reason: RefusalReason,
    readonly credential: PresentedCredential,
  ) {
    super(message);
  }
}

/** Too many failed attempts (or login calls) from one source: 429 with Retry-After. */
export class TooManyAttemptsError extends DomainError {
  override readonly name = 'TooManyAttemptsError';
  readonly code = 'too_many_requests';
  readonly httpStatus = 429;
  override readonly headers: Record<string, string>;

  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
    this.headers = { 'Retry-After': String(retryAfterSeconds) };
  }
}
