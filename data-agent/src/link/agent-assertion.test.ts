import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ASSERTION_LIFETIME_S, signAgentAssertion } from './agent-assertion.js';

const AGENT_ID = '6f1c2a54-0c7e-4b8e-9a53-3f1f0d2b7c11';
const AUDIENCE = 'urn:airlock:control-plane:0d7c9a3e-5b1f-4c2a-8e6d-9f4b3a2c1d0e';

function decode(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('agent assertions', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');

  it('is a compact EdDSA JWS naming the agent, the control plane and a short lifetime', () => {
    const now = new Date('2026-11-25T10:00:00.000Z');
    const token = signAgentAssertion({ agentId: AGENT_ID, audience: AUDIENCE, privateKey, now });
    const [header, payload, signature] = token.split('.');
    expect(decode(header)).toEqual({ alg: 'EdDSA', typ: 'JWT' });
    const iat = now.getTime() / 1000;
    expect(decode(payload)).toEqual({ iss: AGENT_ID, sub: AGENT_ID, aud: AUDIENCE, iat, exp: iat + ASSERTION_LIFETIME_S, jti: expect.stringMatching(/^[\w-]{24}$/) });
    expect(verify(null, Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature, 'base64url'))).toBe(true);
  });

  it('is fresh every time: a new jti per call, so none can be replayed', () => {
    const jtis = new Set(Array.from({ length: 50 }, () => decode(signAgentAssertion({ agentId: AGENT_ID, audience: AUDIENCE, privateKey }).split('.')[1]).jti));
    expect(jtis.size).toBe(50);
  });

  it('does not verify with another key, nor once a claim is changed', () => {
    const token = signAgentAssertion({ agentId: AGENT_ID, audience: AUDIENCE, privateKey });
    const [header, payload, signature] = token.split('.');
    const other = generateKeyPairSync('ed25519').publicKey;
    expect(verify(null, Buffer.from(`${header}.${payload}`), other, Buffer.from(signature, 'base64url'))).toBe(false);
    const tampered = Buffer.from(JSON.stringify({ ...decode(payload), aud: 'urn:airlock:control-plane:other' })).toString('base64url');
    expect(verify(null, Buffer.from(`${header}.${tampered}`), publicKey, Buffer.from(signature, 'base64url'))).toBe(false);
  });
});
