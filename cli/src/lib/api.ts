/**
 * Typed client for the control plane's REST API (`/v1/...`, bearer token). Every failure becomes one
 * of the CLI errors below, so a command never has to look at a status code or a socket error.
 */
import {
  ApiError,
  AuthError,
  ControlPlaneUnreachableError,
  NotFoundError,
} from './errors.js';
import { loadProfile, type Profile } from './profile.js';
import { describeTlsFailure } from '@airlock/proto';
import type { Dispatcher } from 'undici';
import { dispatcherTrusting, readCaFile } from './tls-trust.js';
import { type IssuedLogin, LoginSession } from './login-session.js';

export {
  ApiError,
  AuthError,
  CliError,
  ControlPlaneUnreachableError,
  ExitCode,
  NotFoundError,
  NotLoggedInError,
  UsageError,
} from './errors.js';

export const DEFAULT_TIMEOUT_MS = 15_000;

export interface WhoAmI {
  subject: string;
  role: string;
  /** Absent from control planes older than local users. */
  groups?: string[];
  /** The rest is absent from control planes older than OIDC logins. */
  kind?: 'user' | 'service-account' | 'bootstrap';
  credential?: 'api-token' | 'session-token' | 'service-account-key';
  /** The local admin of `airlock dev`: no identity provider, never for production. */
  devOnly?: boolean;
  expiresAt?: string | null;
}

/** GET /v1/auth/config. */
export interface AuthSettings {
  oidc: { issuer: string; clientId: string; scopes: string[] } | null;
  sessionTokenTtlSeconds: number;
  devMode: boolean;
}

export type Role = 'admin' | 'reviewer' | 'user' | 'auditor';
export const ROLES: readonly Role[] = ['admin', 'reviewer', 'user', 'auditor'];

export interface ServiceAccount {
  id: string;
  name: string;
  /** How policies, sessions and the audit log name it: `serviceaccount:NAME`. */
  subject: string;
  role: Role;
  groups: string[];
  description: string | null;
  /** The visible start of the key; the rest is never stored. */
  keyPrefix: string;
  state: 'active' | 'expired' | 'revoked';
  expiresAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
  revokedBy: string | null;
}

export interface CreateServiceAccountInput {
  name: string;
  role?: Role;
  groups?: string[];
  description?: string;
  /** A duration such as 90d or 12h. */
  expiresIn?: string;
}

export interface CreatedServiceAccount {
  serviceAccount: ServiceAccount;
  /** Shown once: the control plane keeps only its hash. */
  key: string;
}

export interface Agent {
  id: string;
  name: string;
  enrolled: boolean;
  connected: boolean;
  connectedAt: string | null;
  lastSeenAt: string | null;
  hostname: string | null;
  version: string | null;
  createdAt: string;
  /** SHA-256 fingerprint of the agent's public key, once enrolled. Absent from older control planes. */
  keyFingerprint?: string | null;
  /** Revoked agents are refused for good. Absent from older control planes. */
  revoked?: boolean;
  revokedAt?: string | null;
  revokedBy?: string | null;
}

export interface CreatedAgent {
  agent: Agent;
  /** Shown once: the control plane keeps only its hash. */
  joinToken: string;
  joinTokenExpiresAt: string;
  /** The exact command that starts the agent with this token. */
  command: string;
}

export type ConnectionType = 'postgres' | 'tcp' | 'ssh' | 'http' | 'kubernetes';
export const CONNECTION_TYPES: readonly ConnectionType[] = ['postgres', 'tcp', 'ssh', 'http', 'kubernetes'];

export interface CreateConnectionInput {
  name: string;
  type: ConnectionType;
  /** Name of the agent that reaches the target. */
  agent: string;
  host: string;
  port: number;
  database?: string;
  user?: string;
  /** Where the agent finds the secret: `env:VAR` or `file:/path`. */
  secret?: string;
  tlsMode?: string;
  tags?: Record<string, string>;
  options?: Record<string, string>;
}

