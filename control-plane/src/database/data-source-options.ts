import { mkdirSync } from 'node:fs';
import type { DataSourceOptions } from 'typeorm';
import { PGliteDriver } from 'typeorm-pglite';
import type { DatabaseConfig } from '../config/config.js';
import { ApiTokenEntity } from '../identity/api-token.entity.js';
import { AgentEntity } from '../agents/agent.entity.js';
import { ConnectionEntity } from '../connections/connection.entity.js';
import { SessionEntity } from '../sessions/session.entity.js';
import { SessionEventEntity } from '../sessions/session-event.entity.js';
import { SessionRecordingEntity } from '../sessions/session-recording.entity.js';
import { InitialSchema1764057600000 } from './migrations/1764057600000-initial-schema.js';
import { UsersPoliciesAudit1764144000000 } from './migrations/1764144000000-users-policies-audit.js';
import { UserEntity } from '../identity/user.entity.js';
import { PolicyEntity } from '../policies/policy.entity.js';
import { PolicyVersionEntity } from '../policies/policy-version.entity.js';
import { AuditEventEntity } from '../audit/audit-event.entity.js';
import { ReviewDecisionEntity, ReviewEntity, StatementApprovalEntity } from '../reviews/review.entity.js';
import { Reviews1764200000000 } from './migrations/1764200000000-reviews.js';
import { StatementVerdicts1764200000001 } from './migrations/1764200000001-statement-verdicts.js';
import { WebhookDeliveryEntity } from '../notifications/webhook-delivery.entity.js';
import { WebhookDeliveries1764300000000 } from './migrations/1764300000000-webhook-deliveries.js';
import { GrantEntity } from '../grants/grant.entity.js';
import { AccessReviewsGrants1764300000001 } from './migrations/1764300000001-access-reviews-grants.js';
import { AuditHashChain1764400000000 } from './migrations/1764400000000-audit-hash-chain.js';
import { ConnectionTags1764400000001 } from './migrations/1764400000001-connection-tags.js';
import { ProtocolTargets1764500000000 } from './migrations/1764500000000-protocol-targets.js';
import { AgentSshHostKey1764500000001 } from './migrations/1764500000001-agent-ssh-host-key.js';
import { Identity1764600000000 } from './migrations/1764600000000-identity.js';
import { SigningKeyEntity } from '../identity/session-tokens/signing-key.entity.js';
import { LoginSessionEntity, RefreshTokenEntity } from '../identity/login-sessions/login-session.entity.js';
import { ServiceAccountEntity } from '../identity/service-accounts/service-account.entity.js';
import { AgentKeyPairs1764700000000 } from './migrations/1764700000000-agent-key-pairs.js';

export const ENTITIES = [
  ApiTokenEntity,
  UserEntity,
  AgentEntity,
  ConnectionEntity,
  SessionEntity,
  SessionEventEntity,
  SessionRecordingEntity,
  PolicyEntity,
  PolicyVersionEntity,
  AuditEventEntity,
  ReviewEntity,
  ReviewDecisionEntity,
  StatementApprovalEntity,
  WebhookDeliveryEntity,
  GrantEntity,
  SigningKeyEntity,
  LoginSessionEntity,
  RefreshTokenEntity,
  ServiceAccountEntity,
];
export const MIGRATIONS = [InitialSchema1764057600000, UsersPoliciesAudit1764144000000, Reviews1764200000000, StatementVerdicts1764200000001, WebhookDeliveries1764300000000, AccessReviewsGrants1764300000001, AuditHashChain1764400000000, ConnectionTags1764400000001, ProtocolTargets1764500000000, AgentSshHostKey1764500000001, Identity1764600000000, AgentKeyPairs1764700000000];

/** Real Postgres when DATABASE_URL is set, otherwise embedded PGlite on disk; the schema comes only from migrations. */
export function dataSourceOptions(database: DatabaseConfig): DataSourceOptions {
  const common = {
    type: 'postgres' as const,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: true,
    migrationsTransactionMode: 'each' as const,
    synchronize: false,
    // Ids are generated in code (crypto.randomUUID), so no uuid extension is needed; PGlite has none.
    installExtensions: false,
    logging: false,
  };
  if (database.kind === 'postgres') return { ...common, url: database.url };
  mkdirSync(database.dataDir, { recursive: true });
  return { ...common, driver: new PGliteDriver({ dataDir: database.dataDir }).driver };
}
