/**
 * Policy documents: YAML (or JSON, which is YAML) text in, a validated and normalized PolicyDocument
 * out, or every problem found, each naming the field path and the reason. Pure: no I/O.
 */
import { LineCounter, parseAllDocuments, type YAMLError } from 'yaml';
import { formatDuration, parseDuration } from '../common/durations.js';
import { GROUP_NAME_PATTERN, NAME_PATTERN, NAME_RULE, USER_NAME_PATTERN } from '../common/names.js';
import { isStatementKind, type StatementKind, STATEMENT_KINDS, suggestStatementKind } from './statement-kinds.js';

export const VERDICTS = ['allow', 'review', 'deny'] as const;
export type Verdict = (typeof VERDICTS)[number];
export const ACCESS_MODES = ['allow', 'review'] as const;
export type AccessMode = (typeof ACCESS_MODES)[number];
export const REVIEW_MODES = ['wait', 'fail-fast'] as const;
/** trust: judge a statement by what it visibly does; strictest: unknown functions make it unknowable. */
export const UNKNOWN_FUNCTION_MODES = ['trust', 'strictest'] as const;
export type UnknownFunctionMode = (typeof UNKNOWN_FUNCTION_MODES)[number];
export type ReviewMode = (typeof REVIEW_MODES)[number];
export const MASK_MODES = ['redact', 'keep-last', 'hash'] as const;
export type MaskModeName = (typeof MASK_MODES)[number];
export const MASK_DETECTORS = ['email', 'card', 'iban', 'ssn', 'phone', 'ipv4', 'ipv6', 'jwt', 'api-key'] as const;
export type MaskDetector = (typeof MASK_DETECTORS)[number];
export const MAX_MASK_KEEP = 64;

export const MAX_DOCUMENT_BYTES = 64 * 1024;
export const MAX_APPROVALS = 10;
export const MAX_REVIEW_TIMEOUT_SECONDS = 7 * 86_400;
export const MAX_APPROVE_FOR_SECONDS = 86_400;
export const MAX_ACCESS_DURATION_SECONDS = 7 * 86_400;
export const DEFAULT_REVIEW_TIMEOUT_SECONDS = 15 * 60;
export const DEFAULT_ACCESS_DURATION_SECONDS = 3_600;

export interface RuleMatch {
  statements: StatementKind[];
  /** schema.table globs. */
  tables: string[];
  /** Regular expressions over the statement text, matched case-insensitively (flags `iu`). */
  patterns: string[];
  /** SSH: globs over an exec command or a typed shell line. Absent in specs stored before SSH existed. */
  commands?: string[];
  /** HTTP and Kubernetes request methods, upper case. */
  methods?: string[];
  /** HTTP path globs: `*` within a segment, `**` across segments. */
  paths?: string[];
  /** Kubernetes criteria, read from the API path. */
  kube?: KubeMatch;
}

export const KUBE_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection', 'proxy'] as const;
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export interface KubeMatch {
  verbs: string[];
  resources: string[];
  namespaces: string[];
  names: string[];
  subresources: string[];
}

/** SSH features that stay off unless a policy allows them. */
export interface SshSpec {
  portForwarding: boolean;
  agentForwarding: boolean;
}

/** What happens when a session's recording cannot be stored. */
export const RECORDING_FAILURE_MODES = ['stop-session', 'continue'] as const;
export type RecordingFailureMode = (typeof RECORDING_FAILURE_MODES)[number];

export interface PolicyRule {
  match: RuleMatch;
  action: Verdict;
}

/** One masking rule: exactly one of columns, detect or pattern selects the values. */
export interface MaskingSpec {
  /** table.column or schema.table.column globs. */
  columns?: string[];
  detect?: MaskDetector[];
  /** A regular expression over every text value (flags `gu`). */
  pattern?: string;
  mode: MaskModeName;
  /** Characters left visible by keep-last. */
  keep?: number;
}

export interface ReviewSpec {
  /** group:NAME or user:NAME. */
  reviewers: string[];
  approvals: number;
  rejectOnAny: boolean;
  timeoutSeconds: number;
  /** The longest "approve for N" a reviewer may give; 0 = not allowed. */
  approveForSeconds: number;
}

