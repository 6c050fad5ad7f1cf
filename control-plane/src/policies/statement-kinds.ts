/**
 * Statement kinds a rule may name, in lower case, as the agent's Postgres parser classifies statements.
 * `unknown` is what the agent calls a statement it cannot classify, so a policy can decide about those
 * explicitly (they otherwise get the strictest action that could apply).
 */
export const STATEMENT_KINDS = [
  // data
  'select', 'insert', 'update', 'delete', 'merge', 'copy', 'values', 'table',
  // schema and privileges
  'create', 'alter', 'drop', 'truncate', 'comment', 'grant', 'revoke', 'reassign', 'security_label', 'import',
  // code
  'do', 'call', 'prepare', 'execute', 'deallocate', 'explain',
  // session and transactions
  'set', 'reset', 'show', 'discard', 'begin', 'commit', 'rollback', 'savepoint', 'release', 'lock',
  // cursors and notifications
  'declare', 'fetch', 'move', 'close', 'listen', 'notify', 'unlisten',
  // maintenance
  'vacuum', 'analyze', 'reindex', 'cluster', 'refresh', 'checkpoint', 'load',
  'unknown',
] as const;

export type StatementKind = (typeof STATEMENT_KINDS)[number];

const KNOWN = new Set<string>(STATEMENT_KINDS);

export function isStatementKind(value: string): value is StatementKind {
  return KNOWN.has(value);
}

/** The closest known kind to a misspelling (`dorp` → `drop`), if one is close enough to suggest. */
export function suggestStatementKind(value: string): StatementKind | undefined {
  let best: { kind: StatementKind; distance: number } | undefined;
  for (const kind of STATEMENT_KINDS) {
    const distance = editDistance(value.toLowerCase(), kind);
    if (!best || distance < best.distance) best = { kind, distance };
  }
  return best && best.distance <= Math.max(1, Math.ceil(value.length / 3)) ? best.kind : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
