/**
 * The Kubernetes engine against a stand-in API server (HTTPS, test CA, a token it checks): no
 * Kubernetes runs here. The real kubectl drives it when the machine has one.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GateVerdict, ProtocolRequest } from '../engine.js';
import { makeContext, makeTarget, waitFor } from '../postgres/test-support/session-harness.js';
import { reviewVerdict, ScriptedGate, send, startHttpAgent, type HttpAgentListener } from '../http/test-support/http-harness.js';
import { makeTestPki } from '../http/test-support/tls.js';
import { startStandInApiServer, type StandInApiServer } from './test-support/api-server.js';
import { KubernetesEngine } from './engine.js';
import { HAS_KUBECTL, KUBECTL_EXEC_OVER_WEBSOCKET } from './test-support/kubectl.js';

const run = promisify(execFile);
const TOKEN = 'k8s-agent-token-xyz';
let api: StandInApiServer;
let agent: HttpAgentListener;
let decide: (r: Extract<ProtocolRequest, { protocol: 'kubernetes' }>) => GateVerdict['action'] = () => 'allow';
const gate = new ScriptedGate((r) => {
  if (r.protocol !== 'kubernetes') throw new Error('not kubernetes');
  const action = decide(r);
  if (action === 'review') return reviewVerdict(r);
  return action === 'deny' ? { action, reason: `policy k8s v1: rule 1 (deny) matches "${r.text}"` } : { action };
});

beforeAll(async () => {
  const pki = makeTestPki();
  api = await startStandInApiServer({ cert: pki.serverCert, key: pki.serverKey, token: TOKEN });
  const target = makeTarget({ name: 'k8s-prod', type: 'kubernetes', port: api.port, secretRef: 'env:K8S_TOKEN', options: { credential: 'bearer', ca: 'file:ca' } });
  agent = await startHttpAgent(new KubernetesEngine(), () => {
    const ctx = makeContext(target);
    ctx.resolveSecret = (ref) => (ref === 'file:ca' ? pki.ca : TOKEN);
    ctx.gate = gate;
    return ctx;
  });
});

afterAll(async () => {
  await agent?.close();
  await api?.close();
});

describe('KubernetesEngine', () => {
  it('presents the agent token over verified TLS and judges requests in Kubernetes terms', async () => {
    const res = await send(agent.port, { path: '/api/v1/namespaces/prod/pods?limit=500', headers: { authorization: 'Bearer stolen' } });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).items.map((p: { metadata: { name: string } }) => p.metadata.name)).toEqual(['web-0', 'web-1']);
    expect(api.requests.at(-1)).toMatchObject({ url: '/api/v1/namespaces/prod/pods?limit=500', authorization: `Bearer ${TOKEN}` });
    expect(gate.judged.at(-1)).toMatchObject({ verb: 'list', resource: 'pods', namespace: 'prod', name: '', subresource: '' });
  });

  it('refuses a denied request with a Status object kubectl prints', async () => {
    decide = (r) => (r.verb === 'delete' && r.namespace === 'prod' ? 'deny' : 'allow');
    const res = await send(agent.port, { method: 'DELETE', path: '/api/v1/namespaces/prod/pods/web-1' });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 403, reason: 'Forbidden',
      message: 'airlock: policy k8s v1: rule 1 (deny) matches "DELETE /api/v1/namespaces/prod/pods/web-1"',
      details: { name: 'web-1', kind: 'pods' },
    });
    expect(api.pods.get('prod')!.has('web-1')).toBe(true);
  });

  it('answers a fail-fast review with a Conflict Status naming the review', async () => {
    decide = (r) => (r.subresource === 'exec' ? 'review' : 'allow');
    const pending = send(agent.port, { method: 'POST', path: '/api/v1/namespaces/prod/pods/web-0/exec?command=date' });
    await waitFor(() => gate.held.length === 1, 5_000, 'the hold');
    gate.held[0]!.settle({ released: false, pending: true, reviewId: 12, message: '' });
    const res = await pending;
    expect(res.status).toBe(409);
    const status = JSON.parse(res.body);
    expect(status).toMatchObject({ kind: 'Status', code: 409, reason: 'Conflict', details: { name: 'web-0', kind: 'pods', causes: [{ message: 'airlock reviews approve 12' }] } });
    expect(status.message).toContain('needs review 12');
  });

  it('refuses impersonation (kubectl --as) before policy', async () => {
    decide = () => 'allow';
    const res = await send(agent.port, { path: '/api/v1/namespaces/prod/pods', headers: { 'impersonate-user': 'system:admin' } });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).message).toContain('impersonation (impersonate-user; kubectl --as) is not allowed');
    expect(api.requests.some((r) => r.impersonate)).toBe(false);
  });

  it.runIf(HAS_KUBECTL)('works with the real kubectl: get, a denied delete, and exec over a WebSocket', async () => {
    decide = (r) => (r.verb === 'delete' ? 'deny' : 'allow');
    const dir = mkdtempSync(join(tmpdir(), 'airlock-kube-'));
    const kubeconfig = join(dir, 'config');
    writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config',
      'clusters: [{name: t, cluster: {server: "http://127.0.0.1:' + agent.port + '"}}]',
      'users: [{name: u, user: {}}]',
      'contexts: [{name: t, context: {cluster: t, user: u, namespace: prod}}]',
      'current-context: t', '',
    ].join('\n'));
    const kubectl = (...args: string[]) => run('kubectl', ['--kubeconfig', kubeconfig, ...args], { env: { ...process.env, HOME: dir } }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
    expect(await kubectl('get', 'pods', '-o', 'name')).toMatchObject({ code: 0, stdout: 'pod/web-0\npod/web-1\n' });
    const denied = await kubectl('delete', 'pod', 'web-1', '--wait=false');
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('Error from server (Forbidden): airlock: policy k8s v1: rule 1 (deny) matches "DELETE /api/v1/namespaces/prod/pods/web-1"');
    const exec = await kubectl('exec', 'web-0', '--', 'echo', 'hello', 'from', 'exec');
    if (KUBECTL_EXEC_OVER_WEBSOCKET) expect(exec).toMatchObject({ code: 0, stdout: 'hello from exec\n' });
    else expect(exec.stderr).toContain('upgrade refused by the stand-in'); // SPDY: judged and proxied, refused by the stand-in
    expect(gate.judged.at(-1)).toMatchObject({ resource: 'pods', subresource: 'exec', name: 'web-0' });
  });
});
