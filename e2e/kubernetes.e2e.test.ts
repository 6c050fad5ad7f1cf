/**
 * Kubernetes through the whole path with the real kubectl: `airlock connect k8s-prod` writes a
 * kubeconfig for its local port, kubectl runs unchanged, and the agent authenticates to the API server
 * with the token only it holds, judging each call in Kubernetes terms (verb, resource, namespace,
 * name, subresource). No Kubernetes runs here: the API server is a stand-in (HTTPS with a test CA,
 * checking the token) that answers the paths kubectl uses — see
 * data-agent/src/protocols/kubernetes/test-support/api-server.ts.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, type TestPki } from '../data-agent/src/protocols/http/test-support/tls.js';
import { HAS_KUBECTL, KUBECTL_EXEC_OVER_WEBSOCKET } from '../data-agent/src/protocols/kubernetes/test-support/kubectl.js';
import { startStandInApiServer, type StandInApiServer } from '../data-agent/src/protocols/kubernetes/test-support/api-server.js';
import { freePort, runCli, runCommand, spawnCli, startProcess } from './support/index.js';
import { startStack, type Stack } from './harness/stack.js';

// With kubectl < 1.30 (SPDY exec, which the stand-in does not serve) the exec test checks that the upgrade
// was held, approved and reached the API server with the agent's token, and that kubectl shows the stand-in's answer.
const EXEC_OVER_WEBSOCKET = KUBECTL_EXEC_OVER_WEBSOCKET;
const K8S_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.airlock-e2e-service-account-token';

const POLICY = `apiVersion: airlock/v1
kind: Policy
metadata:
  name: k8s-prod
spec:
  subjects: ["group:engineers"]
  connections: ["k8s-prod", "k8s-down"]
  access: allow
  rules:
    - match: { kube: { resources: [secrets] } }
      action: deny
    - match: { kube: { verbs: [delete, deletecollection], namespaces: [prod] } }
      action: review
    - match: { kube: { subresources: [exec, attach, portforward] } }
      action: review
    - match: { kube: { verbs: [get, list, watch] } }
      action: allow
  default: deny
  review:
    reviewers: ["group:sre"]
    approvals: 1
    timeout: 15m
`;

/** The same cluster for automation that cannot wait: a held call gets 409 and passes once approved. */
const CI_POLICY = `apiVersion: airlock/v1
kind: Policy
metadata:
  name: k8s-ci
spec:
  subjects: ["group:engineers"]
  connections: ["k8s-ci"]
  access: allow
  reviewMode: fail-fast
  rules:
    - match: { kube: { verbs: [delete], namespaces: [prod] } }
      action: review
  default: allow
  review:
    reviewers: ["group:sre"]
    approvals: 1
    timeout: 15m
`;

let stack: Stack;
let api: StandInApiServer;
let pki: TestPki;
const homes: Record<string, string> = {};
const kubeconfigs: Record<string, string> = {};
let kubeHome: string;
let connectOutput = '';

const as = (user: string, args: string[]) => runCli(args, { home: homes[user] });

