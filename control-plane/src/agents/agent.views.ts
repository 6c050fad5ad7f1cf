import { ApiProperty } from '@nestjs/swagger';
import type { AgentEntity } from './agent.entity.js';

export class AgentView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'eu-west-db' }) name!: string;
  @ApiProperty({ description: 'Has the agent spent its join token?' }) enrolled!: boolean;
  @ApiProperty({ description: 'Does it hold a control stream to this control plane right now?' }) connected!: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) connectedAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastSeenAt!: string | null;
  @ApiProperty({ type: String, nullable: true }) hostname!: string | null;
  @ApiProperty({ type: String, nullable: true }) version!: string | null;
  @ApiProperty({ type: String, nullable: true, description: "SHA-256 fingerprint of the agent's public key (the private key never leaves the agent)", example: 'SHA256:3fZk81Qa…' })
  keyFingerprint!: string | null;
  @ApiProperty({ description: 'Revoked agents are refused for good' }) revoked!: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) revokedAt!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'user:alice' }) revokedBy!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) enrolledAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) joinTokenExpiresAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;
}

export class AgentListView {
  @ApiProperty({ type: [AgentView] }) agents!: AgentView[];
}

export class CreatedAgentView {
  @ApiProperty({ type: AgentView }) agent!: AgentView;
  @ApiProperty({ description: 'One-time join token, shown only in this response', example: 'alk_join_…' }) joinToken!: string;
  @ApiProperty({ type: String, format: 'date-time' }) joinTokenExpiresAt!: string;
  @ApiProperty({ description: 'The shell line that starts the agent', example: 'airlock-agent --url http://127.0.0.1:7070 --join-token alk_join_…' })
  command!: string;
}

export function toAgentView(agent: AgentEntity, connectedAt: Date | null): AgentView {
  const enrolled = agent.enrolledAt !== null;
  return {
    id: agent.id,
    name: agent.name,
    enrolled,
    connected: connectedAt !== null,
    connectedAt: iso(connectedAt),
    lastSeenAt: iso(agent.lastSeenAt),
    hostname: agent.hostname,
    version: agent.version,
    keyFingerprint: agent.keyFingerprint,
    revoked: agent.revokedAt !== null,
    revokedAt: iso(agent.revokedAt),
    revokedBy: agent.revokedBy,
    enrolledAt: iso(agent.enrolledAt),
    joinTokenExpiresAt: enrolled ? null : iso(agent.joinTokenExpiresAt),
    createdAt: agent.createdAt.toISOString(),
  };
}

export function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}
