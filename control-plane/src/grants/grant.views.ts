import { ApiProperty } from '@nestjs/swagger';
import { GRANT_STATES, type GrantEntity } from './grant.entity.js';

export class GrantView {
  @ApiProperty() id!: number;
  @ApiProperty({ example: 'user:alice' }) subject!: string;
  @ApiProperty() connection!: string;
  @ApiProperty({ description: 'The access review that was approved' }) reviewId!: number;
  @ApiProperty() policy!: string;
  @ApiProperty({ enum: GRANT_STATES, description: 'expired as soon as expiresAt has passed' }) state!: string;
  @ApiProperty({ type: String, format: 'date-time' }) startsAt!: string;
  @ApiProperty({ type: String, format: 'date-time' }) expiresAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) revokedAt!: string | null;
  @ApiProperty({ type: String, nullable: true }) revokedBy!: string | null;
}

export class GrantListView {
  @ApiProperty({ type: [GrantView] }) grants!: GrantView[];
}

/** `now` makes a grant past its expiry read as expired even before the sweep has recorded it. */
export function toGrantView(grant: GrantEntity, now: Date): GrantView {
  const state = grant.state === 'active' && grant.expiresAt.getTime() <= now.getTime() ? 'expired' : grant.state;
  return {
    id: grant.id,
    subject: grant.subject,
    connection: grant.connectionName,
    reviewId: grant.reviewId,
    policy: grant.policyName,
    state,
    startsAt: grant.startsAt.toISOString(),
    expiresAt: grant.expiresAt.toISOString(),
    revokedAt: grant.revokedAt?.toISOString() ?? null,
    revokedBy: grant.revokedBy,
  };
}
