/**
 * A stand-in for the control plane's REST API, for CLI tests only: a real node:http server on
 * 127.0.0.1 serving the /v1 routes from canned, in-memory data and checking the bearer token.
 *
 * Its JSON mirrors the real control plane (control-plane/src: `*.controller.ts`, `*.views.ts`,
 * `common/http-error.filter.ts`, `identity/bearer-auth.guard.ts`): list routes wrap their rows
 * (`{ agents }`, `{ connections }`, `{ sessions }`), ids are UUIDs, errors are `{ error, message }`
 * with the real codes and sentences, and a 401 carries `WWW-Authenticate: Bearer`. Keep it in step
 * with those files; the real control plane itself is covered by the e2e tests.
 *
 * Policy documents are validated by the control plane's own parser (`@airlock/control-plane/policy-document`),
 * so `airlock apply` sees exactly the problems the real control plane would report.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeProblems, parsePolicyDocument, type PolicySpec } from '@airlock/control-plane/policy-document';
import { FakeAccess } from './fake-access.js';
import { FakeAudit, JsonLines } from './fake-audit.js';

/** Admins (identity/api-token.entity.ts roles: admin, user). */
export const ALICE = { token: 'alk_admin_AliceAliceAliceAliceAliceAlice0', subject: 'alice@example.com', role: 'admin', groups: [] as string[] };
export const BOB = { token: 'alk_admin_BobBobBobBobBobBobBobBobBobBob00', subject: 'bob@example.com', role: 'admin', groups: [] as string[] };
/** A local user: not an admin (identity/users.service.ts). */
export const CAROL = { token: 'alk_user_CarolCarolCarolCarolCarolCaro', subject: 'user:carol', role: 'user', groups: ['engineers'] };
/** Local users in group dba: they review access requests (fake-access.ts). */
export const DORA = { token: 'alk_user_DoraDoraDoraDoraDoraDoraDoraD', subject: 'user:dora', role: 'user', groups: ['dba'] };
export const ED = { token: 'alk_user_EdEdEdEdEdEdEdEdEdEdEdEdEdEdE', subject: 'user:ed', role: 'user', groups: ['dba'] };

/** The token every `POST /v1/users` hands out (real ones are `alk_user_` + 32 random base62). */
export const USER_TOKEN = 'alk_user_9Xk2mP7qRt4Lw8Zn3Vb6Yc1Hd5Jf0gAs';

const NOW = '2025-11-25T07:00:00.000Z';

/** The join token every `POST /v1/agents` hands out (real ones are `alk_join_` + 32 random base62). */
export const JOIN_TOKEN = 'alk_join_7Qm2xV9pLk4RtY8sWn3Bc6Hd1Fg5Jz0a';

/** Messages the real control plane sends (identity/bearer-auth.guard.ts). */
export const INVALID_TOKEN_MESSAGE = 'the bearer token is not valid or has been revoked; log in again with `airlock login`';

export const LONG_STATEMENT =
  'SELECT o.id, o.customer_id, o.total_cents, o.created_at FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.country = $1 ORDER BY o.created_at DESC LIMIT 100';

