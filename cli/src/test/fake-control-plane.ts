/**
 * A stand-in for the control plane's REST API, for CLI tests only: a real node:http server on
 * 127.0.0.1 serving the documented /v1 routes from canned, in-memory data and checking the bearer
 * token. The real control plane is covered by the e2e tests.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const ALICE = { token: 'tok-alice', subject: 'alice@example.com', role: 'admin' };
export const BOB = { token: 'tok-bob', subject: 'bob@example.com', role: 'viewer' };

const NOW = '2025-11-25T07:00:00.000Z';

export const JOIN_COMMAND = 'AIRLOCK_JOIN_TOKEN=ajt_secret_123 airlock-agent --control-plane http://127.0.0.1:7070';

export const LONG_STATEMENT =
  'SELECT o.id, o.customer_id, o.total_cents, o.created_at FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.country = $1 ORDER BY o.created_at DESC LIMIT 100';

interface Request {
  body: Record<string, unknown>;
  url: URL;
  user: { subject: string; role: string };
}

interface Route {
  method: string;
  pattern: RegExp;
  handle: (match: string[], request: Request) => [number, unknown?];
}

export class FakeControlPlane {
  readonly requests: Array<{ method: string; path: string; body: unknown }> = [];
  agents: Record<string, unknown>[] = [
    agent('east', { enrolled: true, connected: true, hostname: 'db-gw-1', lastSeenAt: NOW }),
    agent('west', { enrolled: false, connected: false }),
  ];
  connections: Record<string, unknown>[] = [
    {
      id: 'con_1', name: 'pg-prod', type: 'postgres', agent: 'east', agentConnected: true,
      host: '10.0.0.5', port: 5432, database: 'shop', user: 'app', secretRef: 'env:PG_PASSWORD',
      tlsMode: 'require', createdAt: NOW,
    },
  ];
  sessions: Record<string, unknown>[] = [
    {
      id: 'ses_1', connection: 'pg-prod', agent: 'east', subject: ALICE.subject, mode: 'tunnel',
      clientAddress: '127.0.0.1:51234', status: 'ended', startedAt: '2025-11-25T06:00:00.000Z',
      endedAt: '2025-11-25T06:03:12.000Z', bytesFromClient: 2048, bytesToClient: 1_572_864,
      errorCode: null, errorMessage: null,
      statements: [
        { sequence: 1, text: 'select 1', startedAt: NOW, durationMs: 0.42, rows: 1, commandTag: 'SELECT 1', error: null },
        { sequence: 2, text: LONG_STATEMENT, startedAt: NOW, durationMs: 1530, rows: 100, commandTag: 'SELECT 100', error: null },
        {
          sequence: 3, text: 'select * from nope', startedAt: NOW, durationMs: 3, rows: null, commandTag: null,
          error: { sqlstate: '42P01', message: 'relation "nope" does not exist' },
        },
      ],
    },
    {
      id: 'ses_2', connection: 'pg-staging', agent: 'west', subject: BOB.subject, mode: 'exec',
      clientAddress: null, status: 'active', startedAt: NOW, endedAt: null, bytesFromClient: 10,
      bytesToClient: 0, errorCode: null, errorMessage: null, statements: [],
    },
  ];

  private server: Server | undefined;
  private readonly users = [ALICE, BOB];
  private readonly routes: Route[] = [
    { method: 'GET', pattern: /^\/v1\/whoami$/, handle: (_, { user }) => [200, user] },
    { method: 'GET', pattern: /^\/v1\/agents$/, handle: () => [200, this.agents] },
    { method: 'POST', pattern: /^\/v1\/agents$/, handle: (_, { body }) => this.createAgent(body) },
    { method: 'DELETE', pattern: /^\/v1\/agents\/([^/]+)$/, handle: (m) => this.remove(this.agents, 'agent', m[1]) },
    { method: 'GET', pattern: /^\/v1\/connections$/, handle: () => [200, this.connections] },
    { method: 'POST', pattern: /^\/v1\/connections$/, handle: (_, { body }) => this.createConnection(body) },
    { method: 'GET', pattern: /^\/v1\/connections\/([^/]+)$/, handle: (m) => this.find(this.connections, 'connection', m[1]) },
    { method: 'DELETE', pattern: /^\/v1\/connections\/([^/]+)$/, handle: (m) => this.remove(this.connections, 'connection', m[1]) },
    { method: 'GET', pattern: /^\/v1\/sessions$/, handle: (_, { url }) => [200, this.listSessions(url)] },
    { method: 'GET', pattern: /^\/v1\/sessions\/([^/]+)$/, handle: (m) => this.find(this.sessions, 'session', m[1], 'id') },
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
    const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>) : {};
    this.requests.push({ method: req.method ?? '', path: url.pathname + url.search, body });

    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const known = this.users.find((u) => u.token === token);
    if (!known) return send(res, 401, problem('invalid_token', 'token is invalid or expired'));
    const user = { subject: known.subject, role: known.role };

    for (const route of this.routes) {
      const match = req.method === route.method ? url.pathname.match(route.pattern) : null;
      if (match) return send(res, ...route.handle(match.map(decodeURIComponent), { body, url, user }));
    }
    send(res, 404, problem('route_not_found', `no route for ${req.method} ${url.pathname}`));
  }

  private createAgent(body: Record<string, unknown>): [number, unknown] {
    const name = String(body.name ?? '');
    if (this.agents.some((a) => a.name === name)) {
      return [409, problem('agent_exists', `agent "${name}" already exists`)];
    }
    const created = agent(name, { enrolled: false, connected: false });
    this.agents.push(created);
    return [201, { agent: created, joinToken: 'ajt_secret_123', joinTokenExpiresAt: '2099-01-01T00:00:00.000Z', command: JOIN_COMMAND }];
  }

  private createConnection(body: Record<string, unknown>): [number, unknown] {
    const agentRow = this.agents.find((a) => a.name === body.agent);
    if (!agentRow) return [404, problem('agent_not_found', `agent "${String(body.agent)}" does not exist`)];
    const created = {
      id: `con_${this.connections.length + 1}`, database: null, user: null, tlsMode: null, ...body,
      secretRef: body.secret ?? null, agentConnected: agentRow.connected, createdAt: NOW,
    };
    delete (created as Record<string, unknown>).secret;
    this.connections.push(created);
    return [201, created];
  }

  private listSessions(url: URL): unknown[] {
    const connection = url.searchParams.get('connection');
    const limit = Number(url.searchParams.get('limit') ?? 50);
    return this.sessions
      .filter((s) => !connection || s.connection === connection)
      .slice(0, limit)
      .map(({ statements: _, ...summary }) => summary);
  }

  private find(rows: Record<string, unknown>[], kind: string, key: string, field = 'name'): [number, unknown] {
    const row = rows.find((r) => r[field] === key);
    return row ? [200, row] : [404, problem(`${kind}_not_found`, `${kind} "${key}" does not exist`)];
  }

  private remove(rows: Record<string, unknown>[], kind: string, name: string): [number, unknown?] {
    const index = rows.findIndex((r) => r.name === name);
    if (index < 0) return [404, problem(`${kind}_not_found`, `${kind} "${name}" does not exist`)];
    rows.splice(index, 1);
    return [204];
  }
}

function agent(name: string, fields: Record<string, unknown>): Record<string, unknown> {
  return {
    id: `agt_${name}`, name, enrolled: false, connected: false, connectedAt: null, lastSeenAt: null,
    hostname: null, version: null, createdAt: NOW, ...fields,
  };
}

function problem(error: string, message: string): { error: string; message: string } {
  return { error, message };
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** A port nothing listens on: bound once, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
