/**
 * A stand-in for a Kubernetes API server, for tests only: no Kubernetes runs here. It speaks HTTPS
 * with a test CA, checks a bearer token (so a test proves the agent presented it), and answers the
 * paths kubectl uses with real-shaped JSON: version and discovery, namespaces, pods (list, get, watch,
 * create, delete), deployments, and `exec` over a WebSocket (v5/v4.channel.k8s.io, as kubectl 1.30+
 * opens it), running `echo` and `date` only.
 */
import { createHash } from 'node:crypto';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface StandInRequest {
  method: string;
  url: string;
  authorization: string | undefined;
  impersonate: string | undefined;
}

export interface StandInApiServer {
  port: number;
  requests: StandInRequest[];
  /** Pod names by namespace. */
  pods: Map<string, Set<string>>;
  openConnections(): number;
  close(): Promise<void>;
}

const CREATED = '2026-11-01T10:00:00Z';

function pod(namespace: string, name: string) {
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: { name, namespace, uid: createHash('sha1').update(`${namespace}/${name}`).digest('hex').slice(0, 32), resourceVersion: '1001', creationTimestamp: CREATED, labels: { app: 'web' } },
    spec: { containers: [{ name: 'app', image: 'registry.local/web:1.4.2' }], nodeName: 'node-1' },
    status: { phase: 'Running', podIP: '10.0.0.12', containerStatuses: [{ name: 'app', ready: true, restartCount: 0, image: 'registry.local/web:1.4.2', imageID: '', started: true, state: { running: { startedAt: CREATED } } }] },
  };
}

function status(code: number, reason: string, message: string, details?: Record<string, unknown>) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code, ...(details ? { details } : {}) };
}

const API_RESOURCES = {
  kind: 'APIResourceList',
  groupVersion: 'v1',
  resources: [
    { name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['ns'] },
    { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['po'], categories: ['all'] },
    { name: 'pods/exec', singularName: '', namespaced: true, kind: 'PodExecOptions', verbs: ['create', 'get'] },
    { name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] },
    { name: 'pods/portforward', singularName: '', namespaced: true, kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
    { name: 'secrets', singularName: 'secret', namespaced: true, kind: 'Secret', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
  ],
};

const APPS_RESOURCES = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'apps/v1',
  resources: [{ name: 'deployments', singularName: 'deployment', namespaced: true, kind: 'Deployment', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['deploy'], categories: ['all'] }],
};

