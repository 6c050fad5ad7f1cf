import { Injectable } from '@nestjs/common';
import { GrpcCallError, GrpcStatus } from '@airlock/proto';
import type { GrpcServerCall } from '@airlock/proto';
import { AuditService } from '../audit/audit.service.js';
import { AuthenticationRefusedError, TooManyAttemptsError } from '../identity/auth-errors.js';
import { BearerAuthenticator } from '../identity/bearer-authenticator.js';
import type { Principal } from '../identity/principal.js';
import { mayConnect } from '../identity/roles.js';

/**
 * The gRPC counterpart of the REST guards, for the CLI's tunnels and exec: the same credentials
 * (session tokens, service-account keys, API tokens), the same refusal sentences, the same audit
 * and per-source limits. Auditors read; they open no sessions.
 */
@Injectable()
export class ClientAuthenticator {
  constructor(
    private readonly authenticator: BearerAuthenticator,
    private readonly audit: AuditService,
  ) {}

  async authenticate(call: GrpcServerCall): Promise<Principal> {
    // The peer's address only (no port), so refusals from one machine count as one source.
    const source = call.stream.session?.socket?.remoteAddress ?? 'unknown';
    let principal: Principal;
    try {
      principal = await this.authenticator.authenticate(call.bearerToken(), source);
    } catch (error) {
      if (error instanceof TooManyAttemptsError) throw new GrpcCallError(GrpcStatus.RESOURCE_EXHAUSTED, error.message);
      if (error instanceof AuthenticationRefusedError) {
        const message = error.reason === 'missing' ? 'no token: run airlock login' : `the control plane refused your token: ${error.message}`;
        throw new GrpcCallError(GrpcStatus.UNAUTHENTICATED, message);
      }
      throw error;
    }
    if (!mayConnect(principal)) {
      await this.audit.record({ actor: principal.subject, kind: 'auth.forbidden', target: `grpc/${call.path}`, details: { role: principal.role } });
      throw new GrpcCallError(GrpcStatus.PERMISSION_DENIED, `auditors read sessions, reviews and the audit log; they open no sessions (you are signed in as ${principal.subject})`);
    }
    return principal;
  }
}
