import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionTarget, GateVerdict, ProtocolRequest } from '../engine.js';
import { Masker } from '../../masking/index.js';
import { makeContext, makeTarget, waitFor, type TestContext } from '../postgres/test-support/session-harness.js';
import { HttpEngine } from './engine.js';
import { reviewVerdict, ScriptedGate, send, stallingDuplex, startHttpAgent, type HttpAgentListener } from './test-support/http-harness.js';
import { startTargetServer, type TargetServer } from './test-support/target-server.js';
import { makeTestPki, type TestPki } from './test-support/tls.js';

const TOKEN = 'agent-token-s3cr3t';
let plain: TargetServer;
let tls: TargetServer;
let mtls: TargetServer;
let pki: TestPki;
const agents: HttpAgentListener[] = [];

beforeAll(async () => {
  pki = makeTestPki();
  plain = await startTargetServer({ bigBytes: 256 * 1024 * 1024 });
  tls = await startTargetServer({ tls: { cert: pki.serverCert, key: pki.serverKey } });
  mtls = await startTargetServer({ tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requestCert: true } });
});

afterAll(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await Promise.all([plain.close(), tls.close(), mtls.close()]);
});

interface AgentSetup {
  port?: number;
  options?: Record<string, string>;
  secrets?: Record<string, string>;
  gate?: (ctx: TestContext) => ScriptedGate | undefined;
  masking?: Masker;
  secretRef?: string;
  tunnel?: typeof stallingDuplex;
}

async function agent(setup: AgentSetup = {}): Promise<HttpAgentListener> {
  const target: ConnectionTarget = makeTarget({
    name: 'internal-api', type: 'http', port: setup.port ?? plain.port, secretRef: setup.secretRef ?? 'env:API_TOKEN', options: setup.options ?? { credential: 'bearer' },
  });
  const secrets: Record<string, string> = { 'env:API_TOKEN': TOKEN, ...setup.secrets };
  const listener = await startHttpAgent(new HttpEngine({ connectTimeoutMs: 2_000 }), () => {
    const ctx = makeContext(target, TOKEN);
    ctx.resolveSecret = (ref) => {
      const value = secrets[ref];
      if (value === undefined) throw new Error(`secret ${ref} is not set`);
      return value;
    };
    const gate = setup.gate?.(ctx);
    if (gate) ctx.gate = gate;
    if (setup.masking) ctx.masking = setup.masking;
    return ctx;
  }, setup.tunnel);
  agents.push(listener);
  return listener;
}

type HttpRequest = Extract<ProtocolRequest, { protocol: 'http' }>;

function byPath(decide: (r: HttpRequest) => GateVerdict['action']): () => ScriptedGate {
  const gate = new ScriptedGate((r) => {
    if (r.protocol !== 'http') throw new Error(`not an HTTP request: ${r.protocol}`);
    const action = decide(r);
    if (action === 'review') return reviewVerdict(r);
    return action === 'deny' ? { action, reason: `policy p v1: rule 1 (deny) matches "${r.text}"` } : { action };
  });
  return () => gate;
}