export async function startStandInApiServer(options: { cert: string; key: string; token: string }): Promise<StandInApiServer> {
  const requests: StandInRequest[] = [];
  const pods = new Map([['prod', new Set(['web-0', 'web-1'])], ['dev', new Set(['web-0'])]]);
  const sockets = new Set<Socket>();
  let port = 0;

  const authorized = (req: IncomingMessage) => req.headers.authorization === `Bearer ${options.token}`;
  const send = (res: ServerResponse, code: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const server = https.createServer({ cert: options.cert, key: options.key }, (req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, impersonate: req.headers['impersonate-user'] as string | undefined });
    req.resume();
    req.on('end', () => {
      if (!authorized(req)) return send(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
      const url = new URL(req.url ?? '/', 'https://standin');
      route(req.method ?? 'GET', url, res);
    });
  });

  function route(method: string, url: URL, res: ServerResponse): void {
    const path = url.pathname;
    if (path === '/version') return send(res, 200, { major: '1', minor: '32', gitVersion: 'v1.32.0-airlock-standin', gitCommit: '0', gitTreeState: 'clean', buildDate: CREATED, goVersion: 'go1.23', compiler: 'gc', platform: 'linux/amd64' });
    if (path === '/api') return send(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}` }] });
    if (path === '/apis') {
      return send(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [{ name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }], preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } }] });
    }
    if (path === '/api/v1') return send(res, 200, API_RESOURCES);
    if (path === '/apis/apps/v1') return send(res, 200, APPS_RESOURCES);
    if (path === '/api/v1/namespaces') {
      return send(res, 200, { kind: 'NamespaceList', apiVersion: 'v1', metadata: { resourceVersion: '1001' }, items: [...pods.keys()].map((name) => ({ kind: 'Namespace', apiVersion: 'v1', metadata: { name, creationTimestamp: CREATED }, status: { phase: 'Active' } })) });
    }
    const deployments = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments$/.exec(path);
    if (deployments) {
      return send(res, 200, { kind: 'DeploymentList', apiVersion: 'apps/v1', metadata: { resourceVersion: '1001' }, items: [{ kind: 'Deployment', apiVersion: 'apps/v1', metadata: { name: 'web', namespace: deployments[1], creationTimestamp: CREATED }, spec: { replicas: 2 }, status: { replicas: 2, readyReplicas: 2 } }] });
    }
    const list = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(path);
    if (list) {
      const names = [...(pods.get(list[1]!) ?? [])];
      if (method === 'POST') return send(res, 201, pod(list[1]!, 'created-0'));
      if (url.searchParams.get('watch') === 'true') return watch(res, list[1]!, names);
      return send(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '1001' }, items: names.map((n) => pod(list[1]!, n)) });
    }
    const one = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)(?:\/(log))?$/.exec(path);
    if (one) {
      const [, namespace, name, sub] = one as unknown as [string, string, string, string | undefined];
      if (!pods.get(namespace)?.has(name)) return send(res, 404, status(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' }));
      if (sub === 'log') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('started\nlistening on :8080\n');
        return;
      }
      if (method === 'DELETE') {
        pods.get(namespace)!.delete(name);
        return send(res, 200, pod(namespace, name));
      }
      return send(res, 200, pod(namespace, name));
    }
    send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
  }

  /** A watch: the current pods as ADDED events, then the stream stays open until the client goes. */
  function watch(res: ServerResponse, namespace: string, names: string[]): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders(); // as the API server does: a watch of nothing still answers at once
    for (const name of names) res.write(`${JSON.stringify({ type: 'ADDED', object: pod(namespace, name) })}\n`);
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, impersonate: undefined });
    socket.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'https://standin');
    const exec = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/.exec(url.pathname);
    const key = req.headers['sec-websocket-key'];
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const protocol = ['v5.channel.k8s.io', 'v4.channel.k8s.io'].find((p) => offered.includes(p));
    if (!authorized(req) || !exec || !key || !protocol || String(req.headers.upgrade).toLowerCase() !== 'websocket') {
      const body = JSON.stringify(status(authorized(req) ? 400 : 401, authorized(req) ? 'BadRequest' : 'Unauthorized', 'upgrade refused by the stand-in'));
      return socket.end(`HTTP/1.1 ${authorized(req) ? 400 : 401} Refused\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
    }
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`);
    const command = url.searchParams.getAll('command');
    const output = command[0] === 'echo' ? `${command.slice(1).join(' ')}\n` : command[0] === 'date' ? 'Wed Nov 25 10:00:00 UTC 2026\n' : '';
    const result = output ? { metadata: {}, status: 'Success' } : { metadata: {}, status: 'Failure', message: `command not found: ${command[0]}`, reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '127' }] } };
    if (output) socket.write(frame(Buffer.concat([Buffer.from([1]), Buffer.from(output)])));
    socket.write(frame(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify(result))])));
    socket.write(frame(Buffer.from([0x03, 0xe8]), 0x8)); // close, 1000
    socket.on('data', () => undefined); // the client's masked frames (close) are read and dropped
    setTimeout(() => socket.end(), 200).unref();
  });

  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  return {
    port,
    requests,
    pods,
    openConnections: () => sockets.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** One unmasked server-to-client WebSocket frame (binary unless told). */
function frame(payload: Buffer, opcode = 0x2): Buffer {
  const head = payload.length < 126 ? Buffer.from([0x80 | opcode, payload.length]) : Buffer.from([0x80 | opcode, 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([head, payload]);
}