/** The normalized spec: defaults filled in, durations in seconds. Stored as jsonb. */
export interface PolicySpec {
  subjects: string[];
  connections: string[];
  access: AccessMode;
  /** The longest just-in-time grant; null unless access is review. */
  accessDurationSeconds: number | null;
  rules: PolicyRule[];
  default: Verdict;
  review: ReviewSpec | null;
  reviewMode: ReviewMode;
  unknownFunctions: UnknownFunctionMode;
  /** Absent when the document has no masking rules (and in specs stored before masking existed). */
  masking?: MaskingSpec[];
  /** Absent: both off. */
  ssh?: SshSpec;
  /** Absent: stop-session (a session that cannot be recorded does not run). */
  recordingFailure?: RecordingFailureMode;
}

export interface PolicyDocument {
  name: string;
  spec: PolicySpec;
}

export interface PolicyProblem {
  /** e.g. `spec.rules[1].action`; empty for the document as a whole. */
  path: string;
  reason: string;
}

export type ParsedPolicy = { ok: true; document: PolicyDocument } | { ok: false; name?: string; problems: PolicyProblem[] };

/** Regex flags every engine must use for `patterns`. */
export const PATTERN_FLAGS = 'iu';

const MATCH_KEYS = ['statements', 'tables', 'patterns', 'commands', 'methods', 'paths', 'kube'] as const;
const SUBJECT_RULE = 'must be "*", user:NAME, group:NAME or serviceaccount:NAME';
const REVIEWER_RULE = 'must be group:NAME or user:NAME';
const CONNECTION_RULE = 'must be a connection name, a glob such as prod-*, or tag:KEY=VALUE';
const TABLE_RULE = 'must be schema.table, each part a name or a glob with *, such as public.* or *.secrets';
const DURATION_RULE = 'must be a duration such as 90s, 15m, 1h or 1h30m';
const CONNECTION_GLOB = /^[a-z0-9*][a-z0-9._*-]{0,62}$/;
const TAG_SELECTOR = /^tag:([a-z0-9][a-z0-9._/-]{0,62})=([A-Za-z0-9._*-]{0,63})$/;
const TABLE_PART = /^[A-Za-z0-9_$*]{1,63}$/;
const COLUMN_RULE = 'must be table.column or schema.table.column, each part a name or a glob with *, such as *.email or customers.ssn';
/** Regex flags the agent uses for masking patterns. */
export const MASK_PATTERN_FLAGS = 'gu';
const MAX_LIST = 256;

export function parsePolicyDocument(text: string): ParsedPolicy {
  if (Buffer.byteLength(text, 'utf8') > MAX_DOCUMENT_BYTES) {
    return whole(`the document is larger than ${MAX_DOCUMENT_BYTES / 1024} KiB`);
  }
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  if (!Array.isArray(documents)) return whole('the document is empty');
  if (documents.length === 0) return whole('the document is empty');
  if (documents.length > 1) return whole(`the text holds ${documents.length} YAML documents; apply one policy at a time`);
  const [yaml] = documents;
  if (yaml.errors.length > 0) return whole(`the document is not valid YAML: ${describeYamlError(yaml.errors[0], lineCounter)}`);
  const value: unknown = yaml.toJS({ maxAliasCount: 100 });
  if (value === null || value === undefined) return whole('the document is empty');
  return new PolicyReader().read(value);
}

function whole(reason: string): ParsedPolicy {
  return { ok: false, problems: [{ path: '', reason }] };
}

function describeYamlError(error: YAMLError, lines: LineCounter): string {
  const { line, col } = lines.linePos(error.pos[0]);
  return `${error.message.split('\n')[0].trim()} (line ${line}, column ${col})`;
}

/** One readable line: `spec.rules[1].action: must be one of allow, review, deny; …`. */
export function describeProblems(problems: readonly PolicyProblem[]): string {
  return problems.map((p) => (p.path ? `${p.path}: ${p.reason}` : p.reason)).join('; ');
}

