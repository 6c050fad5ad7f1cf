/**
 * HTTP targets through the whole path, as a person uses them: `airlock connect internal-api` opens a
 * local port, the real `curl` talks to it, the agent presents the API token only it knows, policy on
 * method and path allows, holds (bob approves with the real CLI) or denies, and every request is in
 * the session record. The target is a small node HTTP service that records what reached it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTargetServer, type TargetServer } from '../data-agent/src/protocols/http/test-support/target-server.js';
import { freePort, runCli, runCommand, spawnCli } from './support/index.js';
import { startStack, type Stack } from './harness/stack.js';

const API_TOKEN = 'tok_e2e_internal_api_7f3a9c';

const POLICY = `apiVersion: airlock/v1
kind: Policy
metadata:
  name: internal-api
spec:
  subjects: ["group:engineers"]
  connections: ["internal-api", "down-api"]
  access: allow
  rules:
    - match: { methods: [DELETE], paths: ["/admin/users/**"] }
      action: deny
    - match: { methods: [POST, DELETE], paths: ["/admin/**"] }
      action: review
    - match: { methods: [GET, HEAD] }
      action: allow
  default: deny
  review:
    reviewers: ["group:ops"]
    approvals: 1
    timeout: 15m
`;

/** The same API for automation that cannot wait: held requests get 409 and pass once approved. */
const CI_POLICY = `apiVersion: airlock/v1
kind: Policy
metadata:
  name: internal-api-ci
spec:
  subjects: ["group:engineers"]
  connections: ["internal-api-ci"]
  access: allow
  reviewMode: fail-fast
  rules:
    - match: { methods: [GET] }
      action: allow
  default: review
  review:
    reviewers: ["group:ops"]
    approvals: 1
    timeout: 15m
`;

let stack: Stack;
let target: TargetServer;
const homes: Record<string, string> = {};
const ports: Record<string, number> = {};

const as = (user: string, args: string[]) => runCli(args, { home: homes[user] });

interface CurlResult {
  code: number | null;
  status: number;
  /** The response head (status line and headers) exactly as curl printed it. */
  head: string;
  body: string;
  stderr: string;
}

/** The real curl, printing the response head and body (-i). */
async function curl(connection: string, path: string, args: string[] = []): Promise<CurlResult> {
  const r = await runCommand('curl', ['-sS', '-i', '--max-time', '60', ...args, `http://127.0.0.1:${ports[connection]}${path}`], { timeoutMs: 90_000 });
  const split = r.stdout.indexOf('\r\n\r\n');
  const head = split < 0 ? r.stdout : r.stdout.slice(0, split);
  return { code: r.code, status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0), head, body: split < 0 ? '' : r.stdout.slice(split + 4), stderr: r.stderr };
}

