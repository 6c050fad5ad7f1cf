import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  AgentServicePaths,
  ControlRequestSchema,
  ControlResponseSchema,
  EnrollRequestSchema,
  EnrollResponseSchema,
  GrpcCallError,
  GrpcChannel,
  GrpcStatus,
  SessionRequestSchema,
} from '@airlock/proto';
import type { GrpcClientCall } from '@airlock/proto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentRegistry } from '../agents/agent-registry.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { apiClient, ManualClock, startTestControlPlane, TEST_ADMIN_TOKEN, type TestControlPlane } from '../testing/test-control-plane.js';

/**
 * Agents prove every Control and Session call with a fresh assertion signed by their own key. Each
 * way of getting that wrong is refused with its own sentence and audit event, over real gRPC, and
 * the control plane goes on serving everyone else.
 */

interface TestAgent {
  id: string;
  name: string;
  audience: string;
  privateKey: KeyObject;
  joinToken: string;
}

type Outcome = { welcome: string; call: GrpcClientCall } | { code: number; message: string };
type AuditEvent = { actor: string; kind: string; target: string; details: Record<string, unknown> };

describe('agent authentication over gRPC', () => {
  let db: TestDatabase;
  let cp: TestControlPlane;
  let api: ReturnType<typeof apiClient>;
  const clock = new ManualClock();
  const channels: GrpcChannel[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    cp = await startTestControlPlane({ databaseUrl: db.url, bootstrapToken: TEST_ADMIN_TOKEN }, clock);
    api = apiClient(cp.url, TEST_ADMIN_TOKEN);
  });
  afterAll(async () => {
    for (const channel of channels) channel.close();
    await cp?.close();
    await db?.drop();
  });

  const channel = (token?: string) => {
    const opened = new GrpcChannel(cp.url, { token: () => token });
    channels.push(opened);
    return opened;
  };

  async function enrollCall(joinToken: string, publicKey: KeyObject) {
    const request = create(EnrollRequestSchema, { joinToken, hostname: 'test-host', version: 'test', publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() });
    return fromBinary(EnrollResponseSchema, await channel().unary(AgentServicePaths.enroll, toBinary(EnrollRequestSchema, request)));
  }

  async function enroll(name: string): Promise<TestAgent> {
    const { body } = await api('POST', '/v1/agents', { name });
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const reply = await enrollCall(body.joinToken, publicKey);
    return { id: reply.agentId, name, audience: reply.audience, privateKey, joinToken: body.joinToken };
  }

  const nowS = () => Math.floor(clock.now().getTime() / 1000);

  function assertion(agent: TestAgent, claims: { iat?: number; exp?: number; aud?: string; iss?: string } = {}, key = agent.privateKey): Promise<string> {
    const iat = claims.iat ?? nowS();
    return new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
      .setIssuer(claims.iss ?? agent.id)
      .setSubject(claims.iss ?? agent.id)
      .setAudience(claims.aud ?? agent.audience)
      .setIssuedAt(iat)
      .setExpirationTime(claims.exp ?? iat + 60)
      .sign(key);
  }

  /** Opens a control stream the way the agent does (hello first) and says how the control plane answered. */
  async function openControl(token: string | undefined): Promise<Outcome> {
    const call = channel(token).open(AgentServicePaths.control);
    call.write(toBinary(ControlRequestSchema, create(ControlRequestSchema, { message: { case: 'hello', value: { version: 'test', hostname: 'test-host' } } })));
    try {
      const first = fromBinary(ControlResponseSchema, await call.readOrFail());
      return { welcome: first.message.case === 'welcome' ? first.message.value.agentName : `unexpected ${first.message.case}`, call };
    } catch (error) {
      return { code: (error as GrpcCallError).code, message: (error as GrpcCallError).message };
    }
  }

  async function refusals(kind: string): Promise<AuditEvent[]> {
    const res = await api('GET', `/v1/audit?kind=${kind}`);
    expect(res.status).toBe(200);
    return res.body.events as AuditEvent[];
  }

  async function refusal(reason: string): Promise<AuditEvent | undefined> {
    return (await refusals('agent.refused')).find((e) => e.details.reason === reason);
  }

  it('a fresh assertion opens the control stream, and each assertion opens one call only', async () => {
    const agent = await enroll('fresh');
    const token = await assertion(agent);
    const first = await openControl(token);
    expect(first).toMatchObject({ welcome: 'fresh' });
    expect(cp.app.get(AgentRegistry).isConnected(agent.id)).toBe(true);

    const replayed = await openControl(token);
    expect(replayed).toEqual({ code: GrpcStatus.UNAUTHENTICATED, message: expect.stringMatching(/^the assertion of agent "fresh" \(jti [\w-]+\) was already used; each call needs a fresh one$/) });
    expect(await refusal('replayed')).toMatchObject({
      // Whoever replays a captured assertion is not proven to be the agent.
      actor: 'anonymous:127.0.0.1',
      target: 'agent/fresh',
      details: { source: '127.0.0.1', method: AgentServicePaths.control, agentId: agent.id, signatureVerified: false },
    });
    expect(cp.app.get(AgentRegistry).isConnected(agent.id)).toBe(true);
    if ('call' in first) first.call.cancel();
  });

  it('refuses an expired assertion, naming both clocks', async () => {
    const agent = await enroll('late');
    const outcome = await openControl(await assertion(agent, { iat: nowS() - 200, exp: nowS() - 100 }));
    expect(outcome).toEqual({
      code: GrpcStatus.UNAUTHENTICATED,
      message: `the assertion of agent "late" expired at ${new Date((nowS() - 100) * 1000).toISOString()} (control plane time ${clock.now().toISOString()}); agents sign a fresh one per call, so check the agent host's clock`,
    });
    expect(await refusal('expired')).toMatchObject({ actor: 'agent:late', target: 'agent/late', details: { signatureVerified: true } });
  });

  it('refuses an assertion made for another control plane', async () => {
    const agent = await enroll('elsewhere');
    const other = 'urn:airlock:control-plane:00000000-0000-4000-8000-000000000000';
    const outcome = await openControl(await assertion(agent, { aud: other }));
    expect(outcome).toEqual({
      code: GrpcStatus.UNAUTHENTICATED,
      message: `the assertion of agent "elsewhere" is addressed to another control plane (aud "${other}"); this one is ${agent.audience}`,
    });
    expect(await refusal('wrong_audience')).toMatchObject({ target: 'agent/elsewhere' });
  });

  it('refuses a tampered assertion and one signed by another key', async () => {
    const agent = await enroll('tampered');
    const [header, payload, signature] = (await assertion(agent)).split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const stretched = Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 3600 })).toString('base64url');
    const outcome = await openControl(`${header}.${stretched}.${signature}`);
    expect(outcome).toEqual({
      code: GrpcStatus.UNAUTHENTICATED,
      message: expect.stringMatching(/^the assertion for agent "tampered" is not signed by its enrolled key \(fingerprint SHA256:[\w+/]{43}\)$/),
    });
    expect(await refusal('bad_signature')).toMatchObject({ actor: 'anonymous:127.0.0.1', target: 'agent/tampered', details: { signatureVerified: false } });

    const impostor = generateKeyPairSync('ed25519').privateKey;
    expect(await openControl(await assertion(agent, {}, impostor))).toMatchObject({ code: GrpcStatus.UNAUTHENTICATED, message: expect.stringContaining('is not signed by its enrolled key') });
  });

  it('refuses an unknown agent, and a call without an assertion', async () => {
    const ghost: TestAgent = { id: randomUUID(), name: 'ghost', audience: 'unused', privateKey: generateKeyPairSync('ed25519').privateKey, joinToken: '' };
    expect(await openControl(await assertion(ghost))).toEqual({
      code: GrpcStatus.UNAUTHENTICATED,
      message: `no agent has id ${ghost.id} (was it deleted?); create it again and enrol with a new join token`,
    });
    expect(await refusal('unknown_agent')).toMatchObject({ actor: 'anonymous:127.0.0.1', target: 'agent/unknown' });

    expect(await openControl(undefined)).toEqual({
      code: GrpcStatus.UNAUTHENTICATED,
      message: 'no agent assertion: every agent call carries "authorization: Bearer <assertion signed by the agent key>"',
    });
    expect(await refusal('missing')).toMatchObject({ target: 'agent/unknown' });
  });

  it('guards session streams the same way', async () => {
    const agent = await enroll('sessions');
    const token = await assertion(agent);
    const attach = toBinary(SessionRequestSchema, create(SessionRequestSchema, { frame: { case: 'attach', value: { sessionId: randomUUID() } } }));
    const status = async (call: GrpcClientCall) => {
      call.write(attach);
      return call.status;
    };
    // A valid assertion gets as far as the (unknown) session; its replay is refused before that.
    expect(await status(channel(token).open(AgentServicePaths.session))).toMatchObject({ code: GrpcStatus.NOT_FOUND });
    expect(await status(channel(token).open(AgentServicePaths.session))).toMatchObject({ code: GrpcStatus.UNAUTHENTICATED, message: expect.stringContaining('was already used') });
  });

  it('revoking closes the live control stream at once and refuses the agent from then on', async () => {
    const agent = await enroll('revoked');
    const live = await openControl(await assertion(agent));
    if (!('call' in live)) throw new Error(`the agent could not connect: ${live.message}`);

    const revoked = await api('POST', '/v1/agents/revoked/revoke');
    expect(revoked.status).toBe(200);
    // The agent is told it is refused for good (PERMISSION_DENIED), so it stops retrying.
    expect(await live.call.status).toEqual({ code: GrpcStatus.PERMISSION_DENIED, message: 'agent "revoked" was revoked by bootstrap-admin' });
    expect(cp.app.get(AgentRegistry).isConnected(agent.id)).toBe(false);

    expect(await openControl(await assertion(agent))).toEqual({
      code: GrpcStatus.PERMISSION_DENIED,
      message: `agent "revoked" was revoked at ${clock.now().toISOString()} by bootstrap-admin; it can no longer connect`,
    });
    expect(await refusal('revoked')).toMatchObject({ actor: 'agent:revoked', target: 'agent/revoked', details: { signatureVerified: true } });
    expect((await refusals('agent.revoked')).map((e) => [e.actor, e.target, e.details.closedStreams])).toEqual([['bootstrap-admin', 'agent/revoked', 1]]);
  });

  it('refuses a replayed join token, with an audit event', async () => {
    const agent = await enroll('enrolled-once');
    const replay = enrollCall(agent.joinToken, generateKeyPairSync('ed25519').publicKey);
    await expect(replay).rejects.toMatchObject({
      code: GrpcStatus.PERMISSION_DENIED,
      message: 'the join token for agent "enrolled-once" was already used; a join token enrols one agent only once',
    });
    expect((await refusals('agent.enrollment_refused')).find((e) => e.target === 'agent/enrolled-once')).toMatchObject({
      actor: 'anonymous:127.0.0.1',
      details: { reason: 'already_used', source: '127.0.0.1' },
    });
  });

  it('keeps serving everyone else after all those refusals', async () => {
    const agent = await enroll('after-all');
    const outcome = await openControl(await assertion(agent));
    expect(outcome).toMatchObject({ welcome: 'after-all' });
    expect((await api('GET', '/healthz')).status).toBe(200);
    if ('call' in outcome) outcome.call.cancel();
  });
});
