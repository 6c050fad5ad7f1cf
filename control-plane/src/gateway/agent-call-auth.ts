import { GrpcStatus } from '@airlock/proto';
import type { GrpcServerCall } from '@airlock/proto';
import { AgentAuthenticationError } from '../agents/agent-assertion.js';
import type { AgentAuthenticator } from '../agents/agent-authenticator.js';
import type { AgentEntity } from '../agents/agent.entity.js';

/**
 * The agent behind a Control or Session call, or null once the call has been refused: a revoked
 * agent gets PERMISSION_DENIED (final: it stops retrying), anything else UNAUTHENTICATED, each
 * with the sentence that says why.
 */
export async function authenticateAgentCall(authenticator: AgentAuthenticator, call: GrpcServerCall): Promise<AgentEntity | null> {
  try {
    return await authenticator.authenticate(call.bearerToken(), { source: call.stream.session?.socket?.remoteAddress ?? 'unknown', method: call.path });
  } catch (error) {
    if (!(error instanceof AgentAuthenticationError)) throw error;
    call.finish(error.reason === 'revoked' ? GrpcStatus.PERMISSION_DENIED : GrpcStatus.UNAUTHENTICATED, error.message);
    return null;
  }
}
