/**
 * What a masked value becomes. Redact hides it entirely; keep-last shows only its last N characters;
 * hash gives a deterministic token (HMAC-SHA256 under the agent's key), so equal inputs stay equal
 * and joins or group-bys on the masked column still line up, without the value being recoverable.
 */
import { createHmac } from 'node:crypto';
import type { MaskMode } from './types.js';

export const REDACTED = '****';
const HASH_PREFIX = 'h:';
const HASH_HEX_CHARS = 12;

export function applyMode(value: string, mode: MaskMode, key: Buffer): string {
  switch (mode.kind) {
    case 'redact':
      return REDACTED;
    case 'keep-last': {
      const chars = Array.from(value);
      // Keeping the whole value (or nearly) would reveal it: a short value is redacted instead.
      if (chars.length <= mode.keep) return REDACTED;
      return '*'.repeat(chars.length - mode.keep) + chars.slice(-mode.keep).join('');
    }
    case 'hash':
      return HASH_PREFIX + createHmac('sha256', key).update(value, 'utf8').digest('hex').slice(0, HASH_HEX_CHARS);
  }
}

/** Which of two modes hides more, for a value that several rules select. */
export function stricterMode(a: MaskMode, b: MaskMode): MaskMode {
  const rank = (m: MaskMode) => (m.kind === 'redact' ? 3 : m.kind === 'hash' ? 2 : 1);
  if (rank(a) !== rank(b)) return rank(a) > rank(b) ? a : b;
  if (a.kind === 'keep-last' && b.kind === 'keep-last') return a.keep <= b.keep ? a : b;
  return a;
}