type Obj = Record<string, unknown>;

/** Walks the parsed value, collecting every problem rather than stopping at the first. */
class PolicyReader {
  private readonly problems: PolicyProblem[] = [];

  read(value: unknown): ParsedPolicy {
    const root = this.object(value, '', ['apiVersion', 'kind', 'metadata', 'spec'], 'the document must be a mapping with apiVersion, kind, metadata and spec');
    if (!root) return { ok: false, problems: this.problems };
    this.literal(root.apiVersion, 'apiVersion', 'airlock/v1');
    this.literal(root.kind, 'kind', 'Policy');
    const metadata = this.object(root.metadata, 'metadata', ['name']);
    const name = metadata ? this.name(metadata.name) : undefined;
    const spec = this.spec(root.spec);
    if (this.problems.length > 0 || name === undefined || spec === undefined) return { ok: false, name, problems: this.problems };
    return { ok: true, document: { name, spec } };
  }

  private name(value: unknown): string | undefined {
    if (value === undefined) return this.fail('metadata.name', 'is required');
    if (typeof value !== 'string' || !NAME_PATTERN.test(value)) return this.fail('metadata.name', NAME_RULE);
    return value;
  }

  private spec(value: unknown): PolicySpec | undefined {
    const spec = this.object(value, 'spec', ['subjects', 'connections', 'access', 'accessDuration', 'rules', 'default', 'review', 'reviewMode', 'unknownFunctions', 'masking', 'ssh', 'recordingFailure']);
    if (!spec) return undefined;
    const subjects = this.strings(spec.subjects, 'spec.subjects', 'subject', (s, path) => this.subject(s, path));
    const connections = this.strings(spec.connections, 'spec.connections', 'connection', (s, path) => this.connection(s, path));
    const access = this.oneOf(spec.access, 'spec.access', ACCESS_MODES) ?? 'allow';
    const accessDurationSeconds = this.accessDuration(spec.accessDuration, access);
    const rules = this.rules(spec.rules);
    const defaultVerdict = spec.default === undefined ? this.fail('spec.default', `is required: one of ${VERDICTS.join(', ')}`) : this.oneOf(spec.default, 'spec.default', VERDICTS);
    const reviewMode = this.oneOf(spec.reviewMode, 'spec.reviewMode', REVIEW_MODES) ?? 'wait';
    const unknownFunctions = this.oneOf(spec.unknownFunctions, 'spec.unknownFunctions', UNKNOWN_FUNCTION_MODES) ?? 'trust';
    const review = spec.review === undefined ? null : this.review(spec.review);
    const masking = this.maskingRules(spec.masking);
    const ssh = spec.ssh === undefined ? undefined : this.ssh(spec.ssh);
    const recordingFailure = spec.recordingFailure === undefined ? undefined : this.oneOf(spec.recordingFailure, 'spec.recordingFailure', RECORDING_FAILURE_MODES);
    const needsReview = whyReviewIsNeeded(access, defaultVerdict, rules ?? []);
    if (spec.review === undefined && needsReview) {
      this.fail('spec.review', `is required because ${needsReview}: it names the reviewers and how many approvals are needed`);
    }
    if (!subjects || !connections || !rules || !defaultVerdict || review === undefined || !masking) return undefined;
    return {
      subjects, connections, access, accessDurationSeconds, rules, default: defaultVerdict, review, reviewMode, unknownFunctions,
      ...(masking.length > 0 ? { masking } : {}),
      ...(ssh ? { ssh } : {}),
      ...(recordingFailure ? { recordingFailure } : {}),
    };
  }

  private ssh(value: unknown): SshSpec | undefined {
    const ssh = this.object(value, 'spec.ssh', ['portForwarding', 'agentForwarding']);
    if (!ssh) return undefined;
    const flag = (v: unknown, path: string): boolean => {
      if (v === undefined) return false;
      if (typeof v === 'boolean') return v;
      this.fail(path, 'must be true or false');
      return false;
    };
    return { portForwarding: flag(ssh.portForwarding, 'spec.ssh.portForwarding'), agentForwarding: flag(ssh.agentForwarding, 'spec.ssh.agentForwarding') };
  }

