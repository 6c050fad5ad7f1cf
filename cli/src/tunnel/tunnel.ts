import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ClientServicePaths, ResumableStream, TunnelRequestSchema, TunnelResponseSchema } from '@airlock/proto';
import type { GrpcChannel, TunnelOpenSchema } from '@airlock/proto';
import type { MessageInitShape } from '@bufbuild/protobuf';

export interface OpenTunnel {
  sessionId: string;
  /** The session's bytes: write what the local client sends, read what the target answers. */
  stream: ResumableStream;
}

/** Opens one tunnel call; rejects with the control plane's GrpcCallError. */
async function openCall(channel: GrpcChannel, open: MessageInitShape<typeof TunnelOpenSchema>) {
  const call = channel.open(ClientServicePaths.tunnel);
  call.stream.on('error', () => undefined); // reported through the call status
  call.write(toBinary(TunnelRequestSchema, create(TunnelRequestSchema, { frame: { case: 'open', value: open } })));
  const first = fromBinary(TunnelResponseSchema, await call.readOrFail());
  if (first.frame.case !== 'opened') {
    call.cancel();
    throw new Error('the control plane did not open the tunnel');
  }
  return { call, opened: first.frame.value, transport: { source: call.stream, sink: call.stream, pending: call.reader.decoder.takeRemainder() } };
}

/** One tunnel stream for one local connection. */
export async function openTunnel(channel: GrpcChannel, connection: string, clientAddress: string): Promise<OpenTunnel> {
  const { opened, transport } = await openCall(channel, { connection, clientAddress });
  return { sessionId: opened.sessionId, stream: new ResumableStream(transport) };
}

/** Re-attaches a cut tunnel (the control plane restarted) to its live session on the agent. */
export async function resumeTunnel(channel: GrpcChannel, connection: string, tunnel: OpenTunnel): Promise<void> {
  const { opened, transport } = await openCall(channel, {
    connection,
    resumeSessionId: tunnel.sessionId,
    receivedBytes: BigInt(tunnel.stream.receivedBytes),
  });
  tunnel.stream.attach(transport, Number(opened.peerReceivedBytes));
}
