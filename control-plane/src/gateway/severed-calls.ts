import http2 from 'node:http2';
import type { GrpcServerCall } from '@airlock/proto';

/** Why the control plane itself cut a call (an agent revoked, say), for whoever relays its peer. */
const reasons = new WeakMap<GrpcServerCall, string>();

/** Cuts `call` now, remembering why, so the relay can tell the other side the real reason. */
export function severCall(call: GrpcServerCall, reason: string): void {
  reasons.set(call, reason);
  if (!call.stream.destroyed) call.stream.close(http2.constants.NGHTTP2_CANCEL);
}

/** The reason `call` was severed by the control plane, or undefined when its peer went away by itself. */
export function severedReason(call: GrpcServerCall): string | undefined {
  return reasons.get(call);
}
