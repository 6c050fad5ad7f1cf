import { createHash } from 'node:crypto';
import { evaluateRequest } from '../policy/index.js';
import type { Judgement, PolicyRules, SessionJudge, SessionRules, StatementAnalysis, TableRef, Verdict } from '../policy/index.js';
import type { CopyStatementText, GateVerdict, HoldOutcome, HoldRequest, ProtocolRequest, SessionFeatures, StatementGate } from '../protocols/engine.js';
import type { DecisionBroker } from './decision-broker.js';

/**
 * The engine's statement gate for one session: verdicts come from the session's judge (local, no
 * round trip for allow and deny), holds go to the control plane through the decision broker.
 */
export class PolicyGate implements StatementGate {
  readonly features: SessionFeatures;

  constructor(
    private readonly sessionId: string,
    private readonly rules: SessionRules,
    private readonly judge: SessionJudge,
    private readonly decisions: DecisionBroker,
  ) {
    // A feature is on when any policy of the session turns it on (policies add access to each other).
    this.features = {
      sshPortForwarding: rules.policies.some((p) => p.sshPortForwarding),
      sshAgentForwarding: rules.policies.some((p) => p.sshAgentForwarding),
    };
  }

  judgeRequest(request: ProtocolRequest): GateVerdict {
    const verdict = evaluateRequest(this.rules, request);
    return this.requestVerdict(verdict, request);
  }

  private requestVerdict(verdict: Verdict, request: ProtocolRequest): GateVerdict {
    return this.gateVerdict(verdict, () => ({
      statement: request.text,
      kinds: request.protocol === 'ssh' ? [request.interactive ? 'ssh-shell' : 'ssh-exec'] : request.protocol === 'http' ? [request.method] : [request.verb],
      tables: request.protocol === 'ssh' ? [] : request.protocol === 'http' ? [request.path] : [kubeObject(request)],
      fingerprint: createHash('sha256').update(`${request.protocol}\u0000${request.text}`).digest('hex'),
    }));
  }

  async judgeQuery(sql: string): Promise<GateVerdict> {
    return this.toGateVerdict(await this.judge.judgeSimpleQuery(sql), sql);
  }

  async judgeParse(statementName: string, sql: string): Promise<GateVerdict> {
    const judgement = await this.judge.judgeParse(statementName, sql);
    // Parsing runs nothing: only a deny is final here; review waits for the Execute.
    return judgement.verdict.action === 'deny' ? this.toGateVerdict(judgement, sql) : { action: 'allow' };
  }

  bind(portal: string, statementName: string): void {
    this.judge.bind(portal, statementName);
  }

  judgeExecute(portal: string): GateVerdict {
    const judgement = this.judge.judgeExecute(portal);
    return this.toGateVerdict(judgement, judgement.statements.map((s) => s.text).join('; '));
  }

  onParameterStatus(name: string, value: string): void {
    this.judge.onParameterStatus(name, value);
  }

  async readCopyStatements(sql: string): Promise<(CopyStatementText | null)[] | undefined> {
    // Once the session's lexing may differ from the parser's, its text is not read the server's way.
    if (this.judge.failingClosed) return undefined;
    const statements = await this.judge.analyze(sql);
    if (statements.some((s) => s.parseError !== undefined)) return undefined;
    return statements.map((s) => s.copy ?? null);
  }

  searchPathIsDefault(): boolean {
    return this.judge.searchPathIsDefault;
  }

  hold(request: HoldRequest, notify: (message: string) => void, signal: AbortSignal): Promise<HoldOutcome> {
    return this.decisions.hold(this.sessionId, request, notify, signal);
  }

  private toGateVerdict({ verdict, statements }: Judgement, text: string): GateVerdict {
    return this.gateVerdict(verdict, () => ({
      statement: text,
      kinds: unique(statements.flatMap((s) => [s.kind, ...s.effects])),
      tables: unique(statements.flatMap(tablesOf)),
      fingerprint: createHash('sha256').update(text).digest('hex'),
    }));
  }

  /** Allow and deny as they are; a review names the reviewing policy, with what `held` says was asked. */
  private gateVerdict(verdict: Verdict, held: () => Pick<HoldRequest, 'statement' | 'kinds' | 'tables' | 'fingerprint'>): GateVerdict {
    if (verdict.action === 'allow') return { action: 'allow' };
    const reason = verdict.reasons.join('; ') || `the policy says ${verdict.action}`;
    if (verdict.action === 'deny') return { action: 'deny', reason };
    const policy = this.reviewingPolicy(verdict.matched.map((m) => m.policy));
    return { action: 'review', hold: { ...held(), policyName: policy.name, policyVersion: policy.version, reason } };
  }

  /** The policy whose review block runs the review: the first matched one that has review settings. */
  private reviewingPolicy(matched: string[]): PolicyRules {
    const withReview = this.rules.policies.filter((p) => p.review);
    return withReview.find((p) => matched.includes(p.name)) ?? withReview[0] ?? this.rules.policies[0]!;
  }
}

function kubeObject(request: Extract<ProtocolRequest, { protocol: 'kubernetes' }>): string {
  const what = [request.resource || request.path, request.subresource].filter(Boolean).join('/');
  const where = [request.namespace, request.name].filter(Boolean).join('/');
  return where ? `${what} ${where}` : what;
}

function tablesOf(statement: StatementAnalysis): string[] {
  return statement.tables.map((t: TableRef) => (t.schema ? `${t.schema}.${t.name}` : t.name));
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