/** The real kubectl with the kubeconfig airlock connect wrote, and a HOME of its own (discovery cache). */
function kubectl(connection: string, args: string[]) {
  return runCommand('kubectl', args, { env: { KUBECONFIG: kubeconfigs[connection], HOME: kubeHome }, timeoutMs: 90_000 });
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

async function reviews(pending: boolean): Promise<{ id: number; statement: string }[]> {
  const r = await as('sam', ['reviews', 'list', ...(pending ? ['--pending'] : []), '--json']);
  if (r.code !== 0) throw new Error(`airlock reviews list failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { id: number; statement: string }[];
}

async function lastReviewId(): Promise<number> {
  return Math.max(0, ...(await reviews(false)).map((r) => r.id));
}

async function pendingReview(after: number): Promise<{ id: number; statement: string }> {
  return until('a pending review', async () => (await reviews(true)).find((r) => r.id > after));
}

async function connect(connection: string): Promise<string> {
  const handle = await spawnCli(['connect', connection, '--port', String(await freePort())], { home: homes.alice, readyPattern: /export KUBECONFIG=\S+/, name: `connect-${connection}` });
  const path = /export KUBECONFIG=(\S+)/.exec(handle.stdout)![1]!;
  kubeconfigs[connection] = path;
  return handle.stdout;
}

interface SessionView {
  id: string;
  status: string;
  statements: { text: string; commandTag: string | null; rows: number | null; error: { message: string } | null }[];
}

async function requestLog(connection: string): Promise<SessionView[]> {
  const list = await stack.cliJson<{ id: string }[]>(['sessions', 'list', '--connection', connection]);
  return Promise.all(list.map((s) => stack.cliJson<SessionView>(['sessions', 'show', s.id])));
}

beforeAll(async () => {
  if (!HAS_KUBECTL) return;
  pki = makeTestPki();
  api = await startStandInApiServer({ cert: pki.serverCert, key: pki.serverKey, token: K8S_TOKEN });
  kubeHome = mkdtempSync(join(tmpdir(), 'airlock-e2e-kubectl-'));
  stack = await startStack();
  await stack.startAgent('cluster-agent', { AIRLOCK_E2E_K8S_TOKEN: K8S_TOKEN });
  const closedPort = await freePort();
  for (const [name, port] of [['k8s-prod', api.port], ['k8s-ci', api.port], ['k8s-down', closedPort]] as const) {
    const created = await stack.cli([
      'connections', 'create', name, '--type', 'kubernetes', '--agent', 'cluster-agent', '--host', '127.0.0.1', '--port', String(port),
      '--secret', 'env:AIRLOCK_E2E_K8S_TOKEN', '--option', 'credential=bearer', '--option', 'scheme=https', '--option', `ca=file:${pki.caCertFile}`,
    ]);
    expect(created.code, created.stderr).toBe(0);
  }
  await stack.applyPolicy(POLICY);
  await stack.applyPolicy(CI_POLICY);
  homes.alice = await stack.userHome('alice', ['engineers']);
  homes.sam = await stack.userHome('sam', ['sre'], 'reviewer');
  connectOutput = await connect('k8s-prod');
  await connect('k8s-ci');
  await connect('k8s-down');
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await api?.close();
});

describe.runIf(HAS_KUBECTL)('Kubernetes through airlock with kubectl (against a stand-in API server)', () => {
  it('airlock connect writes a kubeconfig for the local port, with no credentials in it', async () => {
    expect(connectOutput).toContain(`Wrote ${kubeconfigs['k8s-prod']} (no credentials in it)`);
    expect(kubeconfigs['k8s-prod']).toBe(join(homes.alice!, 'kube', 'k8s-prod.kubeconfig'));
    const config = readFileSync(kubeconfigs['k8s-prod']!, 'utf8');
    expect(config).toMatch(/server: http:\/\/127\.0\.0\.1:\d+/);
    expect(config).not.toContain(K8S_TOKEN);
  });

  it('allows reads: the agent presents the cluster token, kubectl never sees it', async () => {
    const pods = await kubectl('k8s-prod', ['get', 'pods', '-n', 'prod', '-o', 'name']);
    expect(pods.stdout, pods.stderr).toBe('pod/web-0\npod/web-1\n');
    expect(api.requests.at(-1)).toMatchObject({ method: 'GET', authorization: `Bearer ${K8S_TOKEN}` });
    const verbose = await kubectl('k8s-prod', ['get', 'deployments', '-n', 'prod', '-o', 'name', '-v=9']);
    expect(verbose.stdout).toBe('deployment.apps/web\n');
    // -v=9 prints every request and response header kubectl sees: the token is in none of them.
    expect(verbose.stderr).toContain('/apis/apps/v1/namespaces/prod/deployments');
    expect(`${verbose.stdout}${verbose.stderr}`).not.toContain(K8S_TOKEN);
  });

  it('denies what policy denies with a Forbidden Status, and refuses impersonation', async () => {
    const secrets = await kubectl('k8s-prod', ['get', 'secrets', '-n', 'prod']);
    expect(secrets.code).not.toBe(0);
    expect(secrets.stderr).toContain('Error from server (Forbidden): airlock: policy k8s-prod v1: rule 1 (deny) matches "GET /api/v1/namespaces/prod/secrets?limit=500"');
    const before = api.requests.length;
    const impersonating = await kubectl('k8s-prod', ['get', 'pods', '-n', 'prod', '--as', 'system:admin']);
    expect(impersonating.code).not.toBe(0);
    expect(impersonating.stderr).toContain('airlock: impersonation (impersonate-user; kubectl --as) is not allowed through airlock');
    expect(api.requests.slice(before).some((r) => r.impersonate)).toBe(false);
  });

  it('holds a delete in prod until a reviewer approves, then it runs', async () => {
    const last = await lastReviewId();
    const running = kubectl('k8s-prod', ['delete', 'pod', 'web-0', '-n', 'prod', '--wait=false']);
    const review = await pendingReview(last);
    expect(review.statement.split('\n')[0]).toBe('DELETE /api/v1/namespaces/prod/pods/web-0');
    expect(api.pods.get('prod')!.has('web-0')).toBe(true);
    const approved = await as('sam', ['reviews', 'approve', String(review.id)]);
    expect(approved.code, approved.stderr).toBe(0);
    const r = await running;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('pod "web-0" deleted\n');
    expect(api.pods.get('prod')!.has('web-0')).toBe(false);
  });

  it('holds kubectl exec (an upgrade) for review, then proxies the stream', async () => {
    const last = await lastReviewId();
    const running = kubectl('k8s-prod', ['exec', 'web-1', '-n', 'prod', '--', 'echo', 'hello', 'from', 'web-1']);
    const review = await pendingReview(last);
    expect(review.statement).toMatch(/^(GET|POST) \/api\/v1\/namespaces\/prod\/pods\/web-1\/exec\?command=echo&command=hello/);
    const before = api.requests.length;
    expect((await as('sam', ['reviews', 'approve', String(review.id)])).code).toBe(0);
    const r = await running;
    if (!EXEC_OVER_WEBSOCKET) {
      const upgrade = api.requests.slice(before).find((q) => q.url.startsWith('/api/v1/namespaces/prod/pods/web-1/exec?'));
      expect(upgrade, 'the approved exec reached the API server').toBeDefined();
      expect(upgrade!.authorization).toBe(`Bearer ${K8S_TOKEN}`);
      expect(r.stderr).toContain('upgrade refused by the stand-in');
      return;
    }
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('hello from web-1\n');
  });

  it('answers a Conflict naming the review to automation that cannot wait; once approved the identical call passes once', async () => {
    const first = await kubectl('k8s-ci', ['delete', 'pod', 'web-0', '-n', 'dev', '--wait=false']);
    expect(first.code, first.stderr).toBe(0); // dev is not held
    const held = await kubectl('k8s-ci', ['delete', 'pod', 'web-1', '-n', 'prod', '--wait=false']);
    expect(held.code).not.toBe(0);
    const id = Number(/needs review (\d+)/.exec(held.stderr)?.[1]);
    expect(held.stderr).toContain(`Error from server (Conflict): airlock: DELETE /api/v1/namespaces/prod/pods/web-1 needs review ${id}; send the identical request again once it is approved and it passes once — airlock reviews approve ${id}`);
    expect(api.pods.get('prod')!.has('web-1')).toBe(true);
    expect((await as('sam', ['reviews', 'approve', String(id)])).code).toBe(0);
    const again = await kubectl('k8s-ci', ['delete', 'pod', 'web-1', '-n', 'prod', '--wait=false']);
    expect(again.code, again.stderr).toBe(0);
    expect(api.pods.get('prod')!.has('web-1')).toBe(false);
  });

  it('names the target clearly when the API server is down', async () => {
    const r = await kubectl('k8s-down', ['get', 'pods', '-n', 'prod']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/an error on the server \("airlock: cannot reach target \\"k8s-down\\" at 127\.0\.0\.1:\d+: connect ECONNREFUSED/);
  });

  it('frees the API server connection and ends the session when kubectl goes away mid-watch', async () => {
    const watching = await startProcess('kubectl-watch', 'kubectl', ['get', 'pods', '-n', 'dev', '--watch', '-o', 'name'], {
      env: { KUBECONFIG: kubeconfigs['k8s-prod'], HOME: kubeHome },
    });
    await until('the watch to be open', async () => (api.requests.some((r) => r.url.includes('watch=true')) ? true : undefined));
    expect(api.openConnections()).toBeGreaterThan(0);
    await watching.stop('SIGKILL');
    await until('the API server connections to close', async () => (api.openConnections() === 0 ? true : undefined));
    const isWatch = (text: string) => text.startsWith('GET /api/v1/namespaces/dev/pods?') && text.includes('watch=true');
    const session = await until('the watch session to end', async () => {
      const watch = (await requestLog('k8s-prod')).find((s) => s.statements.some((st) => isWatch(st.text)));
      return watch && watch.status !== 'active' && watch.status !== 'open' ? watch : undefined;
    });
    expect(session.statements.find((st) => isWatch(st.text))).toMatchObject({ commandTag: '200', error: { message: 'the client went away before the response ended' } });
  });

  it('keeps the request log of each session', async () => {
    const all = (await requestLog('k8s-prod')).flatMap((s) => s.statements);
    const list = all.find((st) => st.text === 'GET /api/v1/namespaces/prod/pods?limit=500' && st.commandTag === '200');
    expect(list).toMatchObject({ error: null });
    expect(list!.rows).toBeGreaterThan(0);
    expect(all.find((st) => st.text === 'DELETE /api/v1/namespaces/prod/pods/web-0')).toMatchObject({ commandTag: '200' });
    expect(all.find((st) => st.text.startsWith('GET /api/v1/namespaces/prod/secrets'))).toMatchObject({ commandTag: '403' });
    expect(all.find((st) => st.text.includes('/pods/web-1/exec?'))).toMatchObject({ commandTag: EXEC_OVER_WEBSOCKET ? '101' : '400' });
  });
});