export interface Connection {
  id: string;
  name: string;
  type: ConnectionType;
  agent: string;
  agentConnected: boolean;
  host: string;
  port: number;
  database: string | null;
  user: string | null;
  /** The secret reference (env:VAR or file:/path), never a secret value. */
  secret: string | null;
  tlsMode: string | null;
  tags?: Record<string, string>;
  options?: Record<string, string>;
  createdAt: string;
  /** Names of the policies that cover it; empty means admins only. Absent from older control planes. */
  policies?: string[];
  /** ssh connections: the serving agent's host key (`ssh-ed25519 AAAA...`), null until it reported one. */
  sshHostKey?: string | null;
  /** ssh connections: `SHA256:...` of sshHostKey, as ssh prints it. */
  sshHostKeyFingerprint?: string | null;
}

export interface User {
  id: string;
  name: string;
  /** How policies, sessions and the audit log name the user: `user:NAME`. */
  subject: string;
  role: Role;
  groups: string[];
  createdAt: string;
  createdBy: string;
  /** local, oidc (provisioned at first login) or dev (the admin of airlock dev). Absent from older control planes. */
  source?: string;
}

export interface CreateUserInput {
  name: string;
  groups?: string[];
  role?: Role;
}

export interface CreatedUser {
  user: User;
  /** Shown once: the control plane keeps only its hash. */
  token: string;
  /** The exact `airlock login` command for the new user. */
  login: string;
}

export interface AppliedPolicy {
  name: string;
  version: number;
  changed: boolean;
  outcome: 'created' | 'configured' | 'unchanged';
}

export interface PolicySummary {
  name: string;
  version: number;
  subjects: string[];
  connections: string[];
  access: string;
  default: string;
  reviewMode: string;
  rules: number;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
}

export interface PolicyDetail extends PolicySummary {
  /** The document as applied, comments included. */
  document: string;
  spec: Record<string, unknown>;
}

export interface PolicyVersion {
  version: number;
  appliedAt: string;
  appliedBy: string;
  document: string;
}

export interface PolicyVersions {
  name: string;
  deletedAt: string | null;
  versions: PolicyVersion[];
}

export interface Session {
  id: string;
  connection: string;
  connectionId: string;
  agentId: string;
  subject: string;
  mode: string;
  clientAddress: string | null;
  status: string;
  startedAt: string;
  endedAt: string | null;
  bytesFromClient: number;
  bytesToClient: number;
  error: { code: string; message: string } | null;
}

/** A recorded statement as the server sends it; field names are read defensively (see statements.ts). */
export type RawStatement = Record<string, unknown>;

export interface SessionDetail extends Session {
  statements: RawStatement[];
}

/** GET /v1/sessions/:id/statements: what a follower has not seen yet, and the session's state. */
export interface SessionStatementsPage {
  /** As it was just before the statements were read: once it has ended, no statement is missing. */
  session: Session;
  statements: RawStatement[];
  /** More statements follow the last one in this page. */
  more: boolean;
}

/** POST /v1/sessions/:id/kill: the order left for the agent; the session ends shortly after. */
export interface SessionKillOrder {
  session: Session;
  /** What the client is told with its 57P01 error. */
  reason: string;
}

export interface ListSessionsQuery {
  limit?: number;
  connection?: string;
}

/** A just-in-time grant (grants/grant.views.ts): an approved access review, in force until it expires or is revoked. */
export interface Grant {
  id: number;
  subject: string;
  connection: string;
  reviewId: number;
  policy: string;
  state: 'active' | 'revoked' | 'expired';
  startsAt: string;
  expiresAt: string;
  revokedAt: string | null;
  revokedBy: string | null;
}

