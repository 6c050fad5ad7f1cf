import { GrpcCallError, GrpcChannel, GrpcStatus } from '@airlock/proto';
import { AuthError, CliError, ControlPlaneUnreachableError, ExitCode, NotFoundError } from '../lib/errors.js';
import type { Profile } from '../lib/profile.js';
import { readCaFile } from '../lib/tls-trust.js';

export function channelFor(profile: Profile): GrpcChannel {
  const ca = profile.caFile ? readCaFile(profile.caFile) : undefined;
  return new GrpcChannel(profile.grpcUrl ?? profile.url, { token: () => profile.token, ca });
}

const NETWORK_FAILURE = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ECONNRESET|timed out connecting|TLS certificate|does not answer with TLS/;

/** Turns a gRPC failure into the CLI's one-line error with the right exit code. */
export function cliErrorFromGrpc(error: unknown, url: string): CliError {
  if (!(error instanceof GrpcCallError)) {
    const message = error instanceof Error ? error.message : String(error);
    return NETWORK_FAILURE.test(message) ? new ControlPlaneUnreachableError(url, message) : new CliError(message);
  }
  switch (error.code) {
    case GrpcStatus.UNAUTHENTICATED:
      return new AuthError(error.message, 401, 'unauthenticated');
    case GrpcStatus.PERMISSION_DENIED:
      return new AuthError(error.message, 403, 'forbidden');
    case GrpcStatus.NOT_FOUND:
      return new NotFoundError(error.message, 404, 'not_found');
    case GrpcStatus.UNAVAILABLE:
      return NETWORK_FAILURE.test(error.message)
        ? new ControlPlaneUnreachableError(url, error.message)
        : new CliError(error.message, ExitCode.Unreachable);
    default:
      return new CliError(error.message);
  }
}
