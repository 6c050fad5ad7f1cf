import { createHash, randomInt, timingSafeEqual } from 'node:crypto';

/** The kinds of bearer secrets the control plane issues; the kind is visible in the token itself. */
export type TokenKind = 'admin' | 'user' | 'join' | 'agent' | 'sa' | 'refresh';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_LENGTH = 32;
/** Random characters kept in the visible prefix: enough to find the row, far too few to guess the rest. */
const PREFIX_RANDOM_CHARS = 8;

export interface IssuedToken {
  /** The secret itself: shown once, never stored. */
  readonly token: string;
  /** Stored and shown in listings, e.g. `alk_agent_3fZk81Qa`. */
  readonly prefix: string;
  /** Hex SHA-256 of the token: the only form kept at rest. */
  readonly hash: string;
}

export function issueToken(kind: TokenKind): IssuedToken {
  const token = `alk_${kind}_${randomBase62(RANDOM_LENGTH)}`;
  return { token, prefix: tokenPrefix(token), hash: hashToken(token) };
}

/** The lookup prefix of any token, including an operator-chosen bootstrap token. */
export function tokenPrefix(token: string): string {
  const kindEnd = token.startsWith('alk_') ? token.indexOf('_', 4) + 1 : 0;
  return token.slice(0, kindEnd + PREFIX_RANDOM_CHARS);
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Compares a presented token against a stored hash in time independent of where they differ. */
export function tokenMatchesHash(token: string, storedHash: string): boolean {
  const presented = Buffer.from(hashToken(token), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

function randomBase62(length: number): string {
  let out = '';
  // randomInt is uniform, so there is no modulo bias.
  for (let i = 0; i < length; i += 1) out += BASE62[randomInt(BASE62.length)];
  return out;
}
