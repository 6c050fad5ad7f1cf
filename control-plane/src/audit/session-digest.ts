import { createHash } from 'node:crypto';
import { canonicalJson } from '../common/canonical-json.js';

/** A recorded statement as session_events stores it. */
export interface DigestedStatement {
  sequence: number;
  protocol: string;
  statement: string;
  startedAt: Date;
  durationUs: number;
  rows: number | null;
  commandTag: string | null;
  errorSqlstate: string | null;
  errorMessage: string | null;
  verdict: string | null;
  reviewId: number | null;
}

export interface SessionDigest {
  /** How many statements the session recorded. */
  count: number;
  /** Statements per verdict (`none` for statements run without a policy verdict). */
  verdicts: Record<string, number>;
  /**
   * Hex SHA-256 over the statements in sequence order, each as the canonical JSON of all the fields
   * above (startedAt as ISO-8601) followed by "\n".
   */
  sha256: string;
}

/**
 * Statements stay in session_events (one row each, too many to chain one by one); the audit event that
 * ends a session carries this digest of them instead, so the chain covers them: changing, removing or
 * adding a statement row afterwards makes the recomputed digest differ from the chained one.
 */
export async function digestStatements(statements: AsyncIterable<DigestedStatement[]>): Promise<SessionDigest> {
  const hash = createHash('sha256');
  const verdicts: Record<string, number> = {};
  let count = 0;
  for await (const page of statements) {
    for (const s of page) {
      hash.update(`${canonicalJson({ ...pick(s), startedAt: s.startedAt.toISOString() })}\n`, 'utf8');
      const verdict = s.verdict ?? 'none';
      verdicts[verdict] = (verdicts[verdict] ?? 0) + 1;
      count += 1;
    }
  }
  return { count, verdicts, sha256: hash.digest('hex') };
}

function pick(s: DigestedStatement): Omit<DigestedStatement, 'startedAt'> {
  return {
    sequence: s.sequence,
    protocol: s.protocol,
    statement: s.statement,
    durationUs: s.durationUs,
    rows: s.rows,
    commandTag: s.commandTag,
    errorSqlstate: s.errorSqlstate,
    errorMessage: s.errorMessage,
    verdict: s.verdict,
    reviewId: s.reviewId,
  };
}
