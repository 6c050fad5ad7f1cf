import { createHash } from 'node:crypto';
import { ApiProperty } from '@nestjs/swagger';
import { CONNECTION_TYPES, TLS_MODES } from './connection.entity.js';
import type { ConnectionDetails } from './connections.service.js';

export class ConnectionView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'pg-prod' }) name!: string;
  @ApiProperty({ enum: CONNECTION_TYPES }) type!: string;
  @ApiProperty({ description: 'Name of the agent that reaches the target' }) agent!: string;
  @ApiProperty({ description: 'Is that agent connected right now?' }) agentConnected!: boolean;
  @ApiProperty() host!: string;
  @ApiProperty() port!: number;
  @ApiProperty({ type: String, nullable: true }) database!: string | null;
  @ApiProperty({ type: String, nullable: true }) user!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Secret reference, e.g. env:PG_PASSWORD' }) secret!: string | null;
  @ApiProperty({ enum: TLS_MODES }) tlsMode!: string;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) tags!: Record<string, string>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) options!: Record<string, string>;
  @ApiProperty({
    type: [String],
    example: ['prod-postgres'],
    description: 'Names of the policies that cover this connection; none means only admins may use it, unrestricted',
  })
  policies!: string[];
  @ApiProperty({
    type: String, nullable: true, required: false, example: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA...',
    description: 'ssh connections only: the host key of the agent that serves it, which `ssh` through airlock sees (null until the agent has reported one)',
  })
  sshHostKey?: string | null;
  @ApiProperty({ type: String, nullable: true, required: false, example: 'SHA256:Yx0...', description: 'ssh connections only: SHA-256 fingerprint of sshHostKey, as ssh prints it' })
  sshHostKeyFingerprint?: string | null;
}

export class ConnectionListView {
  @ApiProperty({ type: [ConnectionView] }) connections!: ConnectionView[];
}

export function toConnectionView({ connection, agentName, agentConnected, policies, sshHostKey }: ConnectionDetails): ConnectionView {
  return {
    id: connection.id,
    name: connection.name,
    type: connection.type,
    agent: agentName,
    agentConnected,
    host: connection.host,
    port: connection.port,
    database: connection.database,
    user: connection.username,
    secret: connection.secretRef,
    tlsMode: connection.tlsMode,
    createdAt: connection.createdAt.toISOString(),
    tags: connection.tags ?? {},
    options: connection.options ?? {},
    policies,
    ...(connection.type === 'ssh' ? { sshHostKey: sshHostKey ?? null, sshHostKeyFingerprint: sshHostKey ? sshFingerprint(sshHostKey) : null } : {}),
  };
}

/** `SHA256:<unpadded base64>` of an OpenSSH public key line's blob, as `ssh` and `ssh-keygen -l` print it. */
export function sshFingerprint(publicKey: string): string | null {
  const blob = publicKey.trim().split(/\s+/)[1];
  if (!blob) return null;
  return `SHA256:${createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64').replace(/=+$/, '')}`;
}
