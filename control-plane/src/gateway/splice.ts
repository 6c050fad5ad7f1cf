import http2 from 'node:http2';
import { encodeCloseFrame, ErrorCode, frameMessage, GrpcStatus } from '@airlock/proto';
import type { GrpcServerCall } from '@airlock/proto';
import { severedReason } from './severed-calls.js';

/** Once one side has closed, how long the other gets to follow before both calls are reset. */
export const CLOSE_GRACE_MS = 30_000;

export interface SpliceOutcome {
  /** Which side vanished without closing properly, if any. */
  abrupt?: 'client' | 'agent';
}

/**
 * Relays a client tunnel and an agent session byte for byte: both carry the same data and
 * close frames, so nothing is decoded on the hot path and HTTP/2 flow control (pipe) carries
 * backpressure end to end. Each side half-closes after its close frame; we then end the
 * opposite call, so no call outlives its session.
 */
export function splice(
  client: GrpcServerCall,
  clientPending: Buffer,
  agent: GrpcServerCall,
  agentPending: Buffer,
): Promise<SpliceOutcome> {
  client.sendHeaders();
  agent.sendHeaders();
  if (clientPending.length) agent.stream.write(clientPending);
  if (agentPending.length) client.stream.write(agentPending);
  client.stream.pipe(agent.stream, { end: false });
  agent.stream.pipe(client.stream, { end: false });
  return new Promise((resolve) => {
    let clientEnded = false;
    let agentEnded = false;
    let abrupt: SpliceOutcome['abrupt'];
    let graceTimer: NodeJS.Timeout | undefined;
    const maybeDone = () => {
      if (client.isOpen || agent.isOpen) return;
      clearTimeout(graceTimer);
      resolve({ abrupt });
    };
    // A peer that never finishes its side must not keep a call (and its window) alive forever.
    const startGrace = () => {
      graceTimer ??= setTimeout(() => {
        for (const call of [client, agent]) if (!call.stream.destroyed) call.stream.close(http2.constants.NGHTTP2_CANCEL);
      }, CLOSE_GRACE_MS);
      graceTimer.unref();
    };
    client.stream.once('end', () => {
      clientEnded = true;
      agent.finish(GrpcStatus.OK);
      startGrace();
    });
    agent.stream.once('end', () => {
      agentEnded = true;
      // A stream the control plane cut itself (the agent was revoked) ends too: say why, or the client would try to resume.
      const severed = severedReason(agent);
      if (severed) closeWithError(client, ErrorCode.AGENT_OFFLINE, severed);
      else client.finish(GrpcStatus.OK);
      startGrace();
    });
    client.stream.once('close', () => {
      if (!clientEnded) {
        abrupt ??= 'client';
        closeWithError(agent, ErrorCode.INTERNAL, 'the client went away');
      }
      setImmediate(maybeDone);
    });
    agent.stream.once('close', () => {
      if (!agentEnded) {
        abrupt ??= 'agent';
        closeWithError(client, ErrorCode.AGENT_OFFLINE, severedReason(agent) ?? 'the agent went away in the middle of the session');
      }
      setImmediate(maybeDone);
    });
  });
}

function closeWithError(call: GrpcServerCall, code: ErrorCode, message: string): void {
  if (!call.isOpen) return;
  call.stream.write(frameMessage(encodeCloseFrame({ code, message })));
  call.finish(GrpcStatus.OK);
}
