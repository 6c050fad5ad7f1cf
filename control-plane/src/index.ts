export { startControlPlane, listen, type RunningControlPlane, type StartOptions } from './main.js';
export { loadConfig, buildConfig, ConfigError, type ControlPlaneConfig, type ConfigInput, type DatabaseConfig } from './config/config.js';
export { AppModule } from './app.module.js';
export { type Clock, CLOCK, systemClock } from './common/clock.js';
export { StructuredLogger, LOGGER, type LogFields } from './common/logger.js';
export { ServerInfo } from './common/server-info.js';
export { DomainError, InvalidRequestError, UnauthenticatedError, NotFoundError, ConflictError } from './common/errors.js';
export { IdentityService, type BootstrapOutcome } from './identity/identity.service.js';
export { type Principal, Public } from './identity/principal.js';
export { AgentsService, type CreatedAgent, type EnrolledAgent, type AgentInfo } from './agents/agents.service.js';
export { AgentEnrollmentError, type EnrollmentRefusal } from './agents/agent-enrollment.error.js';
export { AgentRegistry } from './agents/agent-registry.js';
export type { AgentLink, OpenSessionOrder, OpenSessionConnection } from './agents/agent-link.js';
export { AgentEntity } from './agents/agent.entity.js';
export { ConnectionsService, type ConnectionDetails, type NewConnection } from './connections/connections.service.js';
export { ConnectionEntity, type ConnectionType, type TlsMode } from './connections/connection.entity.js';
export {
  SessionsService,
  type OpenSessionRequest,
  type RecordedStatement,
  type SessionEndReport,
  type SessionWithStatements,
} from './sessions/sessions.service.js';
export { SessionEntity, type SessionMode, type SessionStatus } from './sessions/session.entity.js';
export { SessionEventEntity } from './sessions/session-event.entity.js';
export { ForbiddenError } from './common/errors.js';
export { AdminOnly, policySubjectsOf } from './identity/principal.js';
export { UsersService, type NewUser, type CreatedUser } from './identity/users.service.js';
export { AuditService, type AuditRecord } from './audit/audit.service.js';
export { PoliciesService, type AppliedPolicy, type ApplyOutcome } from './policies/policies.service.js';
export type {
  AccessRequirement,
  CommandRulePlain,
  CompiledPolicyPlain,
  PolicySubject,
  PolicyTarget,
  ReviewSettingsPlain,
  SessionPolicyPlain,
} from './policies/policy-compiler.js';
export { parsePolicyDocument, PATTERN_FLAGS, type PolicyDocument, type PolicySpec } from './policies/policy-document.js';
export { STATEMENT_KINDS, type StatementKind } from './policies/statement-kinds.js';