  private accessDuration(value: unknown, access: AccessMode): number | null {
    if (value === undefined) return access === 'review' ? DEFAULT_ACCESS_DURATION_SECONDS : null;
    if (access !== 'review') return this.fail('spec.accessDuration', 'only applies when spec.access is review') ?? null;
    return this.duration(value, 'spec.accessDuration', MAX_ACCESS_DURATION_SECONDS) ?? null;
  }

  private rules(value: unknown): PolicyRule[] | undefined {
    if (value === undefined) return [];
    if (!Array.isArray(value)) return this.fail('spec.rules', 'must be a list of rules, each with match and action');
    if (value.length > MAX_LIST) return this.fail('spec.rules', `may hold at most ${MAX_LIST} rules`);
    const rules = value.map((item, i) => this.rule(item, `spec.rules[${i}]`));
    return rules.every((r): r is PolicyRule => r !== undefined) ? rules : undefined;
  }

  private rule(value: unknown, path: string): PolicyRule | undefined {
    const rule = this.object(value, path, ['match', 'action']);
    if (!rule) return undefined;
    const action = rule.action === undefined ? this.fail(`${path}.action`, `is required: one of ${VERDICTS.join(', ')}`) : this.oneOf(rule.action, `${path}.action`, VERDICTS);
    if (rule.match === undefined) return this.fail(`${path}.match`, `is required: ${MATCH_KEYS.join(', ')} to match`);
    const match = this.object(rule.match, `${path}.match`, [...MATCH_KEYS]);
    if (!match) return undefined;
    if (MATCH_KEYS.every((key) => match[key] === undefined)) {
      return this.fail(`${path}.match`, `must name at least one of ${MATCH_KEYS.join(', ')} (spec.default covers everything else)`);
    }
    const statements = this.optionalStrings(match.statements, `${path}.match.statements`, 'statement kind', (s, p) => this.statementKind(s, p));
    const tables = this.optionalStrings(match.tables, `${path}.match.tables`, 'table', (s, p) => this.table(s, p));
    const patterns = this.optionalStrings(match.patterns, `${path}.match.patterns`, 'pattern', (s, p) => this.pattern(s, p));
    const commands = this.optionalStrings(match.commands, `${path}.match.commands`, 'command', (s, p) => s.trim() !== '' || this.reject(p, 'must not be empty'));
    const methods = this.optionalStrings(match.methods, `${path}.match.methods`, 'method', (s, p) => (HTTP_METHODS as readonly string[]).includes(s.toUpperCase()) || this.reject(p, `"${s}" is not an HTTP method: one of ${HTTP_METHODS.join(', ')}`));
    const paths = this.optionalStrings(match.paths, `${path}.match.paths`, 'path', (s, p) => s.startsWith('/') || this.reject(p, `"${s}" must start with / (globs: * within a segment, ** across segments)`));
    const kube = match.kube === undefined ? undefined : this.kube(match.kube, `${path}.match.kube`);
    if (!action || !statements || !tables || !patterns || !commands || !methods || !paths || kube === null) return undefined;
    return {
      match: {
        statements: statements as StatementKind[], tables, patterns,
        ...(commands.length > 0 ? { commands } : {}),
        ...(methods.length > 0 ? { methods: methods.map((m) => m.toUpperCase()) } : {}),
        ...(paths.length > 0 ? { paths } : {}),
        ...(kube ? { kube } : {}),
      },
      action,
    };
  }

