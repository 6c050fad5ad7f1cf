import { hostname } from 'node:os';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { AgentServicePaths, EnrollRequestSchema, EnrollResponseSchema, GrpcChannel } from '@airlock/proto';
import type { AgentCredentials } from '../credentials.js';
import { AGENT_VERSION } from '../version.js';

/** Trades the one-time join token for the agent's own key. */
export async function enrollAgent(url: string, joinToken: string, caPem?: string): Promise<AgentCredentials> {
  const channel = new GrpcChannel(url, { ca: caPem });
  try {
    const request = create(EnrollRequestSchema, { joinToken, hostname: hostname(), version: AGENT_VERSION });
    const reply = fromBinary(EnrollResponseSchema, await channel.unary(AgentServicePaths.enroll, toBinary(EnrollRequestSchema, request)));
    return { url, agentId: reply.agentId, agentName: reply.agentName, agentKey: reply.agentKey };
  } finally {
    channel.close();
  }
}
