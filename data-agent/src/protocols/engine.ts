import type { Duplex } from 'node:stream';

/** Where a session goes, as the agent was told by the control plane. */
export interface ConnectionTarget {
  name: string;
  type: 'postgres' | 'tcp' | 'ssh' | 'http' | 'kubernetes';
  host: string;
  port: number;
  database: string;
  user: string;
  /** `env:VAR` or `file:/path`; resolved by the agent only. */
  secretRef: string;
  tlsMode: 'disable' | 'prefer' | 'require' | 'verify-full';
  /**
   * Type-specific settings (never secrets): http/kubernetes `credential` (bearer | basic | header |
   * client-cert), `header`, `scheme` (http | https), `ca_ref`, `client_key_ref`; ssh `credential` (password | key).
   */
  options: Record<string, string>;
}

export type StatementProtocol = 'simple' | 'extended' | 'exec' | 'ssh' | 'http' | 'kubernetes';

/** One statement as it ran on the target, for the session record. */
export interface StatementRecord {
  sequence: number;
  text: string;
  startedAt: Date;
  durationUs: number;
  /** Row count from CommandComplete, when the command reports one. */
  rows?: number;
  commandTag: string;
  errorSqlstate: string;
  errorMessage: string;
  protocol: StatementProtocol;
  /** How policy judged it; absent when the session runs without a policy. */
  verdict?: 'allowed' | 'denied' | 'approved' | 'rejected';
  reviewId?: number;
}

export interface StatementRecorder {
  record(statement: StatementRecord): void;
}

export interface EngineLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/**
 * One request of a non-SQL protocol, as policy judges it. Rules with `commands` judge SSH, rules
 * with `methods`/`paths` judge HTTP, rules with `kube` criteria (and methods/paths) judge Kubernetes;
 * `patterns` match `text`. SQL-only rules (statements, tables) never match a request.
 */
export type ProtocolRequest =
  /**
   * `unknowable`: why what runs cannot be known from `text` (a shell line edited with Tab or history,
   * a command name from an expansion); policy then gives the strictest verdict it could give.
   */
  | { protocol: 'ssh'; text: string; command: string; interactive: boolean; unknowable?: string }
  | { protocol: 'http'; text: string; method: string; path: string }
  | {
      protocol: 'kubernetes';
      text: string;
      method: string;
      path: string;
      verb: string;
      /** plural resource, with its group when not core: `pods`, `deployments.apps`. Empty for non-resource paths. */
      resource: string;
      namespace: string;
      name: string;
      subresource: string;
    };

/** What to ask people about a held statement. */
export interface HoldRequest {
  statement: string;
  kinds: string[];
  tables: string[];
  policyName: string;
  policyVersion: number;
  reason: string;
  fingerprint: string;
}

export type GateVerdict =
  | { action: 'allow' }
  | { action: 'deny'; reason: string }
  | { action: 'review'; hold: HoldRequest };

export type HoldOutcome =
  | { released: true; reviewId: number }
  /** `pending`: the policy's reviewMode is fail-fast and the review is still open; the identical request passes once approved. */
  | { released: false; reviewId: number; message: string; pending?: boolean };

/**
 * Policy on the data path, per session. Engines ask it before a statement reaches the target;
 * allow and deny are decided locally, review waits for people (pushed, never polled).
 */
export interface StatementGate {
  /** A simple-protocol Query (possibly several statements). */
  judgeQuery(sql: string): Promise<GateVerdict>;
  /** An extended-protocol Parse; remembered so Executes of the statement are judged the same way. */
  judgeParse(statementName: string, sql: string): Promise<GateVerdict>;
  /** A Bind of `statementName` into `portal`. */
  bind(portal: string, statementName: string): void;
  /** An Execute of a portal: where review is enforced, since a statement parsed once may run many times. */
  judgeExecute(portal: string): GateVerdict;
  /** Every ParameterStatus the server reports (login included): lexing settings change how SQL must be read. */
  onParameterStatus(name: string, value: string): void;
  /** Holds until the review is decided; `notify` receives readable progress lines for the client. */
  hold(request: HoldRequest, notify: (message: string) => void, signal: AbortSignal): Promise<HoldOutcome>;
  /** An SSH command, HTTP request or Kubernetes API call: decided locally and at once (review then goes through hold). */
  judgeRequest(request: ProtocolRequest): GateVerdict;
  /** Protocol features that stay off unless a policy of the session turns them on. */
  readonly features: SessionFeatures;
  /**
   * Reads SQL the session sent with the parser that judged it, for masking COPY ... TO STDOUT: per
   * statement, what it copies (null when it is no COPY); undefined when the text cannot be read reliably.
   * Absent: COPY cannot be read (column rules then refuse it).
   */
  readCopyStatements?(sql: string): Promise<(CopyStatementText | null)[] | undefined>;
  /** False once a statement of the session may have changed search_path; absent: unknown (false). */
  searchPathIsDefault?(): boolean;
}