  /** null: a problem was reported. */
  private kube(value: unknown, path: string): KubeMatch | null {
    const kube = this.object(value, path, ['verbs', 'resources', 'namespaces', 'names', 'subresources']);
    if (!kube) return null;
    if (['verbs', 'resources', 'namespaces', 'names', 'subresources'].every((k) => kube[k] === undefined)) {
      return this.fail(path, 'must name verbs, resources, namespaces, names or subresources') ?? null;
    }
    const any = (s: string, p: string) => /^[a-z0-9*][a-z0-9.*-]{0,252}$/.test(s) || this.reject(p, `"${s}" must be a lower-case Kubernetes name or a glob with *`);
    const verbs = this.optionalStrings(kube.verbs, `${path}.verbs`, 'verb', (s, p) => (KUBE_VERBS as readonly string[]).includes(s) || this.reject(p, `"${s}" is not a Kubernetes verb: one of ${KUBE_VERBS.join(', ')}`));
    const resources = this.optionalStrings(kube.resources, `${path}.resources`, 'resource', any);
    const namespaces = this.optionalStrings(kube.namespaces, `${path}.namespaces`, 'namespace', any);
    const names = this.optionalStrings(kube.names, `${path}.names`, 'name', any);
    const subresources = this.optionalStrings(kube.subresources, `${path}.subresources`, 'subresource', any);
    if (!verbs || !resources || !namespaces || !names || !subresources) return null;
    return { verbs, resources, namespaces, names, subresources };
  }

  private maskingRules(value: unknown): MaskingSpec[] | undefined {
    if (value === undefined) return [];
    if (!Array.isArray(value)) return this.fail('spec.masking', 'must be a list of masking rules, each with columns, detect or pattern, and a mode');
    if (value.length > MAX_LIST) return this.fail('spec.masking', `may hold at most ${MAX_LIST} rules`);
    const rules = value.map((item, i) => this.maskingRule(item, `spec.masking[${i}]`));
    return rules.every((r): r is MaskingSpec => r !== undefined) ? rules : undefined;
  }

  private maskingRule(value: unknown, path: string): MaskingSpec | undefined {
    const rule = this.object(value, path, ['columns', 'detect', 'pattern', 'mode', 'keep']);
    if (!rule) return undefined;
    const selectors = (['columns', 'detect', 'pattern'] as const).filter((k) => rule[k] !== undefined);
    if (selectors.length !== 1) {
      return this.fail(path, selectors.length === 0 ? 'must name columns, detect or pattern' : `must name only one of columns, detect or pattern (found ${selectors.join(', ')})`);
    }
    const mode = rule.mode === undefined ? this.fail(`${path}.mode`, `is required: one of ${MASK_MODES.join(', ')}`) : this.oneOf(rule.mode, `${path}.mode`, MASK_MODES);
    const keep = this.maskKeep(rule.keep, mode, `${path}.keep`);
    let selected: Pick<MaskingSpec, 'columns' | 'detect' | 'pattern'> | undefined;
    if (rule.columns !== undefined) {
      const columns = this.strings(rule.columns, `${path}.columns`, 'column', (s, p) => this.column(s, p));
      selected = columns && { columns };
    } else if (rule.detect !== undefined) {
      const detect = this.strings(rule.detect, `${path}.detect`, 'detector', (s, p) => MASK_DETECTORS.includes(s as MaskDetector) || this.reject(p, `"${s}" is not a detector; known detectors: ${MASK_DETECTORS.join(', ')}`));
      selected = detect && { detect: detect as MaskDetector[] };
    } else if (typeof rule.pattern !== 'string') {
      return this.fail(`${path}.pattern`, 'must be a regular expression (a string)');
    } else if (this.maskPattern(rule.pattern, `${path}.pattern`)) {
      selected = { pattern: rule.pattern };
    }
    if (!selected || !mode || keep === null) return undefined;
    return { ...selected, mode, ...(keep !== undefined ? { keep } : {}) };
  }

