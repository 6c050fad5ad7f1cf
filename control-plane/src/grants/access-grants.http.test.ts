import { GrpcCallError, GrpcStatus, type GrpcServerCall } from '@airlock/proto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AgentRegistry } from '../agents/agent-registry.js';
import type { OpenSessionOrder } from '../agents/agent-link.js';
import { ConnectionsService } from '../connections/connections.service.js';
import { SessionBroker } from '../gateway/session-broker.js';
import { SessionOpener } from '../gateway/session-opener.js';
import type { Principal } from '../identity/principal.js';
import { ReviewsService } from '../reviews/reviews.service.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { RecordingAgentLink } from '../testing/recording-agent-link.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { apiClient, ManualClock, startTestControlPlane, TEST_ADMIN_TOKEN, type TestControlPlane } from '../testing/test-control-plane.js';
import { GRANT_SWEEP_MS, GrantsService } from './grants.service.js';

/**
 * Just-in-time access end to end inside the control plane: a real app over real HTTP on a fresh
 * Postgres database, a ManualClock for time, and the grants' real 1-second sweep left running.
 *
 * The agent is faked: an AttachingAgentLink registered in the AgentRegistry stands in for the
 * agent's control stream. It records every order and kill pushed to it (as RecordingAgentLink
 * does) and, when told to open a session, dials back at once through the SessionBroker the way a
 * real agent's Session stream would, so `SessionOpener.open` (the gateway's path for tunnel and
 * exec) runs for real up to the agent.
 */

type Api = ReturnType<typeof apiClient>;

const MINUTE = 60_000;
const CONNECTION = 'jit-orders';
const NEEDS_GRANT = `connection "${CONNECTION}" needs approved access: airlock request ${CONNECTION} --for 30m --reason "..."`;

/** Engineers may use jit-* only with a grant two dbas approved, for at most 1h. */
const JIT = `apiVersion: airlock/v1
kind: Policy
metadata: { name: jit-orders }
spec:
  subjects: ["group:engineers"]
  connections: ["jit-*"]
  access: review
  accessDuration: 1h
  default: allow
  review:
    reviewers: ["group:dba"]
    approvals: 2
    timeout: 15m
`;
/** Engineers use open-* without asking. */
const OPEN = `apiVersion: airlock/v1
kind: Policy
metadata: { name: open }
spec:
  subjects: ["group:engineers"]
  connections: ["open-*"]
  default: allow
`;

class AttachingAgentLink extends RecordingAgentLink {
  constructor(agentId: string, connectedAt: Date, private readonly broker: SessionBroker) {
    super(agentId, 'jit', connectedAt);
  }

  override openSession(order: OpenSessionOrder): void {
    super.openSession(order);
    queueMicrotask(() => this.broker.attach(order.sessionId, this.agentId, {} as GrpcServerCall));
  }
}