/** A COPY statement as its text says (identifiers as Postgres folds them: unquoted lower-cased). */
export interface CopyStatementText {
  direction: 'to' | 'from';
  /** STDOUT/STDIN (the client), or a file or program on the database server. */
  endpoint: 'client' | 'file' | 'program';
  /** COPY table: the table as written; null for COPY (query). */
  relation: { schema: string | null; name: string } | null;
  /** The column list as written; null when there is none (every column). */
  columns: string[] | null;
  /** The options in order: lower-case name, the constant value as text ('*' for *; null: none given, or a list), a list's names. */
  options: { name: string; value: string | null; items?: string[] }[];
}

export interface SessionFeatures {
  sshPortForwarding: boolean;
  sshAgentForwarding: boolean;
}

/** Everything allowed: no policy covers the connection and the subject is an admin. */
export const UNRESTRICTED_FEATURES: SessionFeatures = { sshPortForwarding: true, sshAgentForwarding: true };

/**
 * A terminal session's recording as asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/):
 * the engine reports what happens, the recorder timestamps it and streams it to the control plane.
 */
export interface TerminalRecorder {
  start(header: { width: number; height: number; command?: string; term?: string }): void;
  output(data: string): void;
  input(data: string): void;
  resize(width: number, height: number): void;
}

/** Where a result column's values come from, as far as masking needs to know. */
export type ResultColumnSource =
  | { schema: string; table: string; column: string }
  /** It reads a table column, but which one could not be found out: column rules are taken to match. */
  | 'unresolved'
  /** An expression: no table column, so only content rules apply. */
  | 'expression';

export interface ResultColumnMask {
  /** True when a column rule selects the whole column; its values are then masked whatever they hold. */
  byRule: boolean;
  mask(value: string): string;
}

/** Masking of result values before they leave the agent; absent when no policy declares masking rules. */
export interface ResultMasking {
  readonly hasColumnRules: boolean;
  /** How one result column's values are masked; undefined when they pass unchanged. */
  forColumn(source: ResultColumnSource): ResultColumnMask | undefined;
  /** The content rules over a piece of free text (COPY lines, error details). */
  maskText(text: string): string;
}

export interface SessionContext {
  sessionId: string;
  target: ConnectionTarget;
  /** Resolves a secret reference from the agent's own environment; throws SecretUnavailableError. */
  resolveSecret(ref: string): string;
  recorder: StatementRecorder;
  logger: EngineLogger;
  /** Aborted when the control plane kills the session or the agent stops. */
  signal: AbortSignal;
  /** Absent when no policy applies (an admin on a connection no policy covers): everything is allowed. */
  gate?: StatementGate;
  /** Absent unless a policy declares masking rules: results then pass byte for byte. */
  masking?: ResultMasking;
  /** Records a terminal (SSH shell) as asciicast v2; present for every tunnel session. */
  terminal?: TerminalRecorder;
}

export interface SessionSummary {
  bytesFromClient: number;
  bytesToClient: number;
  /** Why the session ended abnormally, as a sentence for the person; undefined when it ended cleanly. */
  error?: { code: 'target_unreachable' | 'protocol' | 'internal' | 'killed'; message: string };
}

export interface ExecColumn { name: string; typeOid: number }
export interface ExecResultSet {
  columns: ExecColumn[];
  rows: (string | null)[][];
  commandTag: string;
  rowsAffected?: number;
  truncated: boolean;
}
export interface ExecOutcome {
  results: ExecResultSet[];
  databaseError?: { sqlstate: string; message: string; detail: string; hint: string };
}

/** A protocol engine terminates one kind of client protocol and speaks it to the target. */
export interface ProtocolEngine {
  readonly type: ConnectionTarget['type'];
  /** Serves one tunnelled client connection until either side ends it. Never throws: failures are in the summary. */
  serveTunnel(client: Duplex, ctx: SessionContext): Promise<SessionSummary>;
  /** Runs one statement on the caller's behalf (airlock exec). Throws an EngineError when the target cannot be reached. */
  exec?(sql: string, maxRows: number, ctx: SessionContext): Promise<ExecOutcome>;
}

export class EngineError extends Error {
  constructor(
    readonly code: 'target_unreachable' | 'protocol' | 'internal' | 'killed' | 'unsupported',
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

/** What the client is told when a session is ended from our side; the reason is the one given to abort(). */
export function endedMessage(signal: AbortSignal, what: 'session' | 'exec' = 'session'): string {
  const reason = signal.reason;
  if (reason instanceof Error && reason.name !== 'AbortError' && reason.message) return `airlock: the ${what} was ended: ${reason.message}`;
  return `airlock: the ${what} was ended (killed by airlock)`;
}
