import { createHmac } from 'node:crypto';
import type { OpenSession } from '@airlock/proto';
import { maskingRulesOf } from '../policy/wire.js';
import { Masker } from './masker.js';

/**
 * Builds each session's masker from the policy the control plane compiled for it: undefined unless
 * a policy declares masking rules, so that sessions without them pass results byte for byte. The hash
 * key is derived from the agent's own key: tokens are stable across sessions and restarts of one
 * agent (joins keep working) but differ between agents, and the agent key itself is never used directly.
 */
export function maskingFactory(agentKey: string) {
  const key = createHmac('sha256', agentKey).update('airlock/v1 masking hash key').digest();
  return (policy: OpenSession['policy']): Masker | undefined => {
    if (!policy || policy.unrestricted) return undefined;
    const rules = maskingRulesOf(policy);
    return rules.length > 0 ? new Masker(rules, key) : undefined;
  };
}
