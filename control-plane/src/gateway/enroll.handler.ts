import { Inject, Injectable } from '@nestjs/common';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { EnrollRequestSchema, EnrollResponseSchema, GrpcStatus } from '@airlock/proto';
import type { GrpcServerCall } from '@airlock/proto';
import { LOGGER, type StructuredLogger } from '../common/logger.js';
import { AgentEnrollmentError } from '../agents/agent-enrollment.error.js';
import { AgentsService } from '../agents/agents.service.js';

/** Serves AgentService.Enroll: a join token, spent once, for the agent's own key. */
@Injectable()
export class EnrollHandler {
  constructor(private readonly agents: AgentsService, @Inject(LOGGER) private readonly logger: StructuredLogger) {}

  readonly serve = async (call: GrpcServerCall): Promise<void> => {
    const first = await call.reader.readOne().catch(() => undefined);
    if (!first) return call.finish(GrpcStatus.INVALID_ARGUMENT, 'enrol needs a join token');
    const request = fromBinary(EnrollRequestSchema, first);
    try {
      const enrolled = await this.agents.enroll(request.joinToken, { hostname: request.hostname, version: request.version });
      call.write(toBinary(EnrollResponseSchema, create(EnrollResponseSchema, enrolled)));
      call.finish(GrpcStatus.OK);
    } catch (error) {
      if (error instanceof AgentEnrollmentError) {
        this.logger.warn('enrolment refused', { peer: call.peerAddress(), reason: error.message });
        return call.finish(GrpcStatus.PERMISSION_DENIED, error.message);
      }
      throw error;
    }
  };
}
