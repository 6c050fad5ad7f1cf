import { Inject, Injectable } from '@nestjs/common';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { GrpcCallError, GrpcStatus, TunnelRequestSchema, TunnelResponseSchema } from '@airlock/proto';
import type { GrpcServerCall } from '@airlock/proto';
import { LOGGER, type StructuredLogger } from '../common/logger.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { ClientAuthenticator } from './client-authenticator.js';
import { SessionOpener } from './session-opener.js';
import { SessionResumer } from './session-resumer.js';
import { severedReason } from './severed-calls.js';
import { splice } from './splice.js';
import { WIRE_CONNECTION_TYPES } from './wire-connection-types.js';

/** Serves ClientService.Tunnel: one local TCP connection of the CLI, spliced to an agent session. */
@Injectable()
export class TunnelHandler {
  constructor(
    private readonly auth: ClientAuthenticator,
    private readonly opener: SessionOpener,
    private readonly resumer: SessionResumer,
    private readonly sessions: SessionsService,
    private readonly metrics: MetricsService,
    @Inject(LOGGER) private readonly logger: StructuredLogger,
  ) {}

  readonly serve = async (call: GrpcServerCall): Promise<void> => {
    try {
      const principal = await this.auth.authenticate(call);
      const first = await call.reader.readOne().catch(() => undefined);
      const open = first ? fromBinary(TunnelRequestSchema, first).frame : undefined;
      if (open?.case !== 'open') throw new GrpcCallError(GrpcStatus.INVALID_ARGUMENT, 'a tunnel must start with open');
      const resumed = open.value.resumeSessionId
        ? await this.resumer.resume({ sessionId: open.value.resumeSessionId, principal, clientReceivedBytes: Number(open.value.receivedBytes) })
        : undefined;
      const opened = resumed ?? await this.opener.open({
            connectionName: open.value.connection,
            principal,
            mode: 'tunnel',
            clientAddress: open.value.clientAddress || call.peerAddress(),
          });
      const peerReceivedBytes = BigInt(resumed?.agentReceivedBytes ?? 0);
      call.write(
        toBinary(
          TunnelResponseSchema,
          create(TunnelResponseSchema, {
            frame: {
              case: 'opened',
              value: { sessionId: opened.session.id, type: WIRE_CONNECTION_TYPES[opened.connection.type], peerReceivedBytes },
            },
          }),
        ),
      );
      this.metrics.sessionsActive.inc({ mode: 'tunnel' });
      const outcome = await splice(call, call.reader.decoder.takeRemainder(), opened.agentCall, opened.agentCall.reader.decoder.takeRemainder()).finally(() =>
        this.metrics.sessionsActive.dec({ mode: 'tunnel' }),
      );
      this.metrics.sessionsTotal.inc({ mode: 'tunnel', outcome: outcome.abrupt ? `${outcome.abrupt}_vanished` : 'closed' });
      if (outcome.abrupt === 'agent') {
        await this.sessions
          .fail(opened.session.id, 'agent_disconnected', severedReason(opened.agentCall) ?? 'the agent went away in the middle of the session')
          .catch(() => undefined); // already ended by the agent's own report
      }
    } catch (error) {
      this.metrics.sessionsTotal.inc({ mode: 'tunnel', outcome: 'refused' });
      if (error instanceof GrpcCallError) return call.finish(error.code, error.message);
      this.logger.error('tunnel failed', { error: (error as Error).message });
      call.finish(GrpcStatus.INTERNAL, 'internal error in the control plane');
    }
  };
}
