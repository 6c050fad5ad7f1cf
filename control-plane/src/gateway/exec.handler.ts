import { Inject, Injectable } from '@nestjs/common';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ErrorCode, ExecRequestSchema, ExecResponseSchema, GrpcCallError, GrpcStatus, SessionRequestSchema } from '@airlock/proto';
import type { ExecOutcome, GrpcServerCall } from '@airlock/proto';
import { LOGGER, type StructuredLogger } from '../common/logger.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { ClientAuthenticator } from './client-authenticator.js';
import { SessionOpener } from './session-opener.js';
import { severedReason } from './severed-calls.js';

export const DEFAULT_EXEC_MAX_ROWS = 10_000;

const AGENT_ERROR_STATUS: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.TARGET_UNREACHABLE]: GrpcStatus.UNAVAILABLE,
  [ErrorCode.KILLED]: GrpcStatus.CANCELLED,
  [ErrorCode.TIMEOUT]: GrpcStatus.DEADLINE_EXCEEDED,
};

/** Serves ClientService.Exec: one statement run by the agent, results returned in one reply. */
@Injectable()
export class ExecHandler {
  constructor(
    private readonly auth: ClientAuthenticator,
    private readonly opener: SessionOpener,
    private readonly sessions: SessionsService,
    private readonly metrics: MetricsService,
    @Inject(LOGGER) private readonly logger: StructuredLogger,
  ) {}

  readonly serve = async (call: GrpcServerCall): Promise<void> => {
    try {
      const principal = await this.auth.authenticate(call);
      const first = await call.reader.readOne().catch(() => undefined);
      if (!first) throw new GrpcCallError(GrpcStatus.INVALID_ARGUMENT, 'exec needs a request');
      const request = fromBinary(ExecRequestSchema, first);
      if (!request.sql.trim()) throw new GrpcCallError(GrpcStatus.INVALID_ARGUMENT, 'nothing to run: pass a statement with -c');
      const opened = await this.opener.open({
        connectionName: request.connection,
        principal,
        mode: 'exec',
        clientAddress: call.peerAddress(),
        execSql: request.sql,
        execMaxRows: request.maxRows || DEFAULT_EXEC_MAX_ROWS,
      });
      this.metrics.sessionsActive.inc({ mode: 'exec' });
      // The caller cancelling (Ctrl-C) ends the agent's call too, which withdraws a held statement.
      call.stream.once('close', () => opened.agentCall.finish(GrpcStatus.CANCELLED, 'the caller cancelled'));
      const progress = (line: string) =>
        call.write(toBinary(ExecResponseSchema, create(ExecResponseSchema, { sessionId: opened.session.id, progress: line })));
      const outcome = await this.readOutcome(opened.agentCall, opened.session.id, progress).finally(() => {
        opened.agentCall.finish(GrpcStatus.OK);
        this.metrics.sessionsActive.dec({ mode: 'exec' });
      });
      this.metrics.sessionsTotal.inc({ mode: 'exec', outcome: 'closed' });
      call.write(toBinary(ExecResponseSchema, create(ExecResponseSchema, { sessionId: opened.session.id, outcome })));
      call.finish(GrpcStatus.OK);
    } catch (error) {
      this.metrics.sessionsTotal.inc({ mode: 'exec', outcome: 'failed' });
      if (error instanceof GrpcCallError) return call.finish(error.code, error.message);
      this.logger.error('exec failed', { error: (error as Error).message });
      call.finish(GrpcStatus.INTERNAL, 'internal error in the control plane');
    }
  };

  private async readOutcome(agentCall: GrpcServerCall, sessionId: string, progress: (line: string) => void): Promise<ExecOutcome> {
    agentCall.sendHeaders();
    let outcome: ExecOutcome | undefined;
    for await (const payload of agentCall.reader.messages()) {
      const frame = fromBinary(SessionRequestSchema, payload).frame;
      if (frame.case === 'execOutcome') outcome = frame.value;
      if (frame.case === 'execProgress') progress(frame.value);
      if (frame.case !== 'close') continue;
      const failure = frame.value.error;
      if (failure) {
        await this.sessions.fail(sessionId, ErrorCode[failure.code]?.toLowerCase() ?? 'error', failure.message);
        throw new GrpcCallError(AGENT_ERROR_STATUS[failure.code] ?? GrpcStatus.FAILED_PRECONDITION, failure.message);
      }
      break;
    }
    if (!outcome) {
      const reason = severedReason(agentCall) ?? 'the agent went away before returning a result';
      await this.sessions.fail(sessionId, 'agent_disconnected', reason);
      throw new GrpcCallError(GrpcStatus.UNAVAILABLE, reason);
    }
    await this.sessions.end(sessionId, { endedAt: new Date(), bytesFromClient: 0, bytesToClient: 0 });
    return outcome;
  }
}
