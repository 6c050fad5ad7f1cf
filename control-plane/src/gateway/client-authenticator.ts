import { Injectable } from '@nestjs/common';
import { GrpcCallError, GrpcStatus } from '@airlock/proto';
import type { GrpcServerCall } from '@airlock/proto';
import { IdentityService } from '../identity/identity.service.js';
import type { Principal } from '../identity/principal.js';

/** The gRPC counterpart of the REST bearer guard: same tokens, same refusal wording. */
@Injectable()
export class ClientAuthenticator {
  constructor(private readonly identity: IdentityService) {}

  async authenticate(call: GrpcServerCall): Promise<Principal> {
    const token = call.bearerToken();
    if (!token) throw new GrpcCallError(GrpcStatus.UNAUTHENTICATED, 'no token: run airlock login');
    // The peer's address only (no port), so refusals from one machine count as one source.
    const source = call.stream.session?.socket?.remoteAddress ?? 'unknown';
    const principal = await this.identity.authenticateBearer(token, source);
    if (!principal) throw new GrpcCallError(GrpcStatus.UNAUTHENTICATED, 'the control plane refused your token; run airlock login');
    return principal;
  }
}
