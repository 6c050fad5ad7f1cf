/**
 * Errors the CLI reports to a person: each carries the process exit code, and its message is the one
 * readable line that `airlock: <message>` prints.
 */
export const ExitCode = {
  General: 1,
  Usage: 2,
  Auth: 3,
  NotFound: 4,
  Unreachable: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.General,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The command line itself is wrong (bad flag value, missing argument). */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.Usage);
  }
}

/** No profile on disk and no AIRLOCK_URL / AIRLOCK_TOKEN in the environment. */
export class NotLoggedInError extends CliError {
  constructor() {
    super('not logged in: run airlock login --url URL --token TOKEN', ExitCode.Auth);
  }
}

/** The control plane could not be reached at all: connection refused, DNS failure or timeout. */
export class ControlPlaneUnreachableError extends CliError {
  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(`cannot reach the control plane at ${url}: ${reason}`, ExitCode.Unreachable);
  }
}

/** The control plane answered with an error status; `code` is its stable error code. */
export class ApiError extends CliError {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    exitCode: ExitCode = ExitCode.General,
  ) {
    super(message, exitCode);
  }
}

/** 401 (token refused) or 403 (token accepted, action not allowed). */
export class AuthError extends ApiError {
  constructor(
    message: string,
    status: number,
    code: string,
    /** The server's own sentence, for commands (like login) that phrase the error themselves. */
    readonly serverMessage: string = message,
  ) {
    super(message, status, code, ExitCode.Auth);
  }
}

/** 404: the message is the server's, e.g. `connection "pg-prod" does not exist`. */
export class NotFoundError extends ApiError {
  constructor(message: string, status: number, code: string) {
    super(message, status, code, ExitCode.NotFound);
  }
}