/** An audit event (audit/audit.views.ts): each carries the hash of the one before it. */
export interface AuditEvent {
  id: number;
  at: string;
  actor: string;
  kind: string;
  target: string;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export interface AuditFilter {
  actor?: string;
  /** A kind (`policy.applied`) or a domain of kinds (`review.`). */
  kind?: string;
  target?: string;
  connection?: string;
  /** ISO-8601. */
  since?: string;
  until?: string;
}

export interface AuditPage {
  events: AuditEvent[];
  /** Pass as `cursor` for older events; null on the last page. */
  nextCursor: string | null;
}

/** GET /v1/audit/verify: the chain is intact, or the first event that breaks it. */
export type AuditVerification =
  | { ok: true; events: number; head: string }
  | { ok: false; firstBadEventId: number; problem: 'altered' | 'removed' | 'reordered' | 'inserted'; message: string };

/** A request body sent as it is (e.g. a YAML document), not as JSON. */
export class RawBody {
  constructor(
    readonly text: string,
    readonly contentType: string,
  ) {}
}

export interface ApiClientOptions {
  url: string;
  token: string;
  timeoutMs?: number;
  /** PEM of the one CA to trust for an https:// URL (a pinned CA); unset trusts the system's CAs. */
  caPem?: string;
  /** An OIDC login: its session token is refreshed before it expires and once after a 401. */
  session?: LoginSession;
}

export class ApiClient {
  readonly url: string;
  private readonly token: string;
  private readonly timeoutMs: number;
  private readonly dispatcher: Dispatcher | undefined;
  private readonly session: LoginSession | undefined;

  constructor(options: ApiClientOptions) {
    this.session = options.session;
    this.url = options.url.replace(/\/+$/, '');
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.dispatcher = dispatcherTrusting(options.caPem);
  }

  static fromProfile(profile: Profile): ApiClient {
    return new ApiClient({ url: profile.url, token: profile.token, caPem: profile.caFile ? readCaFile(profile.caFile) : undefined, session: LoginSession.of(profile) });
  }

  /** A client for the saved login (or AIRLOCK_URL / AIRLOCK_TOKEN); throws NotLoggedInError. */
  static forCurrentProfile(env: NodeJS.ProcessEnv = process.env): ApiClient {
    return ApiClient.fromProfile(loadProfile(env));
  }

  whoami(): Promise<WhoAmI> {
    return this.request('GET', '/v1/whoami');
  }

  /** How this control plane lets people log in (public). */
  authSettings(): Promise<AuthSettings> {
    return this.request('GET', '/v1/auth/config');
  }

  /** Trades an ID token from the identity provider for this control plane's session and refresh tokens (public). */
  loginWithIdToken(idToken: string, flow: 'device' | 'pkce', nonce?: string): Promise<IssuedLogin> {
    return this.request('POST', '/v1/auth/oidc', { idToken, flow, ...(nonce ? { nonce } : {}) });
  }

  /** Ends the login the refresh token belongs to (public). */
  async logout(refreshToken: string): Promise<void> {
    await this.request('POST', '/v1/auth/logout', { refreshToken });
  }

  createServiceAccount(input: CreateServiceAccountInput): Promise<CreatedServiceAccount> {
    return this.request('POST', '/v1/service-accounts', input);
  }

  listServiceAccounts(all: boolean): Promise<ServiceAccount[]> {
    return this.request<{ serviceAccounts: ServiceAccount[] }>('GET', `/v1/service-accounts${all ? '?all=true' : ''}`).then((r) => r.serviceAccounts);
  }

  revokeServiceAccount(name: string): Promise<ServiceAccount> {
    return this.request('DELETE', `/v1/service-accounts/${encodeURIComponent(name)}`);
  }

  createAgent(name: string): Promise<CreatedAgent> {
    return this.request('POST', '/v1/agents', { name });
  }

  listAgents(): Promise<Agent[]> {
    return this.request<{ agents: Agent[] }>('GET', '/v1/agents').then((r) => r.agents);
  }

  /** Closes the agent's streams now and refuses it from then on. */
  revokeAgent(name: string): Promise<Agent> {
    return this.request('POST', `/v1/agents/${encodeURIComponent(name)}/revoke`);
  }

  async deleteAgent(name: string): Promise<void> {
    await this.request('DELETE', `/v1/agents/${encodeURIComponent(name)}`);
  }

  createConnection(input: CreateConnectionInput): Promise<Connection> {
    return this.request('POST', '/v1/connections', input);
  }

  listConnections(): Promise<Connection[]> {
    return this.request<{ connections: Connection[] }>('GET', '/v1/connections').then((r) => r.connections);
  }

