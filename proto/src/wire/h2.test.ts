import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecRequestSchema, ExecResponseSchema, TunnelRequestSchema, TunnelResponseSchema } from '../gen/airlock/v1/client_pb.js';
import type { ExecRequest, ExecResponse, TunnelRequest, TunnelResponse } from '../gen/airlock/v1/client_pb.js';
import { ClientServicePaths, clientServiceDefinition } from '../services.js';
import { ResumableStream } from './resumable-stream.js';
import { GrpcChannel } from './h2-client.js';
import { GrpcRouter } from './h2-server.js';
import { GrpcCallError, GrpcStatus } from './grpc-status.js';

/** A real HTTP/2 server on loopback: Exec answers, Tunnel echoes data frames upper-cased. */
let server: http2.Http2Server;
let url: string;

beforeAll(async () => {
  const router = new GrpcRouter()
    .route(ClientServicePaths.exec, async (call) => {
      if (call.bearerToken() !== 'good') return call.finish(GrpcStatus.UNAUTHENTICATED, 'bad token: run airlock login');
      const request = fromBinary(ExecRequestSchema, (await call.reader.readOne())!);
      call.write(toBinary(ExecResponseSchema, create(ExecResponseSchema, { sessionId: `ran ${request.sql}` })));
      call.finish();
    })
    .route(ClientServicePaths.tunnel, async (call) => {
      const first = fromBinary(TunnelRequestSchema, (await call.reader.readOne())!);
      if (first.frame.case !== 'open') return call.finish(GrpcStatus.INVALID_ARGUMENT, 'open first');
      call.write(toBinary(TunnelResponseSchema, create(TunnelResponseSchema, { frame: { case: 'opened', value: { sessionId: 's1' } } })));
      for await (const payload of call.reader.messages()) {
        const frame = fromBinary(TunnelRequestSchema, payload).frame;
        if (frame.case === 'data') {
          call.write(toBinary(TunnelResponseSchema, create(TunnelResponseSchema, { frame: { case: 'data', value: Buffer.from(Buffer.from(frame.value).toString().toUpperCase()) } })));
        } else if (frame.case === 'close') {
          call.write(toBinary(TunnelResponseSchema, create(TunnelResponseSchema, { frame: { case: 'close', value: {} } })));
        }
      }
      call.finish();
    });
  server = http2.createServer();
  server.on('stream', router.handleStream);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('GrpcRouter on node:http2', () => {
  it('answers grpc-js clients built from our service definitions (wire compatibility)', async () => {
    const Client = grpc.makeGenericClientConstructor(clientServiceDefinition, 'ClientService');
    const client = new Client(url.replace('http://', ''), grpc.credentials.createInsecure()) as unknown as {
      exec(req: ExecRequest, md: grpc.Metadata): grpc.ClientReadableStream<ExecResponse>;
      tunnel(md: grpc.Metadata): grpc.ClientDuplexStream<TunnelRequest, TunnelResponse>;
      close(): void;
    };
    const metadata = new grpc.Metadata();
    metadata.set('authorization', 'Bearer good');
    const replies: ExecResponse[] = [];
    const stream = client.exec(create(ExecRequestSchema, { sql: 'select 1' }), metadata);
    stream.on('data', (m: ExecResponse) => replies.push(m));
    await new Promise((resolve, reject) => {
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    expect(replies.map((r) => r.sessionId)).toEqual(['ran select 1']);

    const bad = new grpc.Metadata();
    bad.set('authorization', 'Bearer nope');
    const error = await new Promise<grpc.ServiceError>((resolve) => client.exec(create(ExecRequestSchema, {}), bad).on('error', resolve));
    expect(error.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(error.details).toBe('bad token: run airlock login');

    const tunnel = client.tunnel(new grpc.Metadata());
    const received: TunnelResponse[] = [];
    tunnel.on('data', (m: TunnelResponse) => received.push(m));
    tunnel.write(create(TunnelRequestSchema, { frame: { case: 'open', value: { connection: 'demo' } } }));
    tunnel.write(create(TunnelRequestSchema, { frame: { case: 'data', value: Buffer.from('hi') } }));
    tunnel.end();
    await new Promise((resolve) => tunnel.on('status', resolve));
    expect(received.map((m) => m.frame.case)).toEqual(['opened', 'data']);
    expect(Buffer.from(received[1]!.frame.value as Uint8Array).toString()).toBe('HI');
    client.close();
  });

  it('carries a byte stream through a ResumableStream with explicit closes', async () => {
    const channel = new GrpcChannel(url);
    const call = channel.open(ClientServicePaths.tunnel);
    call.write(toBinary(TunnelRequestSchema, create(TunnelRequestSchema, { frame: { case: 'open', value: { connection: 'demo' } } })));
    const opened = fromBinary(TunnelResponseSchema, await call.readOrFail());
    expect(opened.frame.case).toBe('opened');
    const duplex = new ResumableStream({ source: call.stream, sink: call.stream, pending: call.reader.decoder.takeRemainder() });
    const chunks: Buffer[] = [];
    duplex.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise((resolve) => duplex.once('end', resolve));
    duplex.write('abc');
    duplex.write(Buffer.alloc(200_000, 'x'));
    duplex.end();
    await ended;
    const text = Buffer.concat(chunks).toString();
    expect(text.slice(0, 3)).toBe('ABC');
    expect(text.length).toBe(200_003);
    expect(duplex.peerClose).toEqual({});
    expect((await call.status).code).toBe(GrpcStatus.OK);
    channel.close();
  });

  it('reports unknown methods and unreachable servers as call errors', async () => {
    const channel = new GrpcChannel(url);
    await expect(channel.unary('/airlock.v1.ClientService/Nope', new Uint8Array())).rejects.toMatchObject({
      code: GrpcStatus.UNIMPLEMENTED,
    });
    channel.close();
    const dead = new GrpcChannel('http://127.0.0.1:1');
    const failure = await dead.unary(ClientServicePaths.exec, new Uint8Array()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(GrpcCallError);
    expect((failure as GrpcCallError).message).toMatch(/ECONNREFUSED/);
    dead.close();
  });
});
