import { randomBytes, sign, type KeyObject } from 'node:crypto';

/** How long an assertion is valid. Each call gets a fresh one, so this only needs to cover clock skew and transit. */
export const ASSERTION_LIFETIME_S = 60;

export interface AssertionInput {
  agentId: string;
  /** The control plane's identity, learnt at enrolment: an assertion is good for that control plane only. */
  audience: string;
  privateKey: KeyObject;
  now?: Date;
}

/**
 * A fresh, single-use proof that this agent opens the call: a JWT (compact JWS, EdDSA over
 * Ed25519) with iss = sub = the agent id, aud = the control plane, iat/exp a minute apart and a
 * random jti the control plane will not accept twice. Signed synchronously, because the channel
 * asks for it as it opens each call.
 */
export function signAgentAssertion(input: AssertionInput): string {
  const iat = Math.floor((input.now ?? new Date()).getTime() / 1000);
  const header = { alg: 'EdDSA', typ: 'JWT' };
  const claims = {
    iss: input.agentId,
    sub: input.agentId,
    aud: input.audience,
    iat,
    exp: iat + ASSERTION_LIFETIME_S,
    jti: randomBytes(18).toString('base64url'),
  };
  const signingInput = `${base64url(header)}.${base64url(claims)}`;
  const signature = sign(null, Buffer.from(signingInput, 'ascii'), input.privateKey);
  return `${signingInput}.${signature.toString('base64url')}`;
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}
