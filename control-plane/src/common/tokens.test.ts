import { describe, expect, it } from 'vitest';
import { hashToken, issueToken, tokenMatchesHash, tokenPrefix } from './tokens.js';

describe('tokens', () => {
  it('issues kind-tagged base62 tokens with a visible prefix and a SHA-256 hash', () => {
    const issued = issueToken('agent');
    expect(issued.token).toMatch(/^alk_agent_[0-9A-Za-z]{32}$/);
    expect(issued.prefix).toBe(issued.token.slice(0, 'alk_agent_'.length + 8));
    expect(issued.hash).toBe(hashToken(issued.token));
    expect(issued.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(issueToken('agent').token).not.toBe(issued.token);
  });

  it('matches only the exact token', () => {
    const { token, hash } = issueToken('admin');
    expect(tokenMatchesHash(token, hash)).toBe(true);
    expect(tokenMatchesHash(`${token}x`, hash)).toBe(false);
    expect(tokenMatchesHash(token, 'not-hex')).toBe(false);
  });

  it('takes a prefix of tokens that do not follow the alk_ scheme', () => {
    expect(tokenPrefix('my-own-bootstrap-token-123456')).toBe('my-own-b');
  });
});
