import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { canonicalJson } from '../common/canonical-json.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { NotFoundError } from '../common/errors.js';
import { LOGGER, type StructuredLogger } from '../common/logger.js';
import { Transactions } from '../database/transactions.js';
import type { Principal } from '../identity/principal.js';
import {
  type AccessRequirement,
  accessRequirement,
  compileSessionPolicy,
  coversConnection,
  type PolicySubject,
  type PolicyTarget,
  type SessionPolicyPlain,
  type StoredPolicy,
} from './policy-compiler.js';
import { parsePolicyDocument } from './policy-document.js';
import { PolicyInvalidError } from './policy-invalid.error.js';
import type { PolicyVersionEntity } from './policy-version.entity.js';
import type { PolicyEntity } from './policy.entity.js';
import { PoliciesRepository } from './policies.repository.js';

export type ApplyOutcome = 'created' | 'configured' | 'unchanged';

export interface AppliedPolicy {
  readonly name: string;
  readonly version: number;
  readonly changed: boolean;
  readonly outcome: ApplyOutcome;
}

export interface PolicyHistory {
  readonly policy: PolicyEntity;
  readonly versions: PolicyVersionEntity[];
}

@Injectable()
export class PoliciesService {
  constructor(
    private readonly policies: PoliciesRepository,
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: StructuredLogger,
  ) {}

  /**
   * Validates and stores a policy document. A document whose normalized content equals the current
   * version changes nothing (same version, no audit event); anything else is a new version.
   */
  async apply(text: string, actor: Principal): Promise<AppliedPolicy> {
    const parsed = parsePolicyDocument(text);
    if (!parsed.ok) throw new PolicyInvalidError(parsed.problems, parsed.name);
    const { name, spec } = parsed.document;
    const now = this.clock.now();
    const applied = await this.transactions.run(async (tx): Promise<AppliedPolicy> => {
      const current = await this.policies.lockByName(name, tx);
      const live = current !== null && current.deletedAt === null;
      if (live && canonicalJson(current.spec) === canonicalJson(spec)) {
        return { name, version: current.version, changed: false, outcome: 'unchanged' };
      }
      const policy: PolicyEntity = {
        id: current?.id ?? randomUUID(),
        name,
        version: (current?.version ?? 0) + 1,
        document: text,
        spec,
        createdAt: live ? current.createdAt : now,
        createdBy: live ? current.createdBy : actor.subject,
        updatedAt: now,
        updatedBy: actor.subject,
        deletedAt: null,
        deletedBy: null,
      };
      await this.policies.saveVersion(policy, tx);
      const outcome = live ? 'configured' : 'created';
      await this.audit.record({ actor: actor.subject, kind: 'policy.applied', target: `policy/${name}`, details: { version: policy.version, outcome } }, tx);
      return { name, version: policy.version, changed: true, outcome };
    });
    if (applied.changed) this.logger.info('policy applied', { policyName: name, version: applied.version, outcome: applied.outcome });
    return applied;
  }

  list(): Promise<PolicyEntity[]> {
    return this.policies.listLiveByName();
  }

  async get(name: string): Promise<PolicyEntity> {
    const policy = await this.policies.findLiveByName(name);
    if (!policy) throw policyNotFound(name);
    return policy;
  }

  /** Every version, newest first; a deleted policy's history stays readable. */
  async history(name: string): Promise<PolicyHistory> {
    const policy = await this.policies.findAnyByName(name);
    if (!policy) throw policyNotFound(name);
    return { policy, versions: await this.policies.versionsNewestFirst(policy.id) };
  }

  /** Soft delete: the policy stops applying at once; its versions are kept. */
  async delete(name: string, actor: Principal): Promise<void> {
    const version = await this.transactions.run(async (tx) => {
      const current = await this.policies.lockByName(name, tx);
      if (!current || current.deletedAt !== null) throw policyNotFound(name);
      await this.policies.markDeleted(current.id, this.clock.now(), actor.subject, tx);
      await this.audit.record({ actor: actor.subject, kind: 'policy.deleted', target: `policy/${name}`, details: { version: current.version } }, tx);
      return current.version;
    });
    this.logger.info('policy deleted', { policyName: name, version });
  }

  /**
   * The compiled policy for a session of `who` on `connection`, or null when they may not use it:
   * see compileSessionPolicy (admins are unrestricted only where no policy covers the connection).
   */
  async compileFor(who: PolicySubject, connection: PolicyTarget): Promise<SessionPolicyPlain | null> {
    return compileSessionPolicy(await this.livePolicies(), who, connection);
  }

  /** Whether `who` needs a just-in-time grant to open a session on `connection`; null when compileFor is. */
  async accessFor(who: PolicySubject, connection: PolicyTarget): Promise<AccessRequirement | null> {
    return accessRequirement(await this.livePolicies(), who, connection);
  }

  /** For each connection name, the names of the live policies that cover it (whoever they bind). */
  async coveringPolicies(connections: readonly PolicyTarget[]): Promise<Map<string, string[]>> {
    const policies = await this.livePolicies();
    return new Map(connections.map((c) => [c.name, policies.filter((p) => coversConnection(p.spec, c)).map((p) => p.name)]));
  }

  private async livePolicies(): Promise<StoredPolicy[]> {
    return (await this.policies.listLiveByName()).map(({ name, version, spec }) => ({ name, version, spec }));
  }
}

function policyNotFound(name: string): NotFoundError {
  return new NotFoundError(`policy "${name}" does not exist`);
}