  getConnection(name: string): Promise<Connection> {
    return this.request('GET', `/v1/connections/${encodeURIComponent(name)}`);
  }

  async deleteConnection(name: string): Promise<void> {
    await this.request('DELETE', `/v1/connections/${encodeURIComponent(name)}`);
  }

  createUser(input: CreateUserInput): Promise<CreatedUser> {
    return this.request('POST', '/v1/users', input);
  }

  listUsers(): Promise<User[]> {
    return this.request<{ users: User[] }>('GET', '/v1/users').then((r) => r.users);
  }

  async deleteUser(name: string): Promise<void> {
    await this.request('DELETE', `/v1/users/${encodeURIComponent(name)}`);
  }

  /** Sends a policy document (YAML or JSON text) as it is; the control plane validates it. */
  applyPolicy(document: string): Promise<AppliedPolicy> {
    return this.request('POST', '/v1/policies:apply', new RawBody(document, 'application/yaml'));
  }

  listPolicies(): Promise<PolicySummary[]> {
    return this.request<{ policies: PolicySummary[] }>('GET', '/v1/policies').then((r) => r.policies);
  }

  getPolicy(name: string): Promise<PolicyDetail> {
    return this.request('GET', `/v1/policies/${encodeURIComponent(name)}`);
  }

  policyVersions(name: string): Promise<PolicyVersions> {
    return this.request('GET', `/v1/policies/${encodeURIComponent(name)}/versions`);
  }

  async deletePolicy(name: string): Promise<void> {
    await this.request('DELETE', `/v1/policies/${encodeURIComponent(name)}`);
  }

  listSessions(query: ListSessionsQuery = {}): Promise<Session[]> {
    const params = new URLSearchParams();
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.connection) params.set('connection', query.connection);
    const search = params.size > 0 ? `?${params}` : '';
    return this.request<{ sessions: Session[] }>('GET', `/v1/sessions${search}`).then((r) => r.sessions);
  }

  getSession(id: string): Promise<SessionDetail> {
    return this.request('GET', `/v1/sessions/${encodeURIComponent(id)}`);
  }

  /** Statements recorded after sequence number `after`, and the session's status (`airlock sessions tail`). */
  sessionStatementsAfter(id: string, after: number): Promise<SessionStatementsPage> {
    return this.request('GET', `/v1/sessions/${encodeURIComponent(id)}/statements?after=${after}`);
  }

  /** Admins only: tells the session's agent to end it now. */
  killSession(id: string, reason?: string): Promise<SessionKillOrder> {
    return this.request('POST', `/v1/sessions/${encodeURIComponent(id)}/kill`, reason === undefined ? {} : { reason });
  }

  /** Grants newest first: the caller's own, or everyone's for an admin; `active` keeps those in force now. */
  listGrants(active: boolean): Promise<Grant[]> {
    return this.request<{ grants: Grant[] }>('GET', `/v1/grants${active ? '?active=true' : ''}`).then((r) => r.grants);
  }

  /** Newest first. */
  listAudit(query: AuditFilter & { limit?: number; cursor?: string } = {}): Promise<AuditPage> {
    return this.request('GET', `/v1/audit${searchOf(query)}`);
  }

  verifyAudit(): Promise<AuditVerification> {
    return this.request('GET', '/v1/audit/verify');
  }

  /** Oldest first, one JSON object per line, as the control plane streams it. */
  exportAudit(query: AuditFilter & { format?: 'jsonl' } = {}): Promise<ReadableStream<Uint8Array>> {
    return this.openStream(`/v1/audit/export${searchOf(query)}`);
  }

