/**
 * grpc-js service definitions for airlock.v1, serialized with protobuf-es. The paths here are
 * the contract; the control plane serves them on node:http2 (see wire/h2-server.ts) and any
 * gRPC client, grpc-js included, can call them.
 */
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import {
  ControlRequestSchema,
  ControlResponseSchema,
  EnrollRequestSchema,
  EnrollResponseSchema,
  SessionRequestSchema,
  SessionResponseSchema,
} from './gen/airlock/v1/agent_pb.js';
import {
  ExecRequestSchema,
  ExecResponseSchema,
  TunnelRequestSchema,
  TunnelResponseSchema,
} from './gen/airlock/v1/client_pb.js';

export const AgentServicePaths = {
  enroll: '/airlock.v1.AgentService/Enroll',
  control: '/airlock.v1.AgentService/Control',
  session: '/airlock.v1.AgentService/Session',
} as const;

export const ClientServicePaths = {
  tunnel: '/airlock.v1.ClientService/Tunnel',
  exec: '/airlock.v1.ClientService/Exec',
} as const;

function method<I extends DescMessage, O extends DescMessage>(
  path: string,
  input: I,
  output: O,
  requestStream: boolean,
  responseStream: boolean,
): MethodDefinition<MessageShape<I>, MessageShape<O>> {
  return {
    path,
    requestStream,
    responseStream,
    requestSerialize: (message) => Buffer.from(toBinary(input, message)),
    requestDeserialize: (bytes) => fromBinary(input, bytes),
    responseSerialize: (message) => Buffer.from(toBinary(output, message)),
    responseDeserialize: (bytes) => fromBinary(output, bytes),
  };
}

export const agentServiceDefinition = {
  enroll: method(AgentServicePaths.enroll, EnrollRequestSchema, EnrollResponseSchema, false, false),
  control: method(AgentServicePaths.control, ControlRequestSchema, ControlResponseSchema, true, true),
  session: method(AgentServicePaths.session, SessionRequestSchema, SessionResponseSchema, true, true),
} satisfies ServiceDefinition;

export const clientServiceDefinition = {
  tunnel: method(ClientServicePaths.tunnel, TunnelRequestSchema, TunnelResponseSchema, true, true),
  exec: method(ClientServicePaths.exec, ExecRequestSchema, ExecResponseSchema, false, true),
} satisfies ServiceDefinition;
