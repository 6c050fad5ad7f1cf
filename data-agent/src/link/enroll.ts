import { generateKeyPairSync } from 'node:crypto';
import { hostname } from 'node:os';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { AgentServicePaths, EnrollRequestSchema, EnrollResponseSchema, GrpcChannel } from '@airlock/proto';
import { type AgentIdentity, savePrivateKey } from '../credentials.js';
import { AGENT_VERSION } from '../version.js';

/**
 * Creates the agent's key pair, keeps the private key in `stateDir` (mode 0600), and spends the
 * one-time join token to register the public key. Nothing secret goes to the control plane.
 */
export async function enrollAgent(url: string, joinToken: string, stateDir: string, caPem?: string): Promise<AgentIdentity> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  savePrivateKey(stateDir, privateKey);
  const channel = new GrpcChannel(url, { ca: caPem });
  try {
    const request = create(EnrollRequestSchema, {
      joinToken,
      hostname: hostname(),
      version: AGENT_VERSION,
      publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    });
    const reply = fromBinary(EnrollResponseSchema, await channel.unary(AgentServicePaths.enroll, toBinary(EnrollRequestSchema, request)));
    if (!reply.audience) throw new Error('the control plane did not name itself (no audience): is it older than this agent?');
    return { credentials: { url, agentId: reply.agentId, agentName: reply.agentName, audience: reply.audience }, privateKey };
  } finally {
    channel.close();
  }
}