  /** A session's terminal recording (asciicast v2) as stored, or undefined when it has none. */
  async openRecording(id: string): Promise<ReadableStream<Uint8Array> | undefined> {
    try {
      return await this.openStream(`/v1/sessions/${encodeURIComponent(id)}/recording`);
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  revokeGrant(id: string): Promise<Grant> {
    return this.request('DELETE', `/v1/grants/${encodeURIComponent(id)}`);
  }

  /**
   * One authenticated request; resolves to the parsed JSON body (undefined when empty). The body is
   * sent as JSON, or as it is when given as a RawBody.
   */
  async request<T>(method: string, path: string, body?: unknown, retried = false): Promise<T> {
    const token = this.session ? await this.session.fresh() : this.token;
    const headers: Record<string, string> = {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      accept: 'application/json',
    };
    const raw = body instanceof RawBody ? body : undefined;
    if (body !== undefined) headers['content-type'] = raw ? raw.contentType : 'application/json';
    let response: Response;
    let text: string;
    try {
      response = await fetch(this.url + path, {
        method,
        headers,
        body: raw ? raw.text : body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
        ...this.trust(),
      });
      text = await response.text();
    } catch (err) {
      throw new ControlPlaneUnreachableError(this.url, describeFetchFailure(err, this.timeoutMs));
    }
    if (response.status === 401 && this.session && !retried && (await this.session.refreshAfterRefusal(token))) {
      return this.request(method, path, body, true);
    }
    if (!response.ok) throw this.errorFor(response, text);
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(
        `the control plane at ${this.url} answered ${method} ${path} with a body that is not JSON`,
        response.status,
        'invalid_response',
      );
    }
  }

  /**
   * A GET whose body is streamed rather than read whole: the timeout covers waiting for the answer to
   * start, not how long the body takes.
   */
  async openStream(path: string): Promise<ReadableStream<Uint8Array>> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException('no answer', 'TimeoutError')), this.timeoutMs);
    let response: Response;
    try {
      const token = this.session ? await this.session.fresh() : this.token;
      response = await fetch(this.url + path, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal, ...this.trust() });
    } catch (err) {
      throw new ControlPlaneUnreachableError(this.url, describeFetchFailure(err, this.timeoutMs));
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok || !response.body) throw this.errorFor(response, await response.text());
    return response.body;
  }

  /** The pinned CA, as fetch takes it (undici's dispatcher option). */
  private trust(): RequestInit {
    return (this.dispatcher ? { dispatcher: this.dispatcher } : {}) as RequestInit;
  }

  private errorFor(response: Response, text: string): ApiError {
    const { code, message } = parseErrorBody(text, response);
    if (response.status === 401) {
      return new AuthError(
        `the control plane refused your token (${message}); run airlock login`,
        response.status,
        code,
        message,
      );
    }
    if (response.status === 403) return new AuthError(message, response.status, code);
    if (response.status === 404) return new NotFoundError(message, response.status, code);
    return new ApiError(message, response.status, code);
  }
}

/** `?a=1&b=2` from the defined values, or '' when there are none. */
function searchOf(query: object): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query) as Array<[string, unknown]>) if (value !== undefined && value !== '') params.set(key, String(value));
  return params.size > 0 ? `?${params}` : '';
}

function parseErrorBody(text: string, response: Response): { code: string; message: string } {
  const fallback = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    const code = typeof body.error === 'string' ? body.error : `http_${response.status}`;
    const message = typeof body.message === 'string' && body.message ? body.message : `${code} (${fallback})`;
    return { code, message };
  } catch {
    return { code: `http_${response.status}`, message: fallback };
  }
}

/** Turns undici's `TypeError: fetch failed` into the socket-level reason a person can act on. */
function describeFetchFailure(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return `no answer within ${timeoutMs / 1000}s`;
  }
  const cause = (err as { cause?: unknown })?.cause;
  const tls = describeTlsFailure(err);
  if (tls) return tls;
  // A happy-eyeballs failure is an AggregateError with an empty message: its inner errors say why.
  const candidates = [cause, ...nestedErrors(cause), err];
  for (const candidate of candidates) {
    if (candidate instanceof Error && candidate.message) return candidate.message;
  }
  for (const candidate of candidates) {
    const code = (candidate as { code?: unknown })?.code;
    if (typeof code === 'string') return code;
  }
  return String(err);
}

function nestedErrors(value: unknown): unknown[] {
  const errors = (value as { errors?: unknown })?.errors;
  return Array.isArray(errors) ? errors : [];
}
