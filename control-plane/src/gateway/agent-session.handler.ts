import { Injectable } from '@nestjs/common';
import { fromBinary } from '@bufbuild/protobuf';
import { GrpcStatus, SessionRequestSchema } from '@airlock/proto';
import type { GrpcServerCall } from '@airlock/proto';
import { AgentsService } from '../agents/agents.service.js';
import { SessionBroker } from './session-broker.js';

/** Serves AgentService.Session: the agent dialling back with the stream for a session it was ordered to open. */
@Injectable()
export class AgentSessionHandler {
  constructor(private readonly agents: AgentsService, private readonly broker: SessionBroker) {}

  readonly serve = async (call: GrpcServerCall): Promise<void> => {
    const key = call.bearerToken();
    const agent = key ? await this.agents.authenticateKey(key) : null;
    if (!agent) return call.finish(GrpcStatus.UNAUTHENTICATED, 'unknown agent key');
    const first = await call.reader.readOne().catch(() => undefined);
    const attach = first ? fromBinary(SessionRequestSchema, first).frame : undefined;
    if (attach?.case !== 'attach') return call.finish(GrpcStatus.INVALID_ARGUMENT, 'a session stream must start with attach');
    // From here the waiting tunnel or exec call owns this stream.
    if (!this.broker.attach(attach.value.sessionId, agent.id, call, Number(attach.value.receivedBytes))) {
      call.finish(GrpcStatus.NOT_FOUND, `no session ${attach.value.sessionId} is waiting for this agent`);
    }
  };
}