async function until<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function reviewsSeenByBob(pending: boolean): Promise<{ id: number }[]> {
  const r = await as('bob', ['reviews', 'list', ...(pending ? ['--pending'] : []), '--json']);
  if (r.code !== 0) throw new Error(`airlock reviews list failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { id: number }[];
}

async function lastReviewId(): Promise<number> {
  const list = await reviewsSeenByBob(false);
  return Math.max(0, ...list.map((r) => r.id));
}

async function pendingReviewId(after: number): Promise<number> {
  return until('a pending review', async () => {
    const list = await reviewsSeenByBob(true);
    return list.find((r) => r.id > after)?.id;
  });
}

interface SessionView {
  id: string;
  status: string;
  statements: { text: string; commandTag: string | null; rows: number | null; error: { message: string } | null }[];
}

/** Sessions of a connection, newest first, each with its request log. */
async function sessionsOf(connection: string): Promise<SessionView[]> {
  const list = await stack.cliJson<{ id: string }[]>(['sessions', 'list', '--connection', connection]);
  return Promise.all(list.map((s) => stack.cliJson<SessionView>(['sessions', 'show', s.id])));
}

/** What the REST API records of a session's requests, verdicts included. */
async function recordedRequests(sessionId: string): Promise<{ text: string; verdict: string | null; reviewId: number | null; commandTag: string }[]> {
  const res = await fetch(`${stack.url}/v1/sessions/${sessionId}`, { headers: { authorization: `Bearer ${stack.token}` } });
  return ((await res.json()) as { statements: { text: string; verdict: string | null; reviewId: number | null; commandTag: string }[] }).statements;
}

async function connect(connection: string): Promise<void> {
  const handle = await spawnCli(['connect', connection, '--port', String(await freePort()), '--json'], { home: homes.alice, readyPattern: /"port"/, name: `connect-${connection}` });
  const line = JSON.parse(handle.stdout.split('\n').find((l) => l.includes('"port"'))!) as { port: number; url: string };
  expect(line.url).toBe(`http://127.0.0.1:${line.port}`);
  ports[connection] = line.port;
}

beforeAll(async () => {
  target = await startTargetServer({ bigBytes: 1024 * 1024 * 1024 });
  stack = await startStack();
  await stack.startAgent('edge', { AIRLOCK_E2E_API_TOKEN: API_TOKEN });
  const closedPort = await freePort();
  for (const [name, port] of [['internal-api', target.port], ['internal-api-ci', target.port], ['down-api', closedPort]] as const) {
    const created = await stack.cli([
      'connections', 'create', name, '--type', 'http', '--agent', 'edge', '--host', '127.0.0.1', '--port', String(port),
      '--secret', 'env:AIRLOCK_E2E_API_TOKEN', '--option', 'credential=bearer',
    ]);
    expect(created.code, created.stderr).toBe(0);
  }
  await stack.applyPolicy(POLICY);
  await stack.applyPolicy(CI_POLICY);
  homes.alice = await stack.userHome('alice', ['engineers']);
  homes.bob = await stack.userHome('bob', ['ops'], 'reviewer');
  for (const name of ['internal-api', 'internal-api-ci', 'down-api']) await connect(name);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await target?.close();
});

describe('HTTP through airlock with curl', () => {
  it('prints the local URL to use', async () => {
    const connect = await spawnCli(['connect', 'internal-api', '--port', String(await freePort())], { home: homes.alice, readyPattern: /Press Ctrl-C/, name: 'connect-help' });
    expect(connect.stdout).toMatch(/Send requests to http:\/\/127\.0\.0\.1:\d+/);
    await connect.stop();
  });

  it('allows a GET: the agent presents its token, the client never sees it', async () => {
    const r = await curl('internal-api', '/hello?lang=en', ['-H', 'Authorization: Bearer client-made-up', '-H', 'Cookie: sid=client']);
    expect(r.status, r.stderr).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ method: 'GET', url: '/hello?lang=en', authorized: true, body: '', clientCert: null });
    const seen = target.seen.at(-1)!;
    expect(seen.headers.authorization).toBe(`Bearer ${API_TOKEN}`);
    expect(seen.headers.cookie).toBeUndefined();
    // Nothing the client got carries the credential, or the session cookie the target set for the agent.
    expect(`${r.head}\n${r.body}`).not.toContain(API_TOKEN);
    expect(r.head.toLowerCase()).not.toContain('set-cookie');
  });

  it('denies DELETE under /admin/users with 403 JSON; the target never sees it', async () => {
    const before = target.seen.length;
    const r = await curl('internal-api', '/admin/users/7', ['-X', 'DELETE']);
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body)).toEqual({ error: 'denied', reason: 'airlock: policy internal-api v1: rule 1 (deny) matches "DELETE /admin/users/7"' });
    const sneaky = await curl('internal-api', '/public/../admin/./users/7', ['-X', 'DELETE', '--path-as-is']);
    expect(sneaky.status).toBe(403);
    expect(target.seen.length).toBe(before);
  });

  it('holds a POST under /admin until a reviewer approves, then sends it once', async () => {
    const last = await lastReviewId();
    const running = curl('internal-api', '/admin/cache', ['-X', 'POST', '-H', 'content-type: application/json', '-d', '{"flush":true}']);
    const id = await pendingReviewId(last);
    const review = JSON.parse((await as('bob', ['reviews', 'show', String(id), '--json'])).stdout) as { statement: string; requester: string; connection: string };
    expect(review).toMatchObject({ statement: 'POST /admin/cache\n\n{"flush":true}', requester: 'user:alice', connection: 'internal-api' });
    expect(target.seen.some((s) => s.url === '/admin/cache')).toBe(false);
    const approved = await as('bob', ['reviews', 'approve', String(id)]);
    expect(approved.code, approved.stderr).toBe(0);
    const r = await running;
    expect(r.status, r.stderr).toBe(200);
    expect(r.head).toMatch(new RegExp(`^airlock-review: ${id}\\r?$`, 'mi'));
    expect(JSON.parse(r.body)).toMatchObject({ method: 'POST', url: '/admin/cache', body: '{"flush":true}', authorized: true });
    expect(target.seen.filter((s) => s.url === '/admin/cache')).toHaveLength(1);
  });

  it('refuses a held request the reviewer rejects', async () => {
    const last = await lastReviewId();
    const running = curl('internal-api', '/admin/cache/all', ['-X', 'DELETE']);
    const id = await pendingReviewId(last);
    expect((await as('bob', ['reviews', 'reject', String(id), '--reason', 'not during the sale'])).code).toBe(0);
    const r = await running;
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body)).toEqual({ error: 'rejected', reason: `airlock: review ${id} rejected by user:bob: not during the sale`, review: { id, approve: `airlock reviews approve ${id}` } });
  });

  it('answers 409 naming the review to a client that cannot wait; once approved the identical request passes once', async () => {
    const first = await curl('internal-api-ci', '/admin/reindex', ['-X', 'POST', '-d', 'scope=all']);
    expect(first.status).toBe(409);
    const body = JSON.parse(first.body) as { error: string; reason: string; review: { id: number; approve: string } };
    const id = body.review.id;
    expect(body).toEqual({
      error: 'review_required',
      reason: `airlock: POST /admin/reindex needs review ${id}; send the identical request again once it is approved and it passes once — airlock reviews approve ${id}`,
      review: { id, approve: `airlock reviews approve ${id}` },
    });
    expect((await curl('internal-api-ci', '/admin/reindex', ['-X', 'POST', '-d', 'scope=all'])).status).toBe(409); // still pending: the same review
    expect(await pendingReviewId(id - 1)).toBe(id);
    expect((await as('bob', ['reviews', 'approve', String(id)])).code).toBe(0);

    const different = await curl('internal-api-ci', '/admin/reindex', ['-X', 'POST', '-d', 'scope=everything']);
    expect(different.status).toBe(409); // another body is another request
    const again = await curl('internal-api-ci', '/admin/reindex', ['-X', 'POST', '-d', 'scope=all']);
    expect(again.status, again.body).toBe(200);
    expect(JSON.parse(again.body)).toMatchObject({ url: '/admin/reindex', body: 'scope=all' });
    const third = await curl('internal-api-ci', '/admin/reindex', ['-X', 'POST', '-d', 'scope=all']);
    expect(third.status).toBe(409);
    expect((JSON.parse(third.body) as { review: { id: number } }).review.id).not.toBe(id);
    expect(target.seen.filter((s) => s.url === '/admin/reindex')).toHaveLength(1);
  });

  it('answers 502 naming the target when it is down', async () => {
    const r = await curl('down-api', '/hello');
    expect(r.status).toBe(502);
    const body = JSON.parse(r.body) as { error: string; reason: string; target: string };
    expect(body).toMatchObject({ error: 'target_unreachable', target: 'down-api' });
    expect(body.reason).toMatch(/^airlock: cannot reach target "down-api" at 127\.0\.0\.1:\d+: connect ECONNREFUSED/);
  });

  it('frees the target connection and ends the session when the client goes away mid-download', async () => {
    const r = await runCommand('curl', ['-sS', '-o', '/dev/null', '--limit-rate', '4M', '--max-time', '2', `http://127.0.0.1:${ports['internal-api']}/big`], { timeoutMs: 30_000 });
    expect(r.code).toBe(28); // curl gave up mid-transfer
    await until('the target connection to close', async () => (target.openConnections() === 0 ? true : undefined));
    const big = await until('the session to end', async () => {
      const s = (await sessionsOf('internal-api')).find((x) => x.statements.some((st) => st.text === 'GET /big'));
      return s && s.status !== 'active' ? s : undefined;
    });
    const request = big.statements.find((st) => st.text === 'GET /big')!;
    expect(request).toMatchObject({ commandTag: '200', error: { message: 'the client went away before the response ended' } });
    expect(request.rows).toBeGreaterThan(0);
    expect(request.rows).toBeLessThan(1024 * 1024 * 1024);
  });

  it('keeps a request log per session: method and path, status, bytes, duration and verdict', async () => {
    const sessions = await sessionsOf('internal-api');
    const byText = new Map(sessions.flatMap((s) => s.statements.map((st) => [st.text, { session: s, st }] as const)));
    expect(byText.get('GET /hello?lang=en')?.st).toMatchObject({ commandTag: '200', error: null });
    expect(byText.get('GET /hello?lang=en')!.st.rows).toBeGreaterThan(0);
    expect(byText.get('DELETE /admin/users/7')?.st).toMatchObject({ commandTag: '403' });
    const approved = byText.get('POST /admin/cache')!;
    expect(approved.st).toMatchObject({ commandTag: '200', error: null });
    const human = await stack.cli(['sessions', 'show', approved.session.id]);
    expect(human.stdout).toContain('POST /admin/cache');
    const rest = await recordedRequests(approved.session.id);
    expect(rest.find((r) => r.text === 'POST /admin/cache')).toMatchObject({ verdict: 'approved', commandTag: '200', reviewId: expect.any(Number) });
    const denied = await recordedRequests(byText.get('DELETE /admin/users/7')!.session.id);
    expect(denied.find((r) => r.text === 'DELETE /admin/users/7')).toMatchObject({ verdict: 'denied', commandTag: '403' });
  });
});