/** Deterministic UUIDs, so tests can name the rows they expect. */
function uuid(n: number): string {
  return `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

export const IDS = {
  east: uuid(1),
  west: uuid(2),
  pgProd: uuid(11),
  /** A connection deleted since its session: sessions outlive their connection. */
  pgStaging: uuid(12),
  closedSession: uuid(21),
  openSession: uuid(22),
  failedSession: uuid(23),
  /** Well-formed but unknown. */
  unknownSession: uuid(99),
};

const TLS_MODES = ['disable', 'prefer', 'require', 'verify-full'];
const MAX_SESSION_LIST_LIMIT = 500;
const DEFAULT_JOIN_TOKEN_TTL_SECONDS = 3600;

/** GET /v1/agents row (agents/agent.views.ts AgentView). */
export interface AgentView {
  id: string;
  name: string;
  enrolled: boolean;
  connected: boolean;
  connectedAt: string | null;
  lastSeenAt: string | null;
  hostname: string | null;
  version: string | null;
  keyFingerprint: string | null;
  revoked: boolean;
  revokedAt: string | null;
  revokedBy: string | null;
  enrolledAt: string | null;
  joinTokenExpiresAt: string | null;
  createdAt: string;
}

/** connections/connection.views.ts ConnectionView. */
export interface ConnectionView {
  id: string;
  name: string;
  type: string;
  agent: string;
  agentConnected: boolean;
  host: string;
  port: number;
  database: string | null;
  user: string | null;
  secret: string | null;
  tlsMode: string;
  createdAt: string;
  tags: Record<string, string>;
  /** Names of the live policies covering it. */
  policies: string[];
}

/** identity/user.views.ts UserView. */
export interface UserView {
  id: string;
  name: string;
  subject: string;
  role: string;
  groups: string[];
  createdAt: string;
  createdBy: string;
}

/** A policy as stored: policies/policy.entity.ts plus its versions (policy-version.entity.ts). */
export interface StoredPolicy {
  name: string;
  version: number;
  document: string;
  spec: PolicySpec;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
  deletedAt: string | null;
  versions: Array<{ version: number; appliedAt: string; appliedBy: string; document: string }>;
}

/** sessions/session.views.ts StatementView. */
export interface StatementView {
  sequence: number;
  protocol: string;
  text: string;
  startedAt: string;
  durationMs: number;
  rows: number | null;
  commandTag: string | null;
  error: { sqlstate: string | null; message: string } | null;
  /** allowed | denied | approved | rejected; null without a policy. Optional here: older fixtures leave them out. */
  verdict?: string | null;
  reviewId?: number | null;
}

/** sessions/session.views.ts SessionView; the detail route adds `statements`. */
export interface SessionView {
  id: string;
  connection: string;
  connectionId: string;
  agentId: string;
  subject: string;
  mode: string;
  clientAddress: string | null;
  status: 'opening' | 'open' | 'closed' | 'failed';
  startedAt: string;
  endedAt: string | null;
  bytesFromClient: number;
  bytesToClient: number;
  error: { code: string; message: string } | null;
}

export type SessionDetailView = SessionView & { statements: StatementView[] };

interface Caller {
  subject: string;
  role: string;
  groups: string[];
}

interface Request {
  body: Record<string, unknown>;
  /** The body as text, for YAML (policies/policies.controller.ts POLICY_TEXT_TYPES). */
  text: string | undefined;
  url: URL;
  user: Caller;
}

interface Route {
  method: string;
  pattern: RegExp;
  handle: (match: string[], request: Request) => [number, unknown?];
  /** @AdminOnly(action): completes "only admins may <action>". */
  adminOnly?: string;
}

const POLICY_TEXT_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml', 'text/plain'];
const HOW_TO_SEND = 'send the policy document with Content-Type: application/yaml, or as JSON {"document": "<yaml or json text>"}';

type Reply = [number, unknown?];

export class FakeControlPlane {
  readonly requests: Array<{ method: string; path: string; body: unknown }> = [];
  /** Kept in name order, as the real list route returns them. */
  agents: AgentView[] = [
    {
      id: IDS.east, name: 'east', enrolled: true, connected: true, connectedAt: '2025-11-25T06:59:00.000Z',
      lastSeenAt: NOW, hostname: 'db-gw-1', version: '0.1.0', keyFingerprint: 'SHA256:3fZk81QaTestFingerprintOfTheEastAgentsKey01',
      revoked: false, revokedAt: null, revokedBy: null,
      enrolledAt: '2025-11-24T12:00:00.000Z', joinTokenExpiresAt: null, createdAt: '2025-11-24T11:58:00.000Z',
    },
    {
      id: IDS.west, name: 'west', enrolled: false, connected: false, connectedAt: null, lastSeenAt: null,
      hostname: null, version: null, keyFingerprint: null, revoked: false, revokedAt: null, revokedBy: null, enrolledAt: null,
      joinTokenExpiresAt: '2025-11-25T08:00:00.000Z', createdAt: NOW,
    },
  ];
  connections: ConnectionView[] = [
    {
      id: IDS.pgProd, name: 'pg-prod', type: 'postgres', agent: 'east', agentConnected: true,
      host: '10.0.0.5', port: 5432, database: 'shop', user: 'app', secret: 'env:PG_PASSWORD',
      tlsMode: 'require', createdAt: NOW, tags: {}, policies: [],
    },
  ];
  /** Local users, by name (identity/users.controller.ts). */
  localUsers: UserView[] = [
    { id: uuid(31), name: 'carol', subject: CAROL.subject, role: 'user', groups: CAROL.groups, createdAt: NOW, createdBy: ALICE.subject },
  ];
  /** Every policy ever applied, deleted ones included (deletedAt set). */
  policies: StoredPolicy[] = [];
  sessions: SessionDetailView[] = [
    {
      id: IDS.closedSession, connection: 'pg-prod', connectionId: IDS.pgProd, agentId: IDS.east,
      subject: ALICE.subject, mode: 'tunnel', clientAddress: '127.0.0.1:51234', status: 'closed',
      startedAt: '2025-11-25T06:00:00.000Z', endedAt: '2025-11-25T06:03:12.000Z',
      bytesFromClient: 2048, bytesToClient: 1_572_864, error: null,
      statements: [
        statement(1, 'select 1', 0.42, 1, 'SELECT 1'),
        statement(2, LONG_STATEMENT, 1530, 100, 'SELECT 100'),
        { ...statement(3, 'select * from nope', 3, null, null), error: { sqlstate: '42P01', message: 'relation "nope" does not exist' } },
      ],
    },
    {
      id: IDS.openSession, connection: 'pg-staging', connectionId: IDS.pgStaging, agentId: IDS.west,
      subject: BOB.subject, mode: 'exec', clientAddress: null, status: 'open', startedAt: NOW, endedAt: null,
      bytesFromClient: 10, bytesToClient: 0, error: null, statements: [],
    },
    {
      id: IDS.failedSession, connection: 'pg-prod', connectionId: IDS.pgProd, agentId: IDS.east,
      subject: ALICE.subject, mode: 'tunnel', clientAddress: '127.0.0.1:50000', status: 'failed',
      startedAt: '2025-11-25T05:00:00.000Z', endedAt: '2025-11-25T05:00:01.500Z', bytesFromClient: 0, bytesToClient: 0,
      error: { code: 'agent_disconnected', message: 'the agent went away in the middle of the session' },
      statements: [],
    },
  ];

  /** Kill orders pushed to agents (agents/agent-link.ts AgentLink.kill). */
  readonly kills: Array<{ sessionId: string; reason: string }> = [];
  /** Like the real agent, end a killed session at once (as failed: killed); false plays an agent that never reports. */
  agentEndsKilledSessions = true;

  private server: Server | undefined;
  private nextId = 100;
  /** Tokens the fake accepts: the fixed ones, plus one per user created (deleting the user revokes it). */
  private readonly tokens = new Map<string, Caller & { user?: string }>(
    [ALICE, BOB, CAROL, DORA, ED].map(({ token, ...caller }) => [token, { ...caller, user: caller.role === 'user' ? caller.subject.replace(/^user:/, '') : undefined }]),
  );
  /** Access reviews and grants (fake-access.ts); tests decide reviews through it as another person would. */
  readonly access = new FakeAccess((name) => this.connections.some((c) => c.name === name));
  /** The audit log (fake-audit.ts); tests may append events or break the chain. */
  readonly audit = new FakeAudit();
  private readonly routes: Route[] = [
    { method: 'GET', pattern: /^\/v1\/audit$/, handle: (_, { url }) => this.audit.list(url), adminOnly: 'read the audit log' },
    { method: 'GET', pattern: /^\/v1\/audit\/verify$/, handle: () => this.audit.verify(), adminOnly: 'read the audit log' },
    { method: 'GET', pattern: /^\/v1\/audit\/export$/, handle: (_, { url }) => this.audit.export(url), adminOnly: 'read the audit log' },
    { method: 'GET', pattern: /^\/v1\/whoami$/, handle: (_, { user }) => [200, user] },
    { method: 'GET', pattern: /^\/v1\/agents$/, handle: () => [200, { agents: this.agents }], adminOnly: 'manage agents' },
    { method: 'POST', pattern: /^\/v1\/agents$/, handle: (_, { body }) => this.createAgent(body), adminOnly: 'manage agents' },
    { method: 'DELETE', pattern: /^\/v1\/agents\/([^/]+)$/, handle: (m) => this.deleteAgent(m[1]), adminOnly: 'manage agents' },
    { method: 'POST', pattern: /^\/v1\/agents\/([^/]+)\/revoke$/, handle: (m) => this.revokeAgent(m[1]), adminOnly: 'manage agents' },
    { method: 'GET', pattern: /^\/v1\/connections$/, handle: () => [200, { connections: this.connections.map((c) => this.withPolicies(c)) }] },
    { method: 'POST', pattern: /^\/v1\/connections$/, handle: (_, { body }) => this.createConnection(body), adminOnly: 'create connections' },
    { method: 'GET', pattern: /^\/v1\/connections\/([^/]+)$/, handle: (m) => this.getConnection(m[1]) },
    { method: 'DELETE', pattern: /^\/v1\/connections\/([^/]+)$/, handle: (m) => this.deleteConnection(m[1]), adminOnly: 'delete connections' },
    { method: 'GET', pattern: /^\/v1\/sessions$/, handle: (_, { url, user }) => this.listSessions(url, user) },
    { method: 'GET', pattern: /^\/v1\/sessions\/([^/]+)$/, handle: (m, { user }) => this.getSession(m[1], user) },
    { method: 'GET', pattern: /^\/v1\/sessions\/([^/]+)\/statements$/, handle: (m, { url, user }) => this.sessionStatements(m[1], url, user) },
    { method: 'POST', pattern: /^\/v1\/sessions\/([^/]+)\/kill$/, handle: (m, { body, user }) => this.killSession(m[1], body, user), adminOnly: 'kill sessions' },
    { method: 'POST', pattern: /^\/v1\/users$/, handle: (_, { body, user }) => this.createUser(body, user), adminOnly: 'manage users' },
    { method: 'GET', pattern: /^\/v1\/users$/, handle: () => [200, { users: this.localUsers }], adminOnly: 'manage users' },
    { method: 'DELETE', pattern: /^\/v1\/users\/([^/]+)$/, handle: (m) => this.deleteUser(m[1]), adminOnly: 'manage users' },
    { method: 'POST', pattern: /^\/v1\/policies:apply$/, handle: (_, request) => this.applyPolicy(request), adminOnly: 'apply policies' },
    { method: 'GET', pattern: /^\/v1\/policies$/, handle: () => [200, { policies: this.livePolicies().map(policySummary) }] },
    { method: 'GET', pattern: /^\/v1\/policies\/([^/]+)$/, handle: (m) => this.getPolicy(m[1]) },
    { method: 'GET', pattern: /^\/v1\/policies\/([^/]+)\/versions$/, handle: (m) => this.policyVersions(m[1]) },
    { method: 'DELETE', pattern: /^\/v1\/policies\/([^/]+)$/, handle: (m) => this.deletePolicy(m[1]), adminOnly: 'delete policies' },
    { method: 'POST', pattern: /^\/v1\/access-requests$/, handle: (_, { body, user }) => this.access.request(body, user) },
    { method: 'GET', pattern: /^\/v1\/reviews\/(\d+)$/, handle: (m) => this.access.get(Number(m[1])) },
    { method: 'POST', pattern: /^\/v1\/reviews\/(\d+)\/approve$/, handle: (m, { user }) => this.access.approve(Number(m[1]), user) },
    { method: 'POST', pattern: /^\/v1\/reviews\/(\d+)\/reject$/, handle: (m, { body, user }) => this.access.reject(Number(m[1]), user, String(body.reason ?? '')) },
    { method: 'POST', pattern: /^\/v1\/reviews\/(\d+)\/cancel$/, handle: (m, { user }) => this.access.cancel(Number(m[1]), user) },
    { method: 'GET', pattern: /^\/v1\/grants$/, handle: (_, { url, user }) => this.access.list(url, user) },
    { method: 'DELETE', pattern: /^\/v1\/grants\/(\d+)$/, handle: (m, { user }) => this.access.revoke(Number(m[1]), user) },
  ];

  get url(): string {
    const { port } = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.serve(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString();
    const mediaType = (req.headers['content-type'] ?? '').split(';')[0].trim();
    const text = POLICY_TEXT_TYPES.includes(mediaType) ? raw : undefined;
    const body = text === undefined && chunks.length ? (JSON.parse(raw) as Record<string, unknown>) : {};
    this.requests.push({ method: req.method ?? '', path: url.pathname + url.search, body: text ?? body });

    // Nest matches the route first; the global bearer guard only runs for a route that exists.
    let matched: { route: Route; match: string[] } | undefined;
    for (const route of this.routes) {
      const match = req.method === route.method ? url.pathname.match(route.pattern) : null;
      if (match) {
        matched = { route, match: match.map(decodeURIComponent) };
        break;
      }
    }
    if (!matched) return send(res, 404, problem('not_found', `no such endpoint: ${req.method} ${url.pathname}`));

    const authenticated = this.authenticate(req.headers.authorization);
    if ('message' in authenticated) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return send(res, 401, problem('unauthenticated', authenticated.message));
    }
    // identity/admin-only.guard.ts
    if (matched.route.adminOnly && authenticated.role !== 'admin') {
      return send(res, 403, problem('forbidden', `only admins may ${matched.route.adminOnly}; you are signed in as ${authenticated.subject}`));
    }
    send(res, ...matched.route.handle(matched.match, { body, text, url, user: authenticated }));
  }

  /** identity/bearer-auth.guard.ts, with the same three messages. */
  private authenticate(header: string | undefined): Caller | { message: string } {
    if (header === undefined) {
      return { message: 'missing credentials: send "Authorization: Bearer <token>" (run `airlock login` first)' };
    }
    const token = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    if (token === undefined) return { message: 'the Authorization header must have the form "Bearer <token>"' };
    const known = this.tokens.get(token);
    return known ? { subject: known.subject, role: known.role, groups: known.groups } : { message: INVALID_TOKEN_MESSAGE };
  }

  private createAgent(body: Record<string, unknown>): Reply {
    const invalid = unknownFields(body, ['name', 'joinTokenTtlSeconds']);
    if (invalid) return invalid;
    const name = String(body.name ?? '');
    if (this.agents.some((a) => a.name === name)) return [409, problem('conflict', `agent "${name}" already exists`)];
    const now = new Date();
    const ttl = typeof body.joinTokenTtlSeconds === 'number' ? body.joinTokenTtlSeconds : DEFAULT_JOIN_TOKEN_TTL_SECONDS;
    const joinTokenExpiresAt = new Date(now.getTime() + ttl * 1000).toISOString();
    const created: AgentView = {
      id: uuid(this.nextId++), name, enrolled: false, connected: false, connectedAt: null, lastSeenAt: null,
      hostname: null, version: null, keyFingerprint: null, revoked: false, revokedAt: null, revokedBy: null, enrolledAt: null,
      joinTokenExpiresAt, createdAt: now.toISOString(),
    };
    this.agents = [...this.agents, created].sort(byName);
    return [201, {
      agent: created,
      joinToken: JOIN_TOKEN,
      joinTokenExpiresAt,
      command: `airlock-agent --url ${this.url} --join-token ${JOIN_TOKEN}`,
    }];
  }

  private revokeAgent(name: string): Reply {
    const agent = this.agents.find((a) => a.name === name);
    if (!agent) return [404, problem('not_found', `agent "${name}" does not exist`)];
    if (agent.revoked) return [409, problem('conflict', `agent "${name}" is already revoked (at ${agent.revokedAt} by ${agent.revokedBy})`)];
    Object.assign(agent, { revoked: true, revokedAt: NOW, revokedBy: 'user:alice', connected: false, connectedAt: null });
    return [200, agent];
  }

  private deleteAgent(name: string): Reply {
    const agent = this.agents.find((a) => a.name === name);
    if (!agent) return [404, problem('not_found', `agent "${name}" does not exist`)];
    const serving = this.connections.filter((c) => c.agent === name).map((c) => `"${c.name}"`);
    if (serving.length > 0) {
      return [409, problem('conflict', `agent "${name}" still serves connections ${serving.join(', ')}; delete them first`)];
    }
    this.agents = this.agents.filter((a) => a !== agent);
    return [204];
  }

  private createConnection(body: Record<string, unknown>): Reply {
    const invalid = unknownFields(body, ['name', 'type', 'agent', 'host', 'port', 'database', 'user', 'secret', 'tlsMode', 'tags']);
    if (invalid) return invalid;
    if (body.tlsMode !== undefined && !TLS_MODES.includes(String(body.tlsMode))) {
      return [400, problem('invalid_request', `tlsMode must be one of ${TLS_MODES.join(', ')}`)];
    }
    const agent = this.agents.find((a) => a.name === body.agent);
    if (!agent) return [404, problem('not_found', `agent "${String(body.agent)}" does not exist`)];
    if (this.connections.some((c) => c.name === body.name)) {
      return [409, problem('conflict', `connection "${String(body.name)}" already exists`)];
    }
    const created: ConnectionView = {
      id: uuid(this.nextId++),
      name: String(body.name),
      type: String(body.type),
      agent: agent.name,
      agentConnected: agent.connected,
      host: String(body.host),
      port: Number(body.port),
      database: (body.database as string | undefined) ?? null,
      user: (body.user as string | undefined) ?? null,
      secret: (body.secret as string | undefined) ?? null,
      tlsMode: (body.tlsMode as string | undefined) ?? 'prefer',
      createdAt: new Date().toISOString(),
      tags: (body.tags as Record<string, string> | undefined) ?? {},
      policies: [],
    };
    this.connections = [...this.connections, created].sort(byName);
    return [201, this.withPolicies(created)];
  }

  private getConnection(name: string): Reply {
    const connection = this.connections.find((c) => c.name === name);
    return connection ? [200, this.withPolicies(connection)] : [404, problem('not_found', `connection "${name}" does not exist`)];
  }

  /** connections.service.ts: the live policies whose spec.connections select it (by name or glob). */
  private withPolicies(connection: ConnectionView): ConnectionView {
    const covering = this.livePolicies().filter((p) => p.spec.connections.some((glob) => globMatches(glob, connection.name)));
    return { ...connection, policies: covering.map((p) => p.name) };
  }

  private deleteConnection(name: string): Reply {
    const before = this.connections.length;
    this.connections = this.connections.filter((c) => c.name !== name);
    return this.connections.length < before ? [204] : [404, problem('not_found', `connection "${name}" does not exist`)];
  }

  /** Newest first, optionally one connection's (by name); `limit` defaults to 50, at most 500; non-admins see their own. */
  private listSessions(url: URL, user: Caller): Reply {
    const unknown = [...url.searchParams.keys()].find((key) => key !== 'limit' && key !== 'connection');
    if (unknown) return [400, problem('invalid_request', `unknown field "${unknown}"`)];
    const rawLimit = url.searchParams.get('limit');
    const limit = rawLimit === null ? 50 : Number(rawLimit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SESSION_LIST_LIMIT) {
      return [400, problem('invalid_request', `limit must be an integer between 1 and ${MAX_SESSION_LIST_LIMIT}`)];
    }
    const connection = url.searchParams.get('connection');
    const sessions = this.sessions
      .filter((s) => connection === null || s.connection === connection)
      .filter((s) => user.role === 'admin' || s.subject === user.subject)
      .sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt) || a.id.localeCompare(b.id))
      .slice(0, limit)
      .map(({ statements: _, ...view }) => view);
    return [200, { sessions }];
  }

  private getSession(id: string, user: Caller): Reply {
    const session = this.sessions.find((s) => s.id === id && (user.role === 'admin' || s.subject === user.subject));
    return session ? [200, session] : [404, problem('not_found', `session "${id}" does not exist`)];
  }

  /** sessions.controller.ts statementsAfter: the session (without statements) and those after `after`. */
  private sessionStatements(id: string, url: URL, user: Caller): Reply {
    const after = Number(url.searchParams.get('after') ?? '0');
    if (!Number.isInteger(after) || after < 0) return [400, problem('invalid_request', 'after must be a sequence number (a whole number of 0 or more)')];
    const session = this.sessions.find((s) => s.id === id && (user.role === 'admin' || s.subject === user.subject));
    if (!session) return [404, problem('not_found', `session "${id}" does not exist`)];
    const { statements, ...view } = session;
    return [200, { session: view, statements: statements.filter((st) => st.sequence > after), more: false }];
  }

  /** sessions/session-kill.service.ts: 404, 409 once ended, 503 when its agent is offline, else 202. */
  private killSession(id: string, body: Record<string, unknown>, user: Caller): Reply {
    const invalid = unknownFields(body, ['reason']);
    if (invalid) return invalid;
    const session = this.sessions.find((s) => s.id === id);
    if (!session) return [404, problem('not_found', `session "${id}" does not exist`)];
    if (session.status === 'closed' || session.status === 'failed') return [409, problem('conflict', `session ${id} has already ended (${session.status})`)];
    const agent = this.agents.find((a) => a.id === session.agentId);
    if (!agent?.connected) {
      return [503, problem('agent_offline', `cannot kill session ${id}: its agent "${agent?.name ?? session.agentId}" is not connected to the control plane; try again once it reconnects`)];
    }
    const given = typeof body.reason === 'string' ? body.reason.trim() : '';
    const reason = given ? `killed by ${user.subject}: ${given}` : `killed by ${user.subject}`;
    const { statements: _, ...view } = session;
    this.kills.push({ sessionId: id, reason });
    if (this.agentEndsKilledSessions) {
      Object.assign(session, { status: 'failed', endedAt: new Date().toISOString(), error: { code: 'killed', message: `airlock: the session was ended: ${reason}` } });
    }
    return [202, { session: view, reason }];
  }

  /** identity/users.controller.ts + dto/create-user.dto.ts (the name and group checks are the real rules, abridged). */
  private createUser(body: Record<string, unknown>, actor: Caller): Reply {
    const invalid = unknownFields(body, ['name', 'groups', 'role']);
    if (invalid) return invalid;
    const name = String(body.name ?? '');
    if (!/^[a-z0-9][a-z0-9._@+-]{0,127}$/.test(name)) {
      return [400, problem('invalid_request', "name must be 1-128 lowercase letters, digits, '.', '_', '@', '+' or '-', starting with a letter or digit")];
    }
    if (body.role !== undefined && body.role !== 'admin' && body.role !== 'user') {
      return [400, problem('invalid_request', 'role must be one of admin, user')];
    }
    if (this.localUsers.some((u) => u.name === name)) return [409, problem('conflict', `user "${name}" already exists`)];
    const groups = [...new Set((body.groups as string[] | undefined) ?? [])].sort();
    const user: UserView = {
      id: uuid(this.nextId++), name, subject: `user:${name}`, role: (body.role as string | undefined) ?? 'user', groups,
      createdAt: new Date().toISOString(), createdBy: actor.subject,
    };
    this.localUsers = [...this.localUsers, user].sort(byName);
    this.tokens.set(USER_TOKEN, { subject: user.subject, role: user.role, groups, user: name });
    return [201, { user, token: USER_TOKEN, login: `airlock login --url ${this.url} --token ${USER_TOKEN}` }];
  }

  private deleteUser(name: string): Reply {
    if (!this.localUsers.some((u) => u.name === name)) return [404, problem('not_found', `user "${name}" does not exist`)];
    this.localUsers = this.localUsers.filter((u) => u.name !== name);
    for (const [token, caller] of this.tokens) if (caller.user === name) this.tokens.delete(token);
    return [204];
  }

  /** policies/policies.controller.ts apply + policies.service.ts apply. */
  private applyPolicy({ body, text, user }: Request): Reply {
    let document: string;
    if (text !== undefined) {
      if (text.trim() === '') return [400, problem('invalid_request', `the request body is empty: ${HOW_TO_SEND}`)];
      document = text;
    } else if (typeof body.document === 'string' && Object.keys(body).length === 1) {
      document = body.document;
    } else {
      return [400, problem('invalid_request', `no policy document in the request: ${HOW_TO_SEND}`)];
    }
    const parsed = parsePolicyDocument(document);
    if (!parsed.ok) {
      const message = `policy${parsed.name ? ` "${parsed.name}"` : ''} is not valid: ${describeProblems(parsed.problems)}`;
      return [400, { error: 'invalid_request', message, problems: parsed.problems }];
    }
    const { name, spec } = parsed.document;
    const now = new Date().toISOString();
    const current = this.policies.find((p) => p.name === name);
    const live = current !== undefined && current.deletedAt === null;
    if (live && JSON.stringify(current.spec) === JSON.stringify(spec)) {
      return [200, { name, version: current.version, changed: false, outcome: 'unchanged' }];
    }
    const version = (current?.version ?? 0) + 1;
    const next: StoredPolicy = {
      name, version, document, spec,
      createdAt: live ? current.createdAt : now, createdBy: live ? current.createdBy : user.subject,
      updatedAt: now, updatedBy: user.subject, deletedAt: null,
      versions: [{ version, appliedAt: now, appliedBy: user.subject, document }, ...(current?.versions ?? [])],
    };
    this.policies = [...this.policies.filter((p) => p.name !== name), next].sort(byName);
    return [200, { name, version, changed: true, outcome: live ? 'configured' : 'created' }];
  }

  private livePolicies(): StoredPolicy[] {
    return this.policies.filter((p) => p.deletedAt === null);
  }

  private getPolicy(name: string): Reply {
    const policy = this.livePolicies().find((p) => p.name === name);
    if (!policy) return [404, problem('not_found', `policy "${name}" does not exist`)];
    return [200, { ...policySummary(policy), document: policy.document, spec: policy.spec }];
  }

  private policyVersions(name: string): Reply {
    const policy = this.policies.find((p) => p.name === name);
    if (!policy) return [404, problem('not_found', `policy "${name}" does not exist`)];
    return [200, { name, deletedAt: policy.deletedAt, versions: policy.versions }];
  }

  private deletePolicy(name: string): Reply {
    const policy = this.livePolicies().find((p) => p.name === name);
    if (!policy) return [404, problem('not_found', `policy "${name}" does not exist`)];
    policy.deletedAt = new Date().toISOString();
    return [204];
  }
}

function statement(sequence: number, text: string, durationMs: number, rows: number | null, commandTag: string | null): StatementView {
  return { sequence, protocol: 'postgres', text, startedAt: NOW, durationMs, rows, commandTag, error: null };
}

/** policies/policy.views.ts PolicySummaryView. */
function policySummary(p: StoredPolicy) {
  return {
    name: p.name, version: p.version, subjects: p.spec.subjects, connections: p.spec.connections, access: p.spec.access,
    default: p.spec.default, reviewMode: p.spec.reviewMode, rules: p.spec.rules.length,
    createdAt: p.createdAt, createdBy: p.createdBy, updatedAt: p.updatedAt, updatedBy: p.updatedBy,
  };
}

/** common/globs.ts: `*` matches any run of characters. */
function globMatches(glob: string, value: string): boolean {
  const pattern = glob.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('.*');
  return new RegExp(`^${pattern}$`).test(value);
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** The validation pipe's `forbidNonWhitelisted` answer (common/validation.ts). */
function unknownFields(body: Record<string, unknown>, allowed: string[]): Reply | undefined {
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length === 0) return undefined;
  return [400, problem('invalid_request', unknown.map((key) => `unknown field "${key}"`).join('; '))];
}

function problem(error: string, message: string): { error: string; message: string } {
  return { error, message };
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  if (body instanceof JsonLines) {
    res.writeHead(status, { 'content-type': 'application/x-ndjson; charset=utf-8' }).end(body.lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

/** A port nothing listens on: bound once, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