describe('HttpEngine', () => {
  it('proxies with the agent credential in place of the client one, and records the request', async () => {
    const a = await agent({ gate: byPath(() => 'allow') });
    const res = await send(a.port, { path: '/hello?x=1', headers: { authorization: 'Bearer client-token', cookie: 'sid=client', 'proxy-authorization': 'Basic eA==' } });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ method: 'GET', url: '/hello?x=1', authorized: true });
    const seen = plain.seen.at(-1)!;
    expect(seen.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(seen.headers.cookie).toBeUndefined();
    expect(seen.headers['proxy-authorization']).toBeUndefined();
    expect(seen.headers.host).toBe(`127.0.0.1:${plain.port}`);
    expect(res.headers['set-cookie']).toBeUndefined();
    await waitFor(() => a.sessions[0]!.ctx.records.length === 1, 5_000, 'the record');
    expect(a.sessions[0]!.ctx.records[0]).toMatchObject({ sequence: 1, text: 'GET /hello?x=1', commandTag: '200', rows: res.body.length, protocol: 'http', verdict: 'allowed', errorMessage: '' });
  });

  it('presents basic auth and a named header, and strips the client copy of that header', async () => {
    const basic = await agent({ options: { credential: 'basic' }, secrets: { 'env:API_TOKEN': 'svc:pa55' } });
    await send(basic.port, { path: '/b' });
    expect(plain.seen.at(-1)!.headers.authorization).toBe(`Basic ${Buffer.from('svc:pa55').toString('base64')}`);
    const header = await agent({ options: { credential: 'header', header: 'X-Api-Key' } });
    await send(header.port, { path: '/h', headers: { 'x-api-key': 'client-key', authorization: 'Bearer client' } });
    const seen = plain.seen.at(-1)!;
    expect(seen.headers['x-api-key']).toBe(TOKEN);
    expect(seen.headers.authorization).toBeUndefined();
  });

  it('passes a chunked request body through to the target', async () => {
    const a = await agent();
    const res = await send(a.port, { method: 'PUT', path: '/upload', headers: { 'transfer-encoding': 'chunked', connection: 'keep-alive, x-hop', 'x-hop': 'no' }, body: 'x'.repeat(100_000) });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).body).toHaveLength(100_000);
    expect(plain.seen.at(-1)!.headers['x-hop']).toBeUndefined();
  });

  it('serves several requests on one kept-alive connection, each judged and recorded', async () => {
    const gate = byPath((r) => (r.text.startsWith('DELETE') ? 'deny' : 'allow'));
    const a = await agent({ gate });
    const socket = net.connect(a.port, '127.0.0.1');
    const replies: string[] = [];
    socket.on('data', (c: Buffer) => replies.push(c.toString()));
    socket.write('GET /one HTTP/1.1\r\nHost: x\r\n\r\nDELETE /two HTTP/1.1\r\nHost: x\r\n\r\nGET /three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await new Promise((r) => socket.once('close', r));
    const all = replies.join('');
    expect(all.match(/^HTTP\/1\.1 \d+/gm)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 403', 'HTTP/1.1 200']);
    await a.sessions[0]!.summary;
    const records = [...a.sessions[0]!.ctx.records].sort((x, y) => x.sequence - y.sequence);
    expect(records.map((r) => [r.text, r.commandTag, r.verdict])).toEqual([
      ['GET /one', '200', 'allowed'], ['DELETE /two', '403', 'denied'], ['GET /three', '200', 'allowed'],
    ]);
  });

  it('forwards the normalised path that policy judged, and refuses paths with two readings', async () => {
    const gate = byPath(() => 'allow');
    const a = await agent({ gate });
    expect((await send(a.port, { path: '//public/../%61dmin/./users' })).status).toBe(200);
    expect(plain.seen.at(-1)!.url).toBe('/admin/users');
    expect(gate().judged.at(-1)).toMatchObject({ path: '/admin/users', method: 'GET' });
    const refused = await send(a.port, { path: '/admin%2Fusers' });
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body)).toEqual({ error: 'bad_request', reason: expect.stringContaining('encoded slash') });
  });

  it('refuses a denied request with 403 JSON; the target never sees it', async () => {
    const a = await agent({ gate: byPath((r) => (r.path.startsWith('/admin') ? 'deny' : 'allow')) });
    const before = plain.seen.length;
    const res = await send(a.port, { method: 'DELETE', path: '/admin/users/7' });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toEqual({ error: 'denied', reason: 'airlock: policy p v1: rule 1 (deny) matches "DELETE /admin/users/7"' });
    expect(plain.seen.length).toBe(before);
  });

  it('holds a request for review with its body, then sends it once approved', async () => {
    const gate = byPath((r) => (r.text.startsWith('POST /admin') ? 'review' : 'allow'));
    const a = await agent({ gate });
    const pending = send(a.port, { method: 'POST', path: '/admin/users', headers: { 'content-type': 'application/json' }, body: '{"name":"eve"}' });
    await waitFor(() => gate().held.length === 1, 5_000, 'the hold');
    const held = gate().held[0]!;
    expect(held.request.statement).toBe('POST /admin/users\n\n{"name":"eve"}');
    expect(held.request.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    held.settle({ released: true, reviewId: 41 });
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.headers['airlock-review']).toBe('41');
    expect(JSON.parse(res.body)).toMatchObject({ method: 'POST', body: '{"name":"eve"}' });
    await waitFor(() => a.sessions[0]!.ctx.records.length === 1, 5_000, 'the record');
    expect(a.sessions[0]!.ctx.records[0]).toMatchObject({ verdict: 'approved', reviewId: 41, commandTag: '200' });
  });

  it('gives the same body the same fingerprint and another body another', async () => {
    const gate = byPath(() => 'review');
    const a = await agent({ gate });
    for (const [i, body] of ['{"a":1}', '{"a":1}', '{"a":2}'].entries()) {
      const pending = send(a.port, { method: 'POST', path: '/admin', body });
      await waitFor(() => gate().held.length === i + 1, 5_000, 'the hold');
      gate().held[i]!.settle({ released: false, reviewId: 1, message: 'airlock: review 1 rejected by bob' });
      expect((await pending).status).toBe(403);
    }
    const [first, same, other] = gate().held.map((h) => h.request.fingerprint);
    expect(first).toBe(same);
    expect(other).not.toBe(first);
  });

  it('answers 409 naming the review when the policy does not wait (fail-fast)', async () => {
    const gate = byPath(() => 'review');
    const a = await agent({ gate });
    const pending = send(a.port, { method: 'DELETE', path: '/admin/cache' });
    await waitFor(() => gate().held.length === 1, 5_000, 'the hold');
    gate().held[0]!.settle({ released: false, pending: true, reviewId: 9, message: 'needs review 9' });
    const res = await pending;
    expect(res.status).toBe(409);
    expect(res.headers['airlock-review']).toBe('9');
    expect(JSON.parse(res.body)).toEqual({
      error: 'review_required',
      reason: 'airlock: DELETE /admin/cache needs review 9; send the identical request again once it is approved and it passes once — airlock reviews approve 9',
      review: { id: 9, approve: 'airlock reviews approve 9' },
    });
    await waitFor(() => a.sessions[0]!.ctx.records.length === 1, 5_000, 'the record');
    expect(a.sessions[0]!.ctx.records[0]).toMatchObject({ commandTag: '409', verdict: 'rejected', reviewId: 9 });
  });

  it('answers 403 when the review is rejected, and withdraws the hold when the client goes away', async () => {
    const gate = byPath(() => 'review');
    const a = await agent({ gate });
    const pending = send(a.port, { method: 'DELETE', path: '/x' });
    await waitFor(() => gate().held.length === 1, 5_000, 'the hold');
    gate().held[0]!.settle({ released: false, reviewId: 3, message: 'airlock: review 3 rejected by bob: not now' });
    const res = await pending;
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'rejected', reason: 'airlock: review 3 rejected by bob: not now', review: { id: 3 } });

    const socket = net.connect(a.port, '127.0.0.1');
    socket.write('DELETE /y HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => gate().held.length === 2, 5_000, 'the second hold');
    socket.destroy();
    await waitFor(() => gate().held[1]!.signal.aborted, 5_000, 'the hold to be withdrawn');
  });

  it('answers 502 naming the target when it is down', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer();
      s.listen(0, '127.0.0.1', () => {
        const port = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    const a = await agent({ port: closed });
    const res = await send(a.port, { path: '/hello' });
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body)).toEqual({
      error: 'target_unreachable',
      reason: `airlock: cannot reach target "internal-api" at 127.0.0.1:${closed}: connect ECONNREFUSED 127.0.0.1:${closed}`,
      target: 'internal-api',
    });
  });

  it('answers 502 when the credential cannot be read, without the reference value', async () => {
    const a = await agent({ secretRef: 'env:MISSING' });
    const res = await send(a.port, { path: '/hello' });
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body).reason).toBe('airlock: the agent cannot read the credential for connection "internal-api": secret env:MISSING is not set');
  });

  it('verifies the target TLS certificate against the connection CA', async () => {
    const trusted = await agent({ port: tls.port, options: { credential: 'bearer', scheme: 'https', ca: 'file:ca' }, secrets: { 'file:ca': pki.ca } });
    const ok = await send(trusted.port, { path: '/tls' });
    expect(ok.status).toBe(200);
    expect(tls.seen.at(-1)!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    const untrusted = await agent({ port: tls.port, options: { credential: 'bearer', scheme: 'https' } });
    const refused = await send(untrusted.port, { path: '/tls' });
    expect(refused.status).toBe(502);
    expect(JSON.parse(refused.body).reason).toMatch(/^airlock: the TLS certificate of target "internal-api" at 127\.0\.0\.1:\d+ is not trusted: .*--option ca=file:\/path\)$/);
  });

  it('presents a client certificate when the credential is client-cert', async () => {
    const a = await agent({
      port: mtls.port,
      options: { credential: 'client-cert', client_cert: 'file:cert', scheme: 'https', ca: 'file:ca' },
      secretRef: 'file:key',
      secrets: { 'file:ca': pki.ca, 'file:cert': pki.clientCert, 'file:key': pki.clientKey },
    });
    const res = await send(a.port, { path: '/whoami' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ clientCert: 'airlock-agent', authorized: false });
  });

  it('relays an allowed upgrade both ways and refuses a denied one', async () => {
    const a = await agent({ gate: byPath((r) => (r.path === '/ws/denied' ? 'deny' : 'allow')) });
    const upgrade = (path: string) =>
      new Promise<{ head: string; echo: string }>((resolve) => {
        const s = net.connect(a.port, '127.0.0.1');
        let data = '';
        s.on('data', (c: Buffer) => {
          data += c.toString();
          if (data.includes('\r\n\r\n') && data.startsWith('HTTP/1.1 101') && !data.includes('ping')) s.write('ping');
          if (data.endsWith('ping') || !data.startsWith('HTTP/1.1 101')) s.end();
        });
        s.on('close', () => resolve({ head: data.split('\r\n\r\n')[0]!, echo: data.split('\r\n\r\n').slice(1).join('') }));
        s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nAuthorization: Bearer client\r\n\r\n`);
      });
    const allowed = await upgrade('/ws/echo');
    expect(allowed.head).toMatch(/^HTTP\/1\.1 101/);
    expect(allowed.head.toLowerCase()).not.toContain('set-cookie');
    expect(allowed.echo).toBe('ping');
    expect(plain.seen.at(-1)!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    const denied = await upgrade('/ws/denied');
    expect(denied.head).toMatch(/^HTTP\/1\.1 403/);
    await waitFor(() => a.sessions.length === 2 && a.sessions.every((s) => s.ctx.records.length === 1), 5_000, 'the records');
    expect(a.sessions.map((s) => [s.ctx.records[0]!.commandTag, s.ctx.records[0]!.verdict])).toEqual([['101', 'allowed'], ['403', 'denied']]);
  });

  it('frees the target connection when the client goes away mid-download', async () => {
    const a = await agent();
    const socket = net.connect(a.port, '127.0.0.1');
    let received = 0;
    const enough = new Promise<void>((resolve) => socket.on('data', (c: Buffer) => (received += c.length) > 1024 * 1024 && resolve()));
    socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    await enough;
    expect(plain.openConnections()).toBeGreaterThan(0);
    socket.destroy();
    const summary = await a.sessions[0]!.summary;
    expect(summary.error).toBeUndefined();
    await waitFor(() => plain.openConnections() === 0, 5_000, 'the target connection to close');
    expect(a.sessions[0]!.ctx.records[0]).toMatchObject({ text: 'GET /big', commandTag: '200', errorMessage: 'the client went away before the response ended' });
    expect(a.sessions[0]!.ctx.records[0]!.rows).toBeLessThan(256 * 1024 * 1024);
  });

  it('ends the session when the client is gone while writes to it are backed up and never acknowledged', async () => {
    const a = await agent({ tunnel: stallingDuplex });
    const socket = net.connect(a.port, '127.0.0.1');
    let received = 0;
    const enough = new Promise<void>((resolve) => socket.on('data', (c: Buffer) => (received += c.length) > 2 * 1024 * 1024 && resolve()));
    socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    await enough;
    // The client stops reading: the agent's writes back up and node stops reading the tunnel; then it goes.
    socket.pause();
    await new Promise((r) => setTimeout(r, 200));
    socket.destroy();
    const summary = await a.sessions[0]!.summary;
    expect(summary.bytesToClient).toBeGreaterThan(2 * 1024 * 1024);
    await waitFor(() => plain.openConnections() === 0, 5_000, 'the target connection to close');
  });

  it('ends the session when it is killed, and says so', async () => {
    const a = await agent();
    const socket = net.connect(a.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => socket.once('data', r));
    a.sessions[0]!.ctx.abort.abort(new Error('killed by admin'));
    await new Promise((r) => socket.once('close', r));
    expect((await a.sessions[0]!.summary).error).toEqual({ code: 'killed', message: 'airlock: the session was ended: killed by admin' });
    await waitFor(() => plain.openConnections() === 0, 5_000, 'the target connection to close');
  });

  it('masks JSON responses by field path and content detectors, keeping the rest byte for byte', async () => {
    const masking = new Masker([{ columns: ['customers.ssn'], mode: { kind: 'redact' } }, { detect: ['email', 'card'], mode: { kind: 'redact' } }], Buffer.alloc(32));
    const a = await agent({ masking });
    const res = await send(a.port, { path: '/customers', headers: { 'accept-encoding': 'gzip' } });
    expect(res.status).toBe(200);
    expect(plain.seen.at(-1)!.headers['accept-encoding']).toBeUndefined();
    const masked = JSON.parse(res.body.replace(/"id":(\d+)/, '"id":"$1"'));
    expect(res.body).toContain('"id":12345678901234567890');
    expect(masked.customers[0]).toMatchObject({ name: 'Ada' });
    expect(res.body).not.toContain('ada@example.com');
    expect(res.body).not.toContain('123-45-6789');
    expect(res.body).not.toContain('4111 1111 1111 1111');
  });
});
