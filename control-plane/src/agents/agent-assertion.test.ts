import { describe, expect, it } from 'vitest';
import { checkAssertionClaims, claimedAgentId } from './agent-assertion.js';
import { AssertionReplayCache } from './assertion-replay-cache.js';

const agent = { id: '6f1c2a54-0c7e-4b8e-9a53-3f1f0d2b7c11', name: 'vpc-1' };
const audience = 'urn:airlock:control-plane:0d7c9a3e-5b1f-4c2a-8e6d-9f4b3a2c1d0e';
const now = new Date('2026-11-25T10:00:00.000Z');
const nowS = now.getTime() / 1000;
const claims = (extra: Record<string, unknown> = {}) => ({ iss: agent.id, sub: agent.id, aud: audience, iat: nowS, exp: nowS + 60, jti: 'a-unique-id-0123456789', ...extra });
const check = (payload: unknown) => () => checkAssertionClaims(payload, { agent, audience, now });

describe('agent assertion claims', () => {
  it('accepts a current assertion for this control plane, remembered until shortly after it expires', () => {
    expect(checkAssertionClaims(claims(), { agent, audience, now })).toEqual({
      agentId: agent.id,
      jti: 'a-unique-id-0123456789',
      expiresAt: new Date((nowS + 60 + 30) * 1000),
    });
    // Agent clocks may run a little fast or slow.
    expect(check(claims({ iat: nowS + 20, exp: nowS + 80 }))).not.toThrow();
    expect(check(claims({ iat: nowS - 80, exp: nowS - 20 }))).not.toThrow();
  });

  it('refuses each way of getting it wrong, by reason', () => {
    const reason = (payload: unknown) => {
      try {
        check(payload)();
        return 'accepted';
      } catch (error) {
        return (error as { reason: string }).reason;
      }
    };
    expect(reason(claims({ aud: 'urn:airlock:control-plane:another' }))).toBe('wrong_audience');
    expect(reason(claims({ iat: nowS - 200, exp: nowS - 100 }))).toBe('expired');
    expect(reason(claims({ iat: nowS + 120, exp: nowS + 180 }))).toBe('not_yet_valid');
    expect(reason(claims({ exp: nowS + 3600 }))).toBe('too_long_lived');
    expect(reason(claims({ jti: 'short' }))).toBe('malformed');
    expect(reason(claims({ iss: '00000000-0000-4000-8000-000000000000' }))).toBe('malformed');
    expect(reason(claims({ exp: undefined }))).toBe('malformed');
  });

  it('reads who an assertion claims to be from before its signature is checked, and nothing more', () => {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    expect(claimedAgentId(`${encode({ alg: 'EdDSA' })}.${encode({ iss: agent.id.toUpperCase() })}.sig`)).toBe(agent.id);
    expect(() => claimedAgentId('not-a-jwt')).toThrow('the agent assertion is malformed: it is not a compact JWS (three dot-separated parts)');
    expect(() => claimedAgentId(`a.${encode({ iss: "x' OR 1=1" })}.c`)).toThrow(`the agent assertion is malformed: its "iss" is not an agent id`);
    expect(() => claimedAgentId('a.%%%.c')).toThrow('the agent assertion is malformed: its payload is not base64url JSON');
  });
});

describe('assertion replay cache', () => {
  it('admits each jti once while it lives, forgets it after, and stays bounded', () => {
    const cache = new AssertionReplayCache(3);
    const later = new Date(now.getTime() + 90_000);
    expect(cache.admit(agent.id, 'one', later, now)).toBe(true);
    expect(cache.admit(agent.id, 'one', later, now)).toBe(false);
    expect(cache.admit('another-agent', 'one', later, now)).toBe(true);
    expect(cache.admit(agent.id, 'one', later, new Date(later.getTime() + 1))).toBe(true); // expired meanwhile: forgotten
    for (const jti of ['a', 'b', 'c', 'd']) cache.admit(agent.id, jti, new Date(later.getTime() + 60_000), later);
    expect(cache.size).toBe(3);
  });
});
