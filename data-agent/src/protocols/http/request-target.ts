/**
 * The request line's target, normalised so that the path policy judges is exactly the path the
 * target receives. Servers read paths differently (`/admin/../x`, `//admin`, `%61dmin`, `/admin%2F`):
 * judging one spelling and forwarding another would let a request slip past a path rule. So:
 * unreserved characters are decoded, other escapes are kept (upper-cased), dot segments are resolved,
 * repeated slashes are merged, and what cannot be read one way only (an encoded slash, backslash or
 * NUL) is refused. The query is kept as sent. Pure.
 */

export interface RequestTarget {
  /** The normalised path, always starting with `/`. */
  path: string;
  /** The raw query without `?`; undefined when the target has none. */
  query: string | undefined;
  /** What the target is sent: the normalised path and the query. */
  forwarded: string;
}

export class RequestTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RequestTargetError';
  }
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;
/** Escapes that some servers decode before routing and others do not: refused, so there is one reading. */
const AMBIGUOUS_BYTES = new Map<number, string>([
  [0x2f, 'an encoded slash (%2F)'],
  [0x5c, 'an encoded backslash (%5C)'],
  [0x00, 'an encoded NUL (%00)'],
]);

export function normalizeRequestTarget(raw: string): RequestTarget {
  if (!raw.startsWith('/')) {
    throw new RequestTargetError(`airlock: the request target must be a path starting with "/" (got "${raw.slice(0, 80)}")`);
  }
  if (raw.includes('#')) throw new RequestTargetError('airlock: the request target must not contain a fragment (#)');
  const q = raw.indexOf('?');
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  const query = q < 0 ? undefined : raw.slice(q + 1);
  if (rawPath.includes('\\')) throw new RequestTargetError('airlock: the path contains a backslash, which servers read differently');
  const path = resolveSegments(decodeUnreserved(rawPath));
  return { path, query, forwarded: query === undefined ? path : `${path}?${query}` };
}

/** Decodes %XX of unreserved characters; keeps every other escape, upper-cased. */
function decodeUnreserved(path: string): string {
  if (!path.includes('%')) return path;
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    if (c !== '%') {
      out += c;
      continue;
    }
    const hex = path.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new RequestTargetError(`airlock: the path has a malformed escape "%${hex}"`);
    const byte = parseInt(hex, 16);
    const ambiguous = AMBIGUOUS_BYTES.get(byte);
    if (ambiguous) throw new RequestTargetError(`airlock: the path contains ${ambiguous}, which servers read differently; send it unencoded or not at all`);
    const char = String.fromCharCode(byte);
    out += byte < 0x80 && UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
    i += 2;
  }
  return out;
}

/** RFC 3986 §5.2.4 dot-segment removal, with empty segments (repeated slashes) dropped. */
function resolveSegments(path: string): string {
  const segments: string[] = [];
  const parts = path.split('/');
  let trailingSlash = path.endsWith('/');
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]!;
    const last = i === parts.length - 1;
    if (part === '') continue;
    if (part === '.' || part === '..') {
      if (part === '..') segments.pop();
      if (last) trailingSlash = true;
      continue;
    }
    segments.push(part);
  }
  if (segments.length === 0) return '/';
  return `/${segments.join('/')}${trailingSlash ? '/' : ''}`;
}
