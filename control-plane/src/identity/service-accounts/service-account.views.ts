import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ROLES } from '../roles.js';
import type { ServiceAccountEntity } from './service-account.entity.js';

export class ServiceAccountView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'nightly-ci' }) name!: string;
  @ApiProperty({ example: 'serviceaccount:nightly-ci', description: 'How policies, sessions and the audit log name it' }) subject!: string;
  @ApiProperty({ enum: ROLES }) role!: string;
  @ApiProperty({ type: [String], example: ['ci'] }) groups!: string[];
  @ApiPropertyOptional({ type: String, nullable: true }) description!: string | null;
  @ApiProperty({ example: 'alk_sa_3fZk81Qa', description: 'The visible start of the key; the rest is never stored' }) keyPrefix!: string;
  @ApiProperty({ enum: ['active', 'expired', 'revoked'] }) state!: 'active' | 'expired' | 'revoked';
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) expiresAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastUsedAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;
  @ApiProperty({ example: 'user:ada' }) createdBy!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) revokedAt!: string | null;
  @ApiProperty({ type: String, nullable: true }) revokedBy!: string | null;
}

export class CreatedServiceAccountView {
  @ApiProperty({ type: ServiceAccountView }) serviceAccount!: ServiceAccountView;
  @ApiProperty({ description: 'The API key: shown only this once; the control plane keeps only its hash', example: 'alk_sa_…' }) key!: string;
}

export class ServiceAccountListView {
  @ApiProperty({ type: [ServiceAccountView] }) serviceAccounts!: ServiceAccountView[];
}

export function toServiceAccountView(account: ServiceAccountEntity, now: Date): ServiceAccountView {
  const state = account.revokedAt ? 'revoked' : account.expiresAt && account.expiresAt.getTime() <= now.getTime() ? 'expired' : 'active';
  return {
    id: account.id,
    name: account.name,
    subject: `serviceaccount:${account.name}`,
    role: account.role,
    groups: account.groups,
    description: account.description,
    keyPrefix: account.keyPrefix,
    state,
    expiresAt: account.expiresAt?.toISOString() ?? null,
    lastUsedAt: account.lastUsedAt?.toISOString() ?? null,
    createdAt: account.createdAt.toISOString(),
    createdBy: account.createdBy,
    revokedAt: account.revokedAt?.toISOString() ?? null,
    revokedBy: account.revokedBy,
  };
}