  /** undefined: no keep (and none needed); null: a problem was reported. */
  private maskKeep(value: unknown, mode: MaskModeName | undefined, path: string): number | undefined | null {
    if (mode !== 'keep-last') return value === undefined ? undefined : (this.fail(path, 'only applies when mode is keep-last') ?? null);
    if (value === undefined) return this.fail(path, 'is required when mode is keep-last: how many trailing characters stay visible') ?? null;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_MASK_KEEP) {
      return this.fail(path, `must be a whole number from 1 to ${MAX_MASK_KEEP}`) ?? null;
    }
    return value;
  }

  private column(value: string, path: string): boolean {
    const parts = value.split('.');
    return ((parts.length === 2 || parts.length === 3) && parts.every((p) => TABLE_PART.test(p))) || this.reject(path, `"${value}" ${COLUMN_RULE}`);
  }

  private maskPattern(value: string, path: string): boolean {
    if (value === '') return this.reject(path, 'must not be empty');
    try {
      if (new RegExp(value, MASK_PATTERN_FLAGS).test('')) return this.reject(path, 'must not match the empty string (it would mask nothing and everything)');
      return true;
    } catch (error) {
      const detail = (error as Error).message.split(': ').at(-1);
      return this.reject(path, `is not a valid regular expression (${detail})`);
    }
  }

  private review(value: unknown): ReviewSpec | undefined {
    const review = this.object(value, 'spec.review', ['reviewers', 'approvals', 'rejectOnAny', 'timeout', 'approveFor']);
    if (!review) return undefined;
    const reviewers = this.strings(review.reviewers, 'spec.review.reviewers', 'reviewer', (s, p) => this.reviewer(s, p));
    const approvals = this.approvals(review.approvals, reviewers);
    let rejectOnAny = true;
    if (review.rejectOnAny !== undefined) {
      if (typeof review.rejectOnAny === 'boolean') rejectOnAny = review.rejectOnAny;
      else this.fail('spec.review.rejectOnAny', 'must be true or false');
    }
    const timeoutSeconds = review.timeout === undefined ? DEFAULT_REVIEW_TIMEOUT_SECONDS : this.duration(review.timeout, 'spec.review.timeout', MAX_REVIEW_TIMEOUT_SECONDS);
    const approveForSeconds = review.approveFor === undefined ? 0 : this.duration(review.approveFor, 'spec.review.approveFor', MAX_APPROVE_FOR_SECONDS);
    if (!reviewers || approvals === undefined || timeoutSeconds === undefined || approveForSeconds === undefined) return undefined;
    return { reviewers, approvals, rejectOnAny, timeoutSeconds, approveForSeconds };
  }

  private approvals(value: unknown, reviewers: string[] | undefined): number | undefined {
    const path = 'spec.review.approvals';
    if (value === undefined) return this.fail(path, 'is required: how many distinct reviewers must approve');
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) return this.fail(path, 'must be a whole number of 1 or more');
    if (value > MAX_APPROVALS) return this.fail(path, `${value} exceeds the maximum of ${MAX_APPROVALS}`);
    // With only named users, the count is known; a group's size is not, so groups are not checked here.
    if (reviewers && reviewers.every((r) => r.startsWith('user:')) && value > reviewers.length) {
      const noun = reviewers.length === 1 ? 'reviewer' : 'reviewers';
      return this.fail(path, `${value} exceeds the ${reviewers.length} ${noun} listed in spec.review.reviewers`);
    }
    return value;
  }

  private subject(value: string, path: string): boolean {
    if (value === '*') return true;
    const [kind, name] = splitOnce(value, ':');
    const valid =
      (kind === 'user' && USER_NAME_PATTERN.test(name)) ||
      (kind === 'group' && GROUP_NAME_PATTERN.test(name)) ||
      (kind === 'serviceaccount' && NAME_PATTERN.test(name));
    return valid || this.reject(path, `"${value}" ${SUBJECT_RULE}`);
  }

  private reviewer(value: string, path: string): boolean {
    const [kind, name] = splitOnce(value, ':');
    const valid = (kind === 'user' && USER_NAME_PATTERN.test(name)) || (kind === 'group' && GROUP_NAME_PATTERN.test(name));
    return valid || this.reject(path, `"${value}" ${REVIEWER_RULE}`);
  }

  private connection(value: string, path: string): boolean {
    return CONNECTION_GLOB.test(value) || TAG_SELECTOR.test(value) || this.reject(path, `"${value}" ${CONNECTION_RULE}`);
  }

  private statementKind(value: string, path: string): boolean {
    if (isStatementKind(value)) return true;
    if (isStatementKind(value.toLowerCase())) return this.reject(path, `"${value}" must be lower case: ${value.toLowerCase()}`);
    const suggestion = suggestStatementKind(value);
    return this.reject(
      path,
      suggestion ? `"${value}" is not a statement kind (did you mean ${suggestion}?)` : `"${value}" is not a statement kind; known kinds: ${STATEMENT_KINDS.join(', ')}`,
    );
  }

  private table(value: string, path: string): boolean {
    const parts = value.split('.');
    if (parts.length === 1 && TABLE_PART.test(value)) {
      return this.reject(path, `"${value}" must be schema-qualified, such as public.${value} or *.${value}`);
    }
    return (parts.length === 2 && parts.every((p) => TABLE_PART.test(p))) || this.reject(path, `"${value}" ${TABLE_RULE}`);
  }

  private pattern(value: string, path: string): boolean {
    if (value === '') return this.reject(path, 'must not be empty (it would match every statement)');
    try {
      new RegExp(value, PATTERN_FLAGS);
      return true;
    } catch (error) {
      const detail = (error as Error).message.split(': ').at(-1);
      return this.reject(path, `is not a valid regular expression (${detail})`);
    }
  }

  private duration(value: unknown, path: string, max: number): number | undefined {
    const seconds = typeof value === 'string' ? parseDuration(value) : undefined;
    if (seconds === undefined) return this.fail(path, DURATION_RULE);
    if (seconds > max) return this.fail(path, `${value as string} exceeds the maximum of ${formatDuration(max)}`);
    return seconds;
  }

  private object(value: unknown, path: string, allowed: readonly string[], wrongType?: string): Obj | undefined {
    if (value === undefined) return this.fail(path, 'is required');
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return wrongType ? this.fail(path, wrongType) : this.fail(path, `must be a mapping with ${allowed.join(', ')}`);
    }
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) this.fail(join(path, key), `unknown field (expected ${allowed.join(', ')})`);
    }
    return value as Obj;
  }

  private literal(value: unknown, path: string, expected: string): void {
    if (value === undefined) this.fail(path, `is required: ${expected}`);
    else if (value !== expected) this.fail(path, `must be ${expected}`);
  }

  private oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[]): T | undefined {
    if (value === undefined) return undefined;
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
    return this.fail(path, `must be one of ${allowed.join(', ')}`);
  }

  /** A required, non-empty list of strings, each checked by `check`. */
  private strings(value: unknown, path: string, noun: string, check: (item: string, path: string) => boolean): string[] | undefined {
    if (value === undefined) return this.fail(path, `is required: a list of at least one ${noun}`);
    const list = this.optionalStrings(value, path, noun, check);
    if (list && list.length === 0) return this.fail(path, `must list at least one ${noun}`);
    return list;
  }

  private optionalStrings(value: unknown, path: string, noun: string, check: (item: string, path: string) => boolean): string[] | undefined {
    if (value === undefined) return [];
    if (!Array.isArray(value)) return this.fail(path, `must be a list of ${noun}s`);
    if (value.length > MAX_LIST) return this.fail(path, `may hold at most ${MAX_LIST} entries`);
    let valid = true;
    value.forEach((item, i) => {
      if (typeof item !== 'string') valid = this.reject(`${path}[${i}]`, `must be a ${noun} (a string)`);
      else if (!check(item, `${path}[${i}]`)) valid = false;
    });
    return valid ? [...new Set(value as string[])] : undefined;
  }

  private fail(path: string, reason: string): undefined {
    this.problems.push({ path, reason });
    return undefined;
  }

  private reject(path: string, reason: string): false {
    this.problems.push({ path, reason });
    return false;
  }
}

function whyReviewIsNeeded(access: AccessMode, defaultVerdict: Verdict | undefined, rules: PolicyRule[]): string | undefined {
  if (access === 'review') return 'spec.access is review';
  if (defaultVerdict === 'review') return 'spec.default is review';
  const index = rules.findIndex((r) => r.action === 'review');
  return index >= 0 ? `spec.rules[${index}].action is review` : undefined;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function splitOnce(value: string, separator: string): [string, string] {
  const at = value.indexOf(separator);
  return at < 0 ? [value, ''] : [value.slice(0, at), value.slice(at + 1)];
}
