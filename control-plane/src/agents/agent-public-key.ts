import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { AgentEnrollmentError } from './agent-enrollment.error.js';

export interface AgentPublicKey {
  /** SPKI PEM, as stored. */
  readonly pem: string;
  /** `SHA256:<base64, unpadded>` of the SPKI DER, like OpenSSH shows key fingerprints. */
  readonly fingerprint: string;
}

/** The public key an agent presents at enrolment: it must be an Ed25519 key, PEM-encoded SPKI. */
export function parseAgentPublicKey(pem: string): AgentPublicKey {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new AgentEnrollmentError('invalid_key', 'the enrolment carries no readable public key (expected an Ed25519 SPKI PEM); is the agent older than the control plane?');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new AgentEnrollmentError('invalid_key', `the agent's public key must be Ed25519, not ${key.asymmetricKeyType ?? 'unknown'}`);
  }
  return { pem: key.export({ type: 'spki', format: 'pem' }).toString(), fingerprint: keyFingerprint(key) };
}

export function keyFingerprint(key: KeyObject): string {
  const der = key.export({ type: 'spki', format: 'der' });
  return `SHA256:${createHash('sha256').update(der).digest('base64').replace(/=+$/, '')}`;
}