describe('just-in-time access: request, approve, grant, sessions, revoke and expiry', () => {
  let db: TestDatabase;
  let cp: TestControlPlane;
  let admin: Api;
  let link: AttachingAgentLink;
  let agentId: string;
  const clock = new ManualClock();
  const as: Record<string, Api> = {};
  const principals: Record<string, Principal> = {};

  beforeAll(async () => {
    db = await createTestDatabase();
    cp = await startTestControlPlane({ databaseUrl: db.url, bootstrapToken: TEST_ADMIN_TOKEN }, clock);
    admin = apiClient(cp.url, TEST_ADMIN_TOKEN);
    // Review expiry is not under test here; the grants' sweep is, so it keeps running.
    cp.app.get(ReviewsService).onApplicationShutdown();

    for (const document of [JIT, OPEN]) expect((await admin('POST', '/v1/policies:apply', { document })).status).toBe(200);
    // alice is a dba too: the only reason she may not approve her own access is that she asked.
    for (const [name, groups] of [['alice', ['engineers', 'dba']], ['bob', ['dba']], ['carol', ['dba']], ['erin', ['engineers']], ['dan', ['engineers']]] as const) {
      // The dba decide access reviews addressed to their group, which needs the reviewer role.
      const role = (groups as readonly string[]).includes('dba') ? 'reviewer' : 'user';
      const created = await admin('POST', '/v1/users', { name, groups, role });
      expect(created.status).toBe(201);
      as[name] = apiClient(cp.url, created.body.token);
      principals[name] = { subject: `user:${name}`, role, groups: [...groups], tokenId: created.body.user.id };
    }
    agentId = (await admin('POST', '/v1/agents', { name: 'jit' })).body.agent.id;
    for (const name of [CONNECTION, 'open-orders']) {
      expect((await admin('POST', '/v1/connections', { name, type: 'postgres', agent: 'jit', host: 'db', port: 5432 })).status).toBe(201);
    }
    link = new AttachingAgentLink(agentId, clock.now(), cp.app.get(SessionBroker));
    cp.app.get(AgentRegistry).register(link);
  });
  afterAll(async () => {
    await cp?.close();
    await db?.drop();
  });

  /** Opens a session the way the gateway does for `airlock connect` / `exec`. */
  function open(who: string, connectionName = CONNECTION) {
    return cp.app.get(SessionOpener).open({ connectionName, principal: principals[who], mode: 'tunnel', clientAddress: '127.0.0.1:5000' });
  }

  async function refusal(who: string, connectionName = CONNECTION): Promise<{ code: number; message: string }> {
    const error = await open(who, connectionName).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(GrpcCallError);
    return { code: (error as GrpcCallError).code, message: (error as GrpcCallError).message };
  }

  async function requestAccess(who: string, forSeconds = 30 * 60, reason = 'INC-42: stuck refunds'): Promise<number> {
    const created = await as[who]('POST', '/v1/access-requests', { connection: CONNECTION, forSeconds, reason });
    expect(created.status).toBe(201);
    return created.body.id;
  }

  /** bob and carol (two dbas) approve; returns the grant made from it. */
  async function approvedGrant(who: string, forSeconds = 30 * 60): Promise<{ id: number; expiresAt: string }> {
    const reviewId = await requestAccess(who, forSeconds);
    expect((await as.bob('POST', `/v1/reviews/${reviewId}/approve`, {})).body.state).toBe('pending');
    expect((await as.carol('POST', `/v1/reviews/${reviewId}/approve`, {})).body.state).toBe('approved');
    const grants = (await admin('GET', '/v1/grants')).body.grants as Array<{ id: number; reviewId: number; expiresAt: string }>;
    const grant = grants.find((g) => g.reviewId === reviewId);
    expect(grant, `no grant for review ${reviewId}`).toBeDefined();
    return grant!;
  }

  async function auditOf(target: string): Promise<Array<[string, string, unknown]>> {
    const res = await admin('GET', `/v1/audit?target=${target}`);
    expect(res.status).toBe(200);
    return res.body.events.map((e: { kind: string; actor: string; details: unknown }) => [e.kind, e.actor, e.details]).reverse();
  }

  it('refuses a session without a grant, with the command that asks for one; other connections are unaffected', async () => {
    expect(await refusal('alice')).toEqual({ code: GrpcStatus.PERMISSION_DENIED, message: NEEDS_GRANT });
    expect(await refusal('bob')).toEqual({ code: GrpcStatus.PERMISSION_DENIED, message: `no policy lets user:bob use connection "${CONNECTION}"` });
    const opened = await open('alice', 'open-orders');
    expect(opened.session.grantId).toBeNull();
    expect(link.openOrders.at(-1)?.sessionId).toBe(opened.session.id);
  });

  it('refuses access requests longer than the policy allows, and other bad requests, in plain words', async () => {
    expect(await as.alice('POST', '/v1/access-requests', { connection: CONNECTION, forSeconds: 2 * 3600, reason: 'long job' })).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', message: `you may ask for at most 1h of access to "${CONNECTION}" (accessDuration of jit-orders), not 2h` },
    });
    expect(await as.alice('POST', '/v1/access-requests', { connection: 'nope', forSeconds: 60, reason: 'x' })).toMatchObject({ status: 404, body: { message: 'connection "nope" does not exist' } });
    expect(await as.alice('POST', '/v1/access-requests', { connection: 'open-orders', forSeconds: 60, reason: 'x' })).toMatchObject({
      status: 400,
      body: { message: 'connection "open-orders" needs no approval for you: open sessions on it directly' },
    });
    expect(await as.bob('POST', '/v1/access-requests', { connection: CONNECTION, forSeconds: 60, reason: 'x' })).toMatchObject({
      status: 403,
      body: { message: `no policy lets user:bob use connection "${CONNECTION}"` },
    });
    expect(await as.alice('POST', '/v1/access-requests', { connection: CONNECTION, forSeconds: 60 })).toMatchObject({
      status: 400,
      body: { message: 'reason is required' },
    });
    // Nothing was created by any of these.
    expect((await admin('GET', '/v1/reviews')).body.reviews).toEqual([]);
  });

  it('creates a pending access review; N distinct reviewers approve it (not the requester, not a non-reviewer) and it becomes a grant the session opens under', async () => {
    const requestedAt = clock.now();
    const created = await as.alice('POST', '/v1/access-requests', { connection: CONNECTION, forSeconds: 30 * 60, reason: 'INC-42: stuck refunds' });
    expect(created).toMatchObject({ status: 201 });
    const id = created.body.id as number;
    expect(created.body).toEqual({
      id,
      kind: 'access',
      state: 'pending',
      connection: CONNECTION,
      sessionId: null,
      accessSeconds: 1800,
      requester: 'user:alice',
      statement: '',
      kinds: [],
      tables: [],
      policy: 'jit-orders',
      policyVersion: 1,
      reason: 'INC-42: stuck refunds',
      reviewers: ['group:dba'],
      approvals: 0,
      approvalsRequired: 2,
      stateReason: null,
      createdAt: requestedAt.toISOString(),
      expiresAt: new Date(requestedAt.getTime() + 15 * MINUTE).toISOString(),
      decidedAt: null,
      decisions: [],
    });

    expect(await as.alice('POST', `/v1/reviews/${id}/approve`, {})).toMatchObject({ status: 403, body: { message: `you cannot decide review ${id}: you asked for this access` } });
    expect(await as.erin('POST', `/v1/reviews/${id}/approve`, {})).toMatchObject({ status: 403, body: { message: `you cannot decide review ${id}: deciding reviews needs the reviewer role, and user:erin is a user` } });
    expect(await as.bob('POST', `/v1/reviews/${id}/approve`, { forSeconds: 60 })).toMatchObject({ status: 403, body: { message: 'the policy "jit-orders" does not allow approving for a while' } });
    expect(await as.bob('POST', `/v1/reviews/${id}/approve`, {})).toMatchObject({ status: 200, body: { state: 'pending', approvals: 1 } });
    expect(await as.bob('POST', `/v1/reviews/${id}/approve`, {})).toMatchObject({ status: 409 });
    expect((await as.alice('GET', '/v1/grants?active=true')).body.grants).toEqual([]);
    expect(await refusal('alice')).toEqual({ code: GrpcStatus.PERMISSION_DENIED, message: NEEDS_GRANT });

    clock.advance(MINUTE);
    const approvedAt = clock.now();
    expect(await as.carol('POST', `/v1/reviews/${id}/approve`, {})).toMatchObject({ status: 200, body: { state: 'approved', approvals: 2 } });

    const mine = await as.alice('GET', '/v1/grants?active=true');
    expect(mine.status).toBe(200);
    expect(mine.body.grants).toEqual([
      {
        id: expect.any(Number),
        subject: 'user:alice',
        connection: CONNECTION,
        reviewId: id,
        policy: 'jit-orders',
        state: 'active',
        startsAt: approvedAt.toISOString(),
        expiresAt: new Date(approvedAt.getTime() + 30 * MINUTE).toISOString(),
        revokedAt: null,
        revokedBy: null,
      },
    ]);
    const grantId = mine.body.grants[0].id as number;

    const opened = await open('alice');
    expect(opened.session).toMatchObject({ subject: 'user:alice', connectionName: CONNECTION, grantId });
    expect(link.openOrders.at(-1)).toMatchObject({ sessionId: opened.session.id, subject: 'user:alice' });
    expect((await as.alice('GET', `/v1/sessions/${opened.session.id}`)).body).toMatchObject({ status: 'open', grantId });
    // The grant is alice's alone: erin, an engineer too, still needs her own.
    expect(await refusal('erin')).toEqual({ code: GrpcStatus.PERMISSION_DENIED, message: NEEDS_GRANT });

    expect(await auditOf(`review/${id}`)).toEqual([
      ['review.created', 'user:alice', { kind: 'access', connection: CONNECTION, forSeconds: 1800, reason: 'INC-42: stuck refunds' }],
      ['review.refused', 'user:alice', expect.objectContaining({ attempted: 'approve', reason: 'own_request' })],
      ['review.refused', 'user:erin', expect.objectContaining({ attempted: 'approve', reason: 'not_a_reviewer' })],
      ['review.approval', 'user:bob', { comment: null, forSeconds: null }],
      ['review.approval', 'user:carol', { comment: null, forSeconds: null }],
      ['review.approved', 'user:carol', { reason: null }],
    ]);
    expect(await auditOf(`grant/${grantId}`)).toEqual([
      ['grant.created', 'airlock', { reviewId: id, subject: 'user:alice', connection: CONNECTION, expiresAt: new Date(approvedAt.getTime() + 30 * MINUTE).toISOString() }],
    ]);
  });

  it('expiry kills the sessions opened under the grant within a second, once, and later sessions are refused', async () => {
    const grant = await approvedGrant('erin', 10 * 60);
    const first = await open('erin');
    const second = await open('erin');
    const unrelated = await open('erin', 'open-orders');
    const killsBefore = link.kills.length;

    clock.advance(10 * MINUTE - 1);
    await cp.app.get(GrantsService).sweep();
    expect(link.kills.length).toBe(killsBefore);
    expect((await open('erin')).session.grantId).toBe(grant.id); // still in force for another millisecond

    clock.advance(1);
    // A session being opened right now is refused at once, before any sweep has run.
    expect(await refusal('erin')).toEqual({ code: GrpcStatus.PERMISSION_DENIED, message: NEEDS_GRANT });
    const started = Date.now();
    await vi.waitFor(() => expect(link.kills.length).toBe(killsBefore + 3), { timeout: GRANT_SWEEP_MS + 500, interval: 20 });
    expect(Date.now() - started).toBeLessThanOrEqual(GRANT_SWEEP_MS + 200);
    const reason = `access grant ${grant.id} to "${CONNECTION}" expired`;
    const killed = link.kills.slice(killsBefore);
    expect(killed.map((k) => k.reason)).toEqual([reason, reason, reason]);
    expect(killed.map((k) => k.sessionId)).toEqual(expect.arrayContaining([first.session.id, second.session.id]));
    expect(killed.map((k) => k.sessionId)).not.toContain(unrelated.session.id);

    // Later sweeps do not kill again while the agent reports the ends.
    await cp.app.get(GrantsService).sweep();
    expect(link.kills.length).toBe(killsBefore + 3);

    expect((await as.erin('GET', '/v1/grants?active=true')).body.grants).toEqual([]);
    expect((await as.erin('GET', '/v1/grants')).body.grants).toMatchObject([{ id: grant.id, state: 'expired' }]);
    expect(await auditOf(`grant/${grant.id}`)).toEqual([
      ['grant.created', 'airlock', expect.objectContaining({ subject: 'user:erin' })],
      ['grant.expired', 'airlock', { subject: 'user:erin', connection: CONNECTION, expiresAt: grant.expiresAt }],
    ]);
  });

  it('revoking (by a reviewer of the policy or an admin, nobody else) kills the sessions at once and refuses new ones', async () => {
    const grant = await approvedGrant('dan');
    const session = await open('dan');
    const killsBefore = link.kills.length;

    expect(await as.erin('DELETE', `/v1/grants/${grant.id}`)).toMatchObject({
      status: 403,
      body: { message: 'only admins and reviewers may revoke grants; you are signed in as user:erin' },
    });
    expect(await as.dan('DELETE', `/v1/grants/${grant.id}`)).toMatchObject({ status: 403 });
    expect(await as.bob('DELETE', '/v1/grants/99999')).toMatchObject({ status: 404, body: { message: 'grant 99999 does not exist' } });

    const revokedAt = clock.now();
    const revoked = await as.bob('DELETE', `/v1/grants/${grant.id}`);
    expect(revoked).toMatchObject({ status: 200, body: { id: grant.id, state: 'revoked', revokedBy: 'user:bob', revokedAt: revokedAt.toISOString() } });
    // Killed before the DELETE answered, not on a later sweep.
    expect(link.kills.slice(killsBefore)).toEqual([{ sessionId: session.session.id, reason: `access grant ${grant.id} to "${CONNECTION}" was revoked by user:bob` }]);
    expect(await as.bob('DELETE', `/v1/grants/${grant.id}`)).toMatchObject({ status: 409, body: { message: `grant ${grant.id} is already revoked` } });
    expect(await refusal('dan')).toEqual({ code: GrpcStatus.PERMISSION_DENIED, message: NEEDS_GRANT });

    // A session that slipped in while the grant was being revoked is caught by the next sweep.
    const connection = await cp.app.get(ConnectionsService).findByName(CONNECTION);
    const late = await cp.app.get(SessionsService).open({ connection, agentId, subject: 'user:dan', mode: 'tunnel', grantId: grant.id });
    await vi.waitFor(() => expect(link.kills.map((k) => k.sessionId)).toContain(late.id), { timeout: GRANT_SWEEP_MS + 500, interval: 20 });

    const byAdmin = await approvedGrant('dan');
    expect(await admin('DELETE', `/v1/grants/${byAdmin.id}`)).toMatchObject({ status: 200, body: { state: 'revoked', revokedBy: 'bootstrap-admin' } });

    expect(await auditOf(`grant/${grant.id}`)).toEqual([
      ['grant.created', 'airlock', expect.objectContaining({ subject: 'user:dan' })],
      ['grant.revoked', 'user:bob', { subject: 'user:dan', connection: CONNECTION }],
    ]);
  });

  it('lets only the requester cancel their pending request; a cancelled or rejected request makes no grant', async () => {
    const id = await requestAccess('alice');
    expect(await as.bob('POST', `/v1/reviews/${id}/cancel`)).toMatchObject({ status: 403, body: { message: `you cannot cancel review ${id}: only user:alice, who asked, may` } });
    expect(await admin('POST', `/v1/reviews/${id}/cancel`)).toMatchObject({ status: 403 });
    expect(await as.alice('POST', `/v1/reviews/${id}/cancel`)).toMatchObject({ status: 200, body: { state: 'cancelled', stateReason: 'cancelled by the requester' } });
    expect(await as.alice('POST', `/v1/reviews/${id}/cancel`)).toMatchObject({ status: 409, body: { message: `review ${id} is already cancelled` } });
    expect(await as.bob('POST', `/v1/reviews/${id}/approve`, {})).toMatchObject({ status: 409 });
    expect(await as.alice('POST', '/v1/reviews/99999/cancel')).toMatchObject({ status: 404 });

    const rejected = await requestAccess('alice');
    expect(await as.bob('POST', `/v1/reviews/${rejected}/reject`, { reason: 'use the read replica' })).toMatchObject({ status: 200, body: { state: 'rejected', stateReason: 'use the read replica' } });

    const grants = (await admin('GET', '/v1/grants')).body.grants as Array<{ reviewId: number }>;
    expect(grants.map((g) => g.reviewId)).not.toContain(id);
    expect(grants.map((g) => g.reviewId)).not.toContain(rejected);
    expect(await auditOf(`review/${id}`)).toEqual([
      ['review.created', 'user:alice', expect.objectContaining({ kind: 'access' })],
      ['review.refused', 'user:bob', { attempted: 'cancel', reason: 'not_requester', message: `you cannot cancel review ${id}: only user:alice, who asked, may` }],
      ['review.refused', 'bootstrap-admin', expect.objectContaining({ attempted: 'cancel', reason: 'not_requester' })],
      ['review.cancelled', 'user:alice', { reason: 'cancelled by the requester' }],
    ]);
  });

  it('lists grants: admins see everyone\'s, others only their own', async () => {
    const all = (await admin('GET', '/v1/grants')).body.grants as Array<{ subject: string }>;
    expect(new Set(all.map((g) => g.subject))).toEqual(new Set(['user:alice', 'user:erin', 'user:dan']));
    const dans = (await as.dan('GET', '/v1/grants')).body.grants as Array<{ subject: string }>;
    expect(dans.length).toBe(2);
    expect(dans.every((g) => g.subject === 'user:dan')).toBe(true);
    expect((await as.bob('GET', '/v1/grants')).body.grants).toEqual([]);
    expect(await as.bob('GET', '/v1/grants?active=yes')).toMatchObject({ status: 400, body: { message: 'active must be true or false' } });
    expect((await apiClient(cp.url)('GET', '/v1/grants')).status).toBe(401);
  });
});
