/**
 * Each role against each endpoint family, over REST and gRPC: what an admin, a reviewer, a user and
 * an auditor may call (a service account is checked like the role it has). Calls an allowed role
 * makes carry bodies or ids that fail *after* authorization (400/404), so the table changes nothing;
 * a refused call is a 403 sentence and an `auth.forbidden` audit event.
 */
import { randomUUID } from 'node:crypto';
import { create, toBinary } from '@bufbuild/protobuf';
import { ClientServicePaths, ExecRequestSchema, GrpcCallError, GrpcChannel, GrpcStatus, TunnelRequestSchema, frameMessage } from '@airlock/proto';
import { Reflector, ModulesContainer } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../testing/test-database.js';
import { apiClient, startTestControlPlane, TEST_ADMIN_TOKEN, type TestControlPlane } from '../../testing/test-control-plane.js';
import { IS_PUBLIC } from '../principal.js';
import { ROLE_RULE } from './roles.decorator.js';

type Who = 'admin' | 'reviewer' | 'user' | 'auditor' | 'service account';
const EVERYONE: Who[] = ['admin', 'reviewer', 'user', 'auditor', 'service account'];

/** [family, method, path, body, who may (everyone else gets 403), status an allowed caller gets]. */
const REST: Array<[string, string, string, unknown, Who[], number]> = [
  ['identity', 'GET', '/v1/whoami', undefined, EVERYONE, 200],
  ['users (read)', 'GET', '/v1/users', undefined, ['admin'], 200],
  ['users (write)', 'POST', '/v1/users', {}, ['admin'], 400],
  ['service accounts (read)', 'GET', '/v1/service-accounts', undefined, ['admin'], 200],
  ['service accounts (write)', 'DELETE', '/v1/service-accounts/nobody', undefined, ['admin'], 404],
  ['agents', 'GET', '/v1/agents', undefined, ['admin'], 200],
  ['connections (read)', 'GET', '/v1/connections', undefined, EVERYONE, 200],
  ['connections (write)', 'POST', '/v1/connections', {}, ['admin'], 400],
  ['policies (read)', 'GET', '/v1/policies', undefined, EVERYONE, 200],
  ['policies (write)', 'DELETE', '/v1/policies/nope', undefined, ['admin'], 404],
  ['sessions (read)', 'GET', '/v1/sessions', undefined, EVERYONE, 200],
  ['sessions (kill)', 'POST', `/v1/sessions/${randomUUID()}/kill`, {}, ['admin'], 404],
  ['reviews (read)', 'GET', '/v1/reviews', undefined, EVERYONE, 200],
  ['reviews (decide)', 'POST', '/v1/reviews/99999/approve', {}, ['admin', 'reviewer', 'user', 'service account'], 404],
  ['access requests', 'POST', '/v1/access-requests', {}, ['admin', 'reviewer', 'user', 'service account'], 400],
  ['grants (read)', 'GET', '/v1/grants', undefined, EVERYONE, 200],
  ['grants (revoke)', 'DELETE', '/v1/grants/99999', undefined, ['admin', 'reviewer'], 404],
  ['audit', 'GET', '/v1/audit', undefined, ['admin', 'auditor'], 200],
  ['metrics', 'GET', '/metrics', undefined, ['admin', 'auditor'], 200],
];

