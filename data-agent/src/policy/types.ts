/**
 * Plain types for local policy evaluation. They mirror airlock.v1.SessionPolicy (see wire.ts for the
 * converter) so that statement analysis and evaluation never depend on protobuf.
 */

import type { CopyStatementText } from '../protocols/engine.js';

export type Action = 'allow' | 'review' | 'deny';

/** Strictness order: the strictest verdict wins across policies and across statements. */
export const ACTION_RANK: Readonly<Record<Action, number>> = { allow: 0, review: 1, deny: 2 };

export function stricter(a: Action, b: Action): Action {
  return ACTION_RANK[a] >= ACTION_RANK[b] ? a : b;
}

export const STATEMENT_KINDS = [
  'select', 'insert', 'update', 'delete', 'merge', 'truncate', 'drop', 'alter', 'create', 'grant', 'revoke',
  'copy', 'do', 'call', 'execute', 'prepare', 'deallocate', 'explain', 'set', 'reset', 'show', 'begin',
  'commit', 'rollback', 'savepoint', 'lock', 'vacuum', 'analyze', 'listen', 'notify', 'declare', 'fetch',
  'close', 'discard', 'comment', 'refresh', 'reindex', 'cluster', 'security_label', 'other',
] as const;

export type StatementKind = (typeof STATEMENT_KINDS)[number];

/**
 * A relation a statement touches, with identifiers as Postgres resolves them: unquoted names are
 * already folded to lower case by the parser, quoted ones keep their case ("Users" ≠ users).
 */
export interface TableRef {
  /** null when the statement did not qualify the name: the schema depends on search_path. */
  schema: string | null;
  /** '*' together with wholeSchema: the statement acts on every table of the schema (DROP SCHEMA, GRANT ... ALL TABLES IN SCHEMA). */
  name: string;
  wholeSchema?: true;
}

/** A run-time setting a statement changes (SET, RESET, set_config). value null = unknown or reset. */
export interface SettingChange {
  name: string;
  value: string | null;
}

export interface StatementAnalysis {
  /** The statement's own text, cut from the query at the parser's byte offsets, trimmed. */
  text: string;
  /** What the statement is at top level. */
  kind: StatementKind;
  /**
   * Every kind the statement can really perform, never empty: a SELECT hiding a DELETE in a CTE has
   * [select, delete]; EXPLAIN ANALYZE DELETE has [explain, delete]; plain EXPLAIN DELETE has [explain];
   * wrappers that run another statement (EXECUTE, DECLARE) carry the wrapped statement's effects.
   */
  effects: StatementKind[];
  tables: TableRef[];
  /** Functions called, lower-case, qualified as written ("pg_catalog.set_config", "count"). */
  functions: string[];
  /** COPY ... TO/FROM PROGRAM: a shell command on the database server. */
  program: boolean;
  /** True when what the statement does cannot be known from its text; reasons says why. */
  unknowable: boolean;
  reasons: string[];
  /** Set when the text could not be analysed at all (syntax error, too large, parser timeout or crash). */
  parseError?: string;
  /** A session statement that runs no user SQL (BEGIN, COMMIT, SHOW, SET of a harmless setting...). */
  harmless: boolean;
  settings: SettingChange[];
  /** PREPARE name AS inner: the inner statement, analysed. */
  prepare?: { name: string; inner: StatementAnalysis };
  /** Names of prepared statements this statement runs (EXECUTE, EXPLAIN ANALYZE EXECUTE, CREATE TABLE AS EXECUTE). */
  executes: string[];
  /** DEALLOCATE name (null = DEALLOCATE ALL / DISCARD ALL). */
  deallocate?: { name: string | null };
  /** A COPY statement: what it copies, for masking its output by column. */
  copy?: CopyStatementText;
}

export interface Rule {
  /** Statement kinds; empty = criterion absent. */
  statements: string[];
  /** Table globs "schema.table" with '*' inside a segment; empty = criterion absent. */
  tables: string[];
  /** Regular expressions over the statement text (case-insensitive); empty = criterion absent. */
  patterns: RegExp[];
  /** A pattern that did not compile: the rule then matches everything if restrictive, nothing if allow. */
  invalidPattern?: string;
  /** SSH command globs; empty = criterion absent. */
  commands: string[];
  /** HTTP/Kubernetes methods, upper case; empty = criterion absent. */
  methods: string[];
  /** HTTP path globs; empty = criterion absent. */
  paths: string[];
  kube: { verbs: string[]; resources: string[]; namespaces: string[]; names: string[]; subresources: string[] };
  action: Action;
}

export interface ReviewRules {
  reviewers: string[];
  approvals: number;
  rejectOnAny: boolean;
  timeoutSeconds: number;
  approveForMaxSeconds: number;
}

export interface PolicyRules {
  name: string;
  version: number;
  rules: Rule[];
  defaultAction: Action;
  review?: ReviewRules;
  failFast: boolean;
  /**
   * 'fail-closed': a call to any function outside a small list of known built-ins makes the statement
   * unknowable for this policy (a user function can run any SQL). Not yet on the wire: defaults to 'trust'.
   */
  unknownFunctions: 'trust' | 'fail-closed';
  sshPortForwarding: boolean;
  sshAgentForwarding: boolean;
  continueWithoutRecording: boolean;
}

export interface SessionRules {
  policies: PolicyRules[];
  /** No policy covers the connection and the subject is an admin: allow (and record) everything. */
  unrestricted: boolean;
}

export interface MatchedRule {
  policy: string;
  version: number;
  ruleIndex: number | 'default';
  statementIndex: number;
}

export interface Verdict {
  action: Action;
  reasons: string[];
  /** The decisions that produced `action` (one per policy and statement at that strictness). */
  matched: MatchedRule[];
}

/** What evaluation needs to know about the session beyond the statements themselves. */
export interface EvaluationContext {
  /**
   * True while search_path is known to be the default ("$user", public): only then may an
   * unqualified table be taken to live in public for an allow rule.
   */
  searchPathIsDefault: boolean;
}
