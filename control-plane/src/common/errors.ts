/**
 * Typed domain errors. Services throw these; the HTTP error filter (and later the gRPC gateway)
 * maps them to the peer's own terms, so each carries a stable machine code and one readable sentence.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  abstract readonly httpStatus: number;
  /** Machine-readable specifics added to the error body next to `error` and `message` (e.g. `problems`). */
  readonly details?: Record<string, unknown>;
  /** Response headers the HTTP peer needs (e.g. `Retry-After` on a 429). */
  readonly headers?: Record<string, string>;
}

export class InvalidRequestError extends DomainError {
  override readonly name = 'InvalidRequestError';
  readonly code = 'invalid_request';
  readonly httpStatus = 400;
}

export class UnauthenticatedError extends DomainError {
  override readonly name = 'UnauthenticatedError';
  readonly code = 'unauthenticated';
  readonly httpStatus = 401;
}

/** Authenticated, but this principal may not do this (e.g. a non-admin calling an admin endpoint). */
export class ForbiddenError extends DomainError {
  override readonly name = 'ForbiddenError';
  readonly code = 'forbidden';
  readonly httpStatus = 403;
}

export class NotFoundError extends DomainError {
  override readonly name = 'NotFoundError';
  readonly code = 'not_found';
  readonly httpStatus = 404;
}

export class ConflictError extends DomainError {
  override readonly name = 'ConflictError';
  readonly code = 'conflict';
  readonly httpStatus = 409;
}

/** True for a Postgres unique_violation, whether it came through pg or PGlite. */
export function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === '23505';
}

/** True for a Postgres foreign_key_violation. */
export function isForeignKeyViolation(error: unknown): boolean {
  return sqlState(error) === '23503';
}

function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const withDriver = error as { code?: unknown; driverError?: { code?: unknown } };
  const code = withDriver.driverError?.code ?? withDriver.code;
  return typeof code === 'string' ? code : undefined;
}
