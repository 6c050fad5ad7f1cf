import { Injectable } from '@nestjs/common';
import { fromBinary } from '@bufbuild/protobuf';
import { GrpcStatus, SessionRequestSchema } from '@airlock/proto';
import type { GrpcServerCall } from '@airlock/proto';
import { AgentAuthenticator } from '../agents/agent-authenticator.js';
import { AgentRegistry } from '../agents/agent-registry.js';
import { authenticateAgentCall } from './agent-call-auth.js';
import { SessionBroker } from './session-broker.js';
import { severCall } from './severed-calls.js';

/** Serves AgentService.Session: the agent dialling back with the stream for a session it was ordered to open. */
@Injectable()
export class AgentSessionHandler {
  constructor(
    private readonly authenticator: AgentAuthenticator,
    private readonly registry: AgentRegistry,
    private readonly broker: SessionBroker,
  ) {}

  readonly serve = async (call: GrpcServerCall): Promise<void> => {
    const agent = await authenticateAgentCall(this.authenticator, call);
    if (!agent) return;
    // Revoking the agent closes this stream (and the session it carries) wherever it is relayed.
    const untrack = this.registry.trackStream(agent.id, { close: (reason) => severCall(call, reason) });
    call.stream.once('close', untrack);
    const first = await call.reader.readOne().catch(() => undefined);
    const attach = first ? fromBinary(SessionRequestSchema, first).frame : undefined;
    if (attach?.case !== 'attach') return call.finish(GrpcStatus.INVALID_ARGUMENT, 'a session stream must start with attach');
    // From here the waiting tunnel or exec call owns this stream.
    if (!this.broker.attach(attach.value.sessionId, agent.id, call, Number(attach.value.receivedBytes))) {
      call.finish(GrpcStatus.NOT_FOUND, `no session ${attach.value.sessionId} is waiting for this agent`);
    }
  };
}