describe('roles against every endpoint family', () => {
  let db: TestDatabase;
  let cp: TestControlPlane;
  const tokens = {} as Record<Who, string>;
  const subjects = {} as Record<Who, string>;
  const channels: GrpcChannel[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    cp = await startTestControlPlane({ databaseUrl: db.url, bootstrapToken: TEST_ADMIN_TOKEN });
    const bootstrap = apiClient(cp.url, TEST_ADMIN_TOKEN);
    for (const [who, name, role, groups] of [
      ['admin', 'ada', 'admin', ['platform']],
      ['reviewer', 'rita', 'reviewer', ['dba']],
      ['user', 'uma', 'user', ['engineers']],
      ['auditor', 'audrey', 'auditor', ['security']],
    ] as const) {
      const created = await bootstrap('POST', '/v1/users', { name, role, groups });
      expect(created.status).toBe(201);
      tokens[who] = created.body.token;
      subjects[who] = `user:${name}`;
    }
    const account = await bootstrap('POST', '/v1/service-accounts', { name: 'ci-bot', groups: ['ci'] });
    expect(account.status).toBe(201);
    tokens['service account'] = account.body.key;
    subjects['service account'] = 'serviceaccount:ci-bot';
  });
  afterAll(async () => {
    for (const channel of channels) channel.close();
    await cp?.close();
    await db?.drop();
  });

  const cells = REST.flatMap(([family, method, path, body, allowed, status]) =>
    EVERYONE.map((who) => [family, who, method, path, body, allowed.includes(who), status] as const),
  );

  it.each(cells)('REST %s as %s', async (_family, who, method, path, body, allowed, status) => {
    const res = await call(cp.url, tokens[who], method, path, body);
    if (allowed) {
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      return;
    }
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: 'forbidden', message: expect.stringMatching(new RegExp(`^only .+ may .+; you are signed in as ${subjects[who]}$`)) });
    const [event] = (await apiClient(cp.url, TEST_ADMIN_TOKEN)('GET', `/v1/audit?kind=auth.forbidden&actor=${subjects[who]}&limit=1`)).body.events;
    expect(event).toMatchObject({ target: expect.stringContaining(`endpoint/${method} `), details: { role: who === 'service account' ? 'user' : who } });
  });

  /** Both client RPCs, for a connection that does not exist: an authorized caller gets NOT_FOUND, after the identity checks. */
  const grpcCells = (['exec', 'tunnel'] as const).flatMap((rpc) => EVERYONE.map((who) => [rpc, who] as const));

  it.each(grpcCells)('gRPC %s as %s', async (rpc, who) => {
    const channel = new GrpcChannel(cp.url, { token: () => tokens[who] });
    channels.push(channel);
    const error = await callClientRpc(channel, rpc).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(GrpcCallError);
    if (who === 'auditor') {
      expect(error).toMatchObject({ code: GrpcStatus.PERMISSION_DENIED, message: 'auditors read sessions, reviews and the audit log; they open no sessions (you are signed in as user:audrey)' });
    } else {
      expect(error).toMatchObject({ code: GrpcStatus.NOT_FOUND, message: expect.stringContaining('connection "nope" does not exist') });
    }
  });

  it('gRPC refuses a missing or unknown credential with UNAUTHENTICATED, naming why', async () => {
    const none = new GrpcChannel(cp.url);
    const bad = new GrpcChannel(cp.url, { token: () => 'alk_sa_NotAKeyNotAKeyNotAKeyNotAKey12' });
    channels.push(none, bad);
    await expect(callClientRpc(none, 'exec')).rejects.toMatchObject({ code: GrpcStatus.UNAUTHENTICATED, message: 'no token: run airlock login' });
    await expect(callClientRpc(bad, 'exec')).rejects.toMatchObject({
      code: GrpcStatus.UNAUTHENTICATED,
      message: 'the control plane refused your token: the API key is not one this control plane issued; ask an admin for a service-account key',
    });
  });

  it('every route names who may call it (a route without a rule would be refused to everyone)', () => {
    const reflector = cp.app.get(Reflector);
    const unruled: string[] = [];
    for (const module of cp.app.get(ModulesContainer).values()) {
      for (const wrapper of module.controllers.values()) {
        const controller = wrapper.metatype as (new (...args: never[]) => unknown) | undefined;
        if (!controller) continue;
        for (const name of Object.getOwnPropertyNames(controller.prototype)) {
          const handler = (controller.prototype as Record<string, unknown>)[name];
          if (typeof handler !== 'function' || Reflect.getMetadata('method', handler) === undefined) continue;
          const targets = [handler, controller];
          if (!reflector.getAllAndOverride(IS_PUBLIC, targets) && !reflector.getAllAndOverride(ROLE_RULE, targets)) unruled.push(`${controller.name}.${name}`);
        }
      }
    }
    expect(unruled).toEqual([]);
  });
});

/** Like apiClient, but a body that is not JSON (the Prometheus text) is kept as text. */
async function call(url: string, token: string, method: string, path: string, body: unknown) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // text/plain, e.g. /metrics
  }
  return { status: response.status, body: parsed as Record<string, unknown> };
}

async function callClientRpc(channel: GrpcChannel, rpc: 'exec' | 'tunnel'): Promise<void> {
  if (rpc === 'exec') {
    await channel.unary(ClientServicePaths.exec, toBinary(ExecRequestSchema, create(ExecRequestSchema, { connection: 'nope', sql: 'select 1' })));
    return;
  }
  const call = channel.open(ClientServicePaths.tunnel);
  call.stream.on('error', () => undefined);
  call.stream.write(frameMessage(toBinary(TunnelRequestSchema, create(TunnelRequestSchema, { frame: { case: 'open', value: { connection: 'nope', clientAddress: '127.0.0.1:1' } } }))));
  await call.readOrFail();
}
