import { Injectable } from '@nestjs/common';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { EnrollRequestSchema, EnrollResponseSchema, GrpcStatus } from '@airlock/proto';
import type { GrpcServerCall } from '@airlock/proto';
import { AgentEnrollmentError } from '../agents/agent-enrollment.error.js';
import { AgentsService } from '../agents/agents.service.js';

/** Serves AgentService.Enroll: a join token, spent once, registers the public key the agent generated. */
@Injectable()
export class EnrollHandler {
  constructor(private readonly agents: AgentsService) {}

  readonly serve = async (call: GrpcServerCall): Promise<void> => {
    const first = await call.reader.readOne().catch(() => undefined);
    if (!first) return call.finish(GrpcStatus.INVALID_ARGUMENT, 'enrol needs a join token');
    const request = fromBinary(EnrollRequestSchema, first);
    const source = call.stream.session?.socket?.remoteAddress ?? 'unknown';
    try {
      const enrolled = await this.agents.enroll(request.joinToken, request.publicKey, { hostname: request.hostname, version: request.version }, source);
      const reply = create(EnrollResponseSchema, { agentId: enrolled.agentId, agentName: enrolled.agentName, audience: enrolled.audience });
      call.write(toBinary(EnrollResponseSchema, reply));
      call.finish(GrpcStatus.OK);
    } catch (error) {
      // Refusals are logged and audited by the service.
      if (error instanceof AgentEnrollmentError) {
        return call.finish(error.reason === 'invalid_key' ? GrpcStatus.INVALID_ARGUMENT : GrpcStatus.PERMISSION_DENIED, error.message);
      }
      throw error;
    }
  };
}
