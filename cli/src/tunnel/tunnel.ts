import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ClientServicePaths, DataFrameDuplex, TunnelRequestSchema, TunnelResponseSchema } from '@airlock/proto';
import type { GrpcChannel } from '@airlock/proto';

export interface OpenTunnel {
  sessionId: string;
  /** The session's bytes: write what the local client sends, read what the target answers. */
  stream: DataFrameDuplex;
}

/** Opens one tunnel stream for one local connection; rejects with the control plane's GrpcCallError. */
export async function openTunnel(channel: GrpcChannel, connection: string, clientAddress: string): Promise<OpenTunnel> {
  const call = channel.open(ClientServicePaths.tunnel);
  call.stream.on('error', () => undefined); // reported through the call status
  call.write(toBinary(TunnelRequestSchema, create(TunnelRequestSchema, { frame: { case: 'open', value: { connection, clientAddress } } })));
  const first = fromBinary(TunnelResponseSchema, await call.readOrFail());
  if (first.frame.case !== 'opened') {
    call.cancel();
    throw new Error('the control plane did not open the tunnel');
  }
  const stream = new DataFrameDuplex(call.stream, call.stream, { pending: call.reader.decoder.takeRemainder() });
  return { sessionId: first.frame.value.sessionId, stream };
}
