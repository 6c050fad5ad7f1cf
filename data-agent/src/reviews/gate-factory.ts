import type { OpenSession } from '@airlock/proto';
import { fromWirePolicy, SessionJudge } from '../policy/index.js';
import type { ParserPool } from '../policy/index.js';
import type { GateVerdict, HoldOutcome, SessionFeatures, StatementGate } from '../protocols/engine.js';
import type { DecisionBroker } from './decision-broker.js';
import { PolicyGate } from './policy-gate.js';

/**
 * Builds each session's gate from the policy the control plane compiled for it. No gate only when
 * the control plane says the session is unrestricted; a session without any policy is refused
 * everything (fail closed), never waved through.
 */
export function gateFactory(parsers: ParserPool, decisions: DecisionBroker) {
  return (sessionId: string, policy: OpenSession['policy']): StatementGate | undefined => {
    if (policy?.unrestricted) return undefined;
    if (!policy || policy.policies.length === 0) return new RefuseEverythingGate('the control plane sent no policy for this session');
    const rules = fromWirePolicy(policy);
    return new PolicyGate(sessionId, rules, new SessionJudge(rules, parsers), decisions);
  };
}

class RefuseEverythingGate implements StatementGate {
  private readonly verdict: GateVerdict;
  readonly features: SessionFeatures = { sshPortForwarding: false, sshAgentForwarding: false };

  constructor(reason: string) {
    this.verdict = { action: 'deny', reason };
  }

  async judgeQuery(): Promise<GateVerdict> {
    return this.verdict;
  }

  async judgeParse(): Promise<GateVerdict> {
    return this.verdict;
  }

  bind(): void {}

  judgeExecute(): GateVerdict {
    return this.verdict;
  }

  onParameterStatus(): void {}

  judgeRequest(): GateVerdict {
    return this.verdict;
  }

  async hold(): Promise<HoldOutcome> {
    return { released: false, reviewId: 0, message: 'airlock: nothing can be held without a policy' };
  }
}
