import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ACCESS_MODES, REVIEW_MODES, UNKNOWN_FUNCTION_MODES, VERDICTS } from './policy-document.js';
import type { PolicyVersionEntity } from './policy-version.entity.js';
import type { PolicyEntity } from './policy.entity.js';

export class AppliedPolicyView {
  @ApiProperty({ example: 'prod-postgres' }) name!: string;
  @ApiProperty({ example: 3, description: 'The current version; unchanged when the document was identical' }) version!: number;
  @ApiProperty({ description: 'false when the document equals the current version (nothing was written)' }) changed!: boolean;
  @ApiProperty({ enum: ['created', 'configured', 'unchanged'] }) outcome!: string;
}

export class PolicySummaryView {
  @ApiProperty({ example: 'prod-postgres' }) name!: string;
  @ApiProperty() version!: number;
  @ApiProperty({ type: [String], example: ['group:engineers'] }) subjects!: string[];
  @ApiProperty({ type: [String], example: ['prod-*'] }) connections!: string[];
  @ApiProperty({ enum: ACCESS_MODES }) access!: string;
  @ApiProperty({ enum: VERDICTS }) default!: string;
  @ApiProperty({ enum: REVIEW_MODES }) reviewMode!: string;
  @ApiProperty({ enum: UNKNOWN_FUNCTION_MODES, description: 'strictest: calls to unknown functions make a statement unknowable' }) unknownFunctions!: string;
  @ApiProperty({ description: 'How many command rules' }) rules!: number;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;
  @ApiProperty() createdBy!: string;
  @ApiProperty({ type: String, format: 'date-time' }) updatedAt!: string;
  @ApiProperty() updatedBy!: string;
}

export class PolicyDetailView extends PolicySummaryView {
  @ApiProperty({ description: 'The document as applied, comments included' }) document!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The normalized spec: defaults filled in, durations in seconds' })
  spec!: Record<string, unknown>;
}

export class PolicyListView {
  @ApiProperty({ type: [PolicySummaryView] }) policies!: PolicySummaryView[];
}

export class PolicyVersionView {
  @ApiProperty() version!: number;
  @ApiProperty({ type: String, format: 'date-time' }) appliedAt!: string;
  @ApiProperty() appliedBy!: string;
  @ApiProperty() document!: string;
}

export class PolicyVersionsView {
  @ApiProperty() name!: string;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, description: 'Set when the policy was deleted' })
  deletedAt!: string | null;
  @ApiProperty({ type: [PolicyVersionView], description: 'Newest first' }) versions!: PolicyVersionView[];
}

export function toPolicySummaryView(p: PolicyEntity): PolicySummaryView {
  return {
    name: p.name,
    version: p.version,
    subjects: p.spec.subjects,
    connections: p.spec.connections,
    access: p.spec.access,
    default: p.spec.default,
    reviewMode: p.spec.reviewMode,
    unknownFunctions: p.spec.unknownFunctions ?? 'trust',
    rules: p.spec.rules.length,
    createdAt: p.createdAt.toISOString(),
    createdBy: p.createdBy,
    updatedAt: p.updatedAt.toISOString(),
    updatedBy: p.updatedBy,
  };
}

export function toPolicyDetailView(p: PolicyEntity): PolicyDetailView {
  return { ...toPolicySummaryView(p), document: p.document, spec: p.spec as unknown as Record<string, unknown> };
}

export function toPolicyVersionView(v: PolicyVersionEntity): PolicyVersionView {
  return { version: v.version, appliedAt: v.appliedAt.toISOString(), appliedBy: v.appliedBy, document: v.document };
}
