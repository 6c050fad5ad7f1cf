import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AgentRegistry } from '../agents/agent-registry.js';
import type { DecisionNotice } from '../agents/agent-link.js';
import { ConnectionsService } from '../connections/connections.service.js';
import type { SessionEntity } from '../sessions/session.entity.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { PROD_POSTGRES } from '../testing/policy-fixtures.js';
import { RecordingAgentLink } from '../testing/recording-agent-link.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { apiClient, ManualClock, startTestControlPlane, TEST_ADMIN_TOKEN, type TestControlPlane } from '../testing/test-control-plane.js';
import { ReviewsRepository } from './reviews.repository.js';
import { type HeldStatement, ReviewsService } from './reviews.service.js';

/**
 * Review rules end to end inside the control plane: a real app over real HTTP on a fresh Postgres
 * database, review settings read from really applied policy versions, and a ManualClock for time.
 *
 * The agent side is faked: `ReviewsService.request(...)` is what the gateway calls when an agent
 * holds a statement, and a RecordingAgentLink registered in the AgentRegistry stands in for that
 * agent's control stream, recording every DecisionNotice pushed to it.
 */

type Api = ReturnType<typeof apiClient>;

const MINUTE = 60_000;

/** Two dba approvals, one rejection rejects, 15m timeout, approve-for up to 1h (issue 3's example). */
const PROD = 'prod-postgres';
/** Two dba approvals, but a rejection only rejects once as many people rejected. */
const MAJORITY = `apiVersion: airlock/v1
kind: Policy
metadata: { name: majority }
spec:
  subjects: ["*"]
  connections: ["prod-*"]
  default: review
  review:
    reviewers: ["group:dba"]
    approvals: 2
    rejectOnAny: false
    timeout: 10m
`;
/** Fail-fast: the agent fails the statement at once; an approval lets the identical statement run once. */
const FAST = `apiVersion: airlock/v1
kind: Policy
metadata: { name: fast }
spec:
  subjects: ["*"]
  connections: ["prod-*"]
  default: review
  reviewMode: fail-fast
  review:
    reviewers: ["group:dba"]
    approvals: 1
`;
/** One approval, no approve-for allowed. */
const SINGLE = `apiVersion: airlock/v1
kind: Policy
metadata: { name: single }
spec:
  subjects: ["*"]
  connections: ["prod-*"]
  default: review
  review:
    reviewers: ["group:dba", "user:erin"]
    approvals: 1
`;
/** One approval with approve-for: for the approve/reject race. */
const SINGLE_WINDOW = `apiVersion: airlock/v1
kind: Policy
metadata: { name: single-window }
spec:
  subjects: ["*"]
  connections: ["prod-*"]
  default: review
  review:
    reviewers: ["group:dba"]
    approvals: 1
    approveFor: 1h
`;
/** The bootstrap admin as the reviewer, named the way policies name it (see policySubjectsOf). */
const ADMIN_REVIEWS = `apiVersion: airlock/v1
kind: Policy
metadata: { name: admin-reviews }
spec:
  subjects: ["*"]
  connections: ["prod-*"]
  default: review
  review:
    reviewers: ["user:bootstrap-admin"]
    approvals: 1
`;

describe('reviews over HTTP and through the service the gateway calls', () => {
  let db: TestDatabase;
  let cp: TestControlPlane;
  let admin: Api;
  let reviews: ReviewsService;
  const clock = new ManualClock();
  const versions: Record<string, number> = {};
  const as: Record<string, Api> = {};

  beforeAll(async () => {
    db = await createTestDatabase();
    cp = await startTestControlPlane({ databaseUrl: db.url, bootstrapToken: TEST_ADMIN_TOKEN }, clock);
    admin = apiClient(cp.url, TEST_ADMIN_TOKEN);
    reviews = cp.app.get(ReviewsService);
    // Stop the 1s background sweep: expiry happens only when a test calls expireDue(), so moving
    // the ManualClock never races with a sweep.
    reviews.onApplicationShutdown();

    for (const document of [PROD_POSTGRES, MAJORITY, FAST, SINGLE, SINGLE_WINDOW, ADMIN_REVIEWS]) {
      const applied = await admin('POST', '/v1/policies:apply', { document });
      expect(applied.status).toBe(200);
      versions[applied.body.name] = applied.body.version;
    }
    // alice is a dba too, so the only reason she may not approve her own statement is that it is hers.
    for (const [name, groups] of [['alice', ['engineers', 'dba']], ['bob', ['dba']], ['carol', ['dba']], ['dan', ['dba']], ['erin', ['engineers']], ['frank', ['security']]] as const) {
      // Deciding reviews addressed to a group needs the reviewer role; erin stays a user.
      const created = await admin('POST', '/v1/users', { name, groups, role: name === 'erin' ? 'user' : 'reviewer' });
      expect(created.status).toBe(201);
      as[name] = apiClient(cp.url, created.body.token);
    }
  });
  afterAll(async () => {
    await cp?.close();
    await db?.drop();
  });

  interface Fixture {
    agentId: string;
    link: RecordingAgentLink;
    session: SessionEntity;
    openSession(subject: string, connection?: string): Promise<SessionEntity>;
  }

  /** A fresh agent (with its fake control stream), a connection behind it and alice's session on it. */
  async function agentWithSession(name: string): Promise<Fixture> {
    const agentId = (await admin('POST', '/v1/agents', { name })).body.agent.id as string;
    expect((await admin('POST', '/v1/connections', { name: `prod-${name}`, type: 'postgres', agent: name, host: 'db', port: 5432 })).status).toBe(201);
    const link = new RecordingAgentLink(agentId, name, clock.now());
    cp.app.get(AgentRegistry).register(link);
    const openSession = async (subject: string, connectionName = `prod-${name}`) => {
      const connection = await cp.app.get(ConnectionsService).findByName(connectionName);
      return cp.app.get(SessionsService).open({ connection, agentId, subject, mode: 'tunnel' });
    };
    return { agentId, link, session: await openSession('user:alice'), openSession };
  }

  let fingerprints = 0;
  /** What the gateway passes on when the agent holds alice's DELETE; a fresh request id and fingerprint unless given. */
  function held(on: Fixture, policy: string, overrides: Partial<HeldStatement> = {}): HeldStatement {
    return {
      requestId: randomUUID(),
      agentId: on.agentId,
      sessionId: on.session.id,
      connectionName: on.session.connectionName,
      requester: on.session.subject,
      statement: 'DELETE FROM public.orders WHERE id = 42',
      kinds: ['delete'],
      tables: ['public.orders'],
      policyName: policy,
      policyVersion: versions[policy],
      reason: `rule 2 of ${policy}: delete on public.*`,
      fingerprint: `fp-${++fingerprints}`,
      ...overrides,
    };
  }

  /** Requests a review the way the gateway does; returns the review id the agent was told. */
  async function request(on: Fixture, statement: HeldStatement): Promise<number> {
    await reviews.request(statement);
    const last = on.link.noticesFor(statement.requestId).at(-1);
    expect(last, `the agent was told nothing about ${statement.requestId}`).toBeDefined();
    return last!.reviewId;
  }

  function notice(requestId: string, reviewId: number, state: DecisionNotice['state'], more: Partial<DecisionNotice> = {}): DecisionNotice {
    return { requestId, reviewId, state, approvals: 0, approvalsRequired: 2, reason: '', decidedBy: [], failFast: false, ...more };
  }

  async function allReviewIds(): Promise<number[]> {
    const list = await admin('GET', '/v1/reviews?limit=500');
    expect(list.status).toBe(200);
    return list.body.reviews.map((r: { id: number }) => r.id);
  }

  /** The review's audit trail, oldest first, as [kind, actor, details]. */
  async function auditOf(reviewId: number): Promise<Array<[string, string, unknown]>> {
    const res = await admin('GET', `/v1/audit?target=review/${reviewId}`);
    expect(res.status).toBe(200);
    return res.body.events.map((e: { kind: string; actor: string; details: unknown }) => [e.kind, e.actor, e.details]).reverse();
  }

  it('opens a pending review, tells the agent "pending 0 of 2", and finds the same review when asked again with the same request id', async () => {
    const eu = await agentWithSession('eu');
    const statement = held(eu, PROD);
    const before = await allReviewIds();
    const id = await request(eu, statement);
    expect(eu.link.notices).toEqual([notice(statement.requestId, id, 'pending')]);

    const created = clock.now();
    const shown = await as.bob('GET', `/v1/reviews/${id}`);
    expect(shown).toMatchObject({ status: 200 });
    expect(shown.body).toEqual({
      id,
      kind: 'statement',
      state: 'pending',
      connection: 'prod-eu',
      sessionId: eu.session.id,
      accessSeconds: null,
      requester: 'user:alice',
      statement: 'DELETE FROM public.orders WHERE id = 42',
      kinds: ['delete'],
      tables: ['public.orders'],
      policy: PROD,
      policyVersion: versions[PROD],
      reason: 'rule 2 of prod-postgres: delete on public.*',
      reviewers: ['group:dba'],
      approvals: 0,
      approvalsRequired: 2,
      stateReason: null,
      createdAt: created.toISOString(),
      expiresAt: new Date(created.getTime() + 15 * MINUTE).toISOString(),
      decidedAt: null,
      decisions: [],
    });

    // The agent reconnected and asks again for the statement it still holds: same review, told again.
    clock.advance(MINUTE);
    expect(await request(eu, statement)).toBe(id);
    expect(eu.link.notices).toEqual([notice(statement.requestId, id, 'pending'), notice(statement.requestId, id, 'pending')]);
    expect(await allReviewIds()).toEqual([id, ...before]);
    expect((await as.bob('GET', '/v1/reviews?state=pending')).body.reviews.map((r: { id: number }) => r.id)).toContain(id);
    expect((await as.bob('GET', '/v1/reviews?state=approved')).body.reviews.map((r: { id: number }) => r.id)).not.toContain(id);
    expect(await auditOf(id)).toEqual([['review.created', 'user:alice', { connection: 'prod-eu', statement: statement.statement, reason: statement.reason }]]);
  });

  it('answers unknown reviews and bad filters with readable errors', async () => {
    expect(await admin('GET', '/v1/reviews?state=done')).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', message: 'state must be one of pending, approved, rejected, expired, cancelled' },
    });
    expect(await admin('GET', '/v1/reviews/99999')).toMatchObject({ status: 404, body: { error: 'not_found', message: 'review 99999 does not exist' } });
    expect(await as.bob('POST', '/v1/reviews/99999/approve', {})).toMatchObject({ status: 404, body: { message: 'review 99999 does not exist' } });
    expect(await as.bob('POST', '/v1/reviews/99999/reject', { reason: 'no' })).toMatchObject({ status: 404, body: { message: 'review 99999 does not exist' } });
    expect(await admin('GET', '/v1/reviews')).toMatchObject({ status: 200 });
    expect((await apiClient(cp.url)('GET', '/v1/reviews')).status).toBe(401);
  });

  it('counts approvals per distinct reviewer (N of M) and tells the agent at each step', async () => {
    const n = await agentWithSession('n-of-m');
    const statement = held(n, PROD);
    const id = await request(n, statement);

    clock.advance(MINUTE);
    const first = await as.bob('POST', `/v1/reviews/${id}/approve`, { comment: 'looks fine' });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ id, state: 'pending', approvals: 1, approvalsRequired: 2, decidedAt: null });
    expect(first.body.decisions).toEqual([{ reviewer: 'user:bob', decision: 'approve', comment: 'looks fine', forSeconds: null, at: clock.now().toISOString() }]);
    expect(n.link.notices.at(-1)).toEqual(notice(statement.requestId, id, 'pending', { approvals: 1, decidedBy: ['user:bob'] }));

    // The same person twice is still one approval, whether they approve or reject again.
    const noticesSoFar = n.link.notices.length;
    expect(await as.bob('POST', `/v1/reviews/${id}/approve`, {})).toMatchObject({ status: 409, body: { error: 'conflict', message: `you already decided review ${id}` } });
    expect(await as.bob('POST', `/v1/reviews/${id}/reject`, { reason: 'changed my mind' })).toMatchObject({ status: 409, body: { message: `you already decided review ${id}` } });
    expect(n.link.notices).toHaveLength(noticesSoFar);
    expect((await as.bob('GET', `/v1/reviews/${id}`)).body).toMatchObject({ state: 'pending', approvals: 1 });

    clock.advance(MINUTE);
    const second = await as.carol('POST', `/v1/reviews/${id}/approve`, {});
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ id, state: 'approved', approvals: 2, stateReason: null, decidedAt: clock.now().toISOString() });
    expect(second.body.decisions.map((d: { reviewer: string }) => d.reviewer)).toEqual(['user:bob', 'user:carol']);
    expect(n.link.notices.at(-1)).toEqual(notice(statement.requestId, id, 'approved', { approvals: 2, decidedBy: ['user:bob', 'user:carol'] }));
    expect(n.link.notices).toHaveLength(noticesSoFar + 1);

    expect((await as.bob('GET', '/v1/reviews?state=approved')).body.reviews.map((r: { id: number }) => r.id)).toContain(id);
    expect((await as.bob('GET', '/v1/reviews?state=pending')).body.reviews.map((r: { id: number }) => r.id)).not.toContain(id);
    expect(await auditOf(id)).toEqual([
      ['review.created', 'user:alice', expect.any(Object)],
      ['review.approval', 'user:bob', { comment: 'looks fine', forSeconds: null }],
      ['review.approval', 'user:carol', { comment: null, forSeconds: null }],
      ['review.approved', 'user:carol', { reason: null }],
    ]);
  });

  it('refuses self-approval, non-reviewers and decisions on decided reviews, changing nothing', async () => {
    const r = await agentWithSession('refusals');
    const statement = held(r, PROD);
    const id = await request(r, statement);
    const noticesSoFar = r.link.notices.length;

    expect(await as.alice('POST', `/v1/reviews/${id}/approve`, {})).toMatchObject({
      status: 403,
      body: { error: 'forbidden', message: `you cannot decide review ${id}: you sent the statement` },
    });
    expect(await as.alice('POST', `/v1/reviews/${id}/reject`, { reason: 'oops' })).toMatchObject({ status: 403, body: { message: `you cannot decide review ${id}: you sent the statement` } });
    expect(await as.erin('POST', `/v1/reviews/${id}/approve`, {})).toMatchObject({
      status: 403,
      body: { error: 'forbidden', message: `you cannot decide review ${id}: deciding reviews needs the reviewer role, and user:erin is a user` },
    });
    // A reviewer, but of another group.
    expect(await as.frank('POST', `/v1/reviews/${id}/approve`, {})).toMatchObject({
      status: 403,
      body: { error: 'forbidden', message: `you cannot decide review ${id}: it is for group:dba` },
    });
    // Admins decide only reviews addressed to them, like reviewers.
    expect(await admin('POST', `/v1/reviews/${id}/reject`, { reason: 'no' })).toMatchObject({ status: 403, body: { message: `you cannot decide review ${id}: it is for group:dba` } });
    expect(await as.bob('POST', `/v1/reviews/${id}/reject`, {})).toMatchObject({ status: 400, body: { error: 'invalid_request', message: 'reason is required' } });
    expect(await as.bob('POST', `/v1/reviews/${id}/approve`, { forSeconds: 0 })).toMatchObject({ status: 400, body: { message: 'forSeconds must be at least 1' } });
    expect(r.link.notices).toHaveLength(noticesSoFar);
    expect((await admin('GET', `/v1/reviews/${id}`)).body).toMatchObject({ state: 'pending', approvals: 0, decisions: [] });
    // Each refusal is on the record with who tried, what and why; nothing else changed.
    expect((await auditOf(id)).map(([kind, actor, details]) => [kind, actor, kind === 'review.refused' ? (details as { reason: string }).reason : null])).toEqual([
      ['review.created', 'user:alice', null],
      ['review.refused', 'user:alice', 'own_request'],
      ['review.refused', 'user:alice', 'own_request'],
      ['review.refused', 'user:erin', 'not_a_reviewer'],
      ['review.refused', 'user:frank', 'not_addressed'],
      ['review.refused', 'bootstrap-admin', 'not_addressed'],
    ]);

    expect(await as.bob('POST', `/v1/reviews/${id}/reject`, { reason: 'not during business hours' })).toMatchObject({ status: 200, body: { state: 'rejected' } });
    expect(await as.carol('POST', `/v1/reviews/${id}/approve`, {})).toMatchObject({ status: 409, body: { error: 'conflict', message: `review ${id} is already rejected` } });
    expect(await as.carol('POST', `/v1/reviews/${id}/reject`, { reason: 'me too' })).toMatchObject({ status: 409, body: { message: `review ${id} is already rejected` } });
    expect((await admin('GET', `/v1/reviews/${id}`)).body.decisions).toHaveLength(1);
  });

  it('rejects on the first rejection with reject-on-any, passing the reason to the agent', async () => {
    const r = await agentWithSession('reject-any');
    const statement = held(r, PROD);
    const id = await request(r, statement);
    await as.bob('POST', `/v1/reviews/${id}/approve`, {});
    clock.advance(MINUTE);
    const rejected = await as.carol('POST', `/v1/reviews/${id}/reject`, { reason: 'this would lock orders during business hours' });
    expect(rejected).toMatchObject({
      status: 200,
      body: { state: 'rejected', approvals: 1, stateReason: 'this would lock orders during business hours', decidedAt: clock.now().toISOString() },
    });
    expect(rejected.body.decisions.at(-1)).toMatchObject({ reviewer: 'user:carol', decision: 'reject', comment: 'this would lock orders during business hours' });
    expect(r.link.notices.at(-1)).toEqual(
      notice(statement.requestId, id, 'rejected', { approvals: 1, reason: 'this would lock orders during business hours', decidedBy: ['user:bob', 'user:carol'] }),
    );
    expect(await auditOf(id)).toEqual([
      ['review.created', 'user:alice', expect.any(Object)],
      ['review.approval', 'user:bob', { comment: null, forSeconds: null }],
      ['review.rejection', 'user:carol', { reason: 'this would lock orders during business hours' }],
      ['review.rejected', 'user:carol', { reason: 'this would lock orders during business hours' }],
    ]);
  });

  it('without reject-on-any, needs as many rejections as approvals required', async () => {
    const r = await agentWithSession('majority');
    const statement = held(r, 'majority');
    const id = await request(r, statement);
    expect(r.link.notices.at(-1)).toEqual(notice(statement.requestId, id, 'pending'));

    expect(await as.bob('POST', `/v1/reviews/${id}/reject`, { reason: 'too broad' })).toMatchObject({ status: 200, body: { state: 'pending', approvals: 0 } });
    expect(r.link.notices.at(-1)).toEqual(notice(statement.requestId, id, 'pending', { decidedBy: ['user:bob'] }));
    expect(await as.carol('POST', `/v1/reviews/${id}/approve`, {})).toMatchObject({ status: 200, body: { state: 'pending', approvals: 1 } });
    expect(r.link.notices.at(-1)).toEqual(notice(statement.requestId, id, 'pending', { approvals: 1, decidedBy: ['user:bob', 'user:carol'] }));
    expect(await as.dan('POST', `/v1/reviews/${id}/reject`, { reason: 'no WHERE on tenant' })).toMatchObject({
      status: 200,
      body: { state: 'rejected', approvals: 1, stateReason: 'too broad; no WHERE on tenant' },
    });
    expect(r.link.notices.at(-1)).toEqual(
      notice(statement.requestId, id, 'rejected', { approvals: 1, reason: 'too broad; no WHERE on tenant', decidedBy: ['user:bob', 'user:carol', 'user:dan'] }),
    );
    expect((await auditOf(id)).map(([kind, actor]) => [kind, actor])).toEqual([
      ['review.created', 'user:alice'],
      ['review.rejection', 'user:bob'],
      ['review.approval', 'user:carol'],
      ['review.rejection', 'user:dan'],
      ['review.rejected', 'user:dan'],
    ]);
  });

  it('expires a pending review once the clock passes its timeout, and tells the agent', async () => {
    const r = await agentWithSession('expiry');
    const statement = held(r, PROD);
    const id = await request(r, statement);
    clock.advance(5 * MINUTE);
    const later = held(r, PROD);
    const laterId = await request(r, later);

    clock.advance(10 * MINUTE); // exactly at the timeout: not yet past it
    await reviews.expireDue();
    expect((await admin('GET', `/v1/reviews/${id}`)).body.state).toBe('pending');

    clock.advance(1000);
    await reviews.expireDue();
    expect((await admin('GET', `/v1/reviews/${id}`)).body).toMatchObject({
      state: 'expired',
      stateReason: 'nobody decided before the review timed out',
      decidedAt: clock.now().toISOString(),
    });
    expect(r.link.noticesFor(statement.requestId)).toEqual([
      notice(statement.requestId, id, 'pending'),
      notice(statement.requestId, id, 'expired', { reason: 'nobody decided before the review timed out' }),
    ]);
    // The review opened 5 minutes later is not due yet.
    expect((await admin('GET', `/v1/reviews/${laterId}`)).body.state).toBe('pending');
    expect(r.link.noticesFor(later.requestId).map((n) => n.state)).toEqual(['pending']);

    // Expiring again does nothing more; an expired review cannot be decided.
    await reviews.expireDue();
    expect(r.link.noticesFor(statement.requestId)).toHaveLength(2);
    expect(await as.bob('POST', `/v1/reviews/${id}/approve`, {})).toMatchObject({ status: 409, body: { message: `review ${id} is already expired` } });
    expect((await as.bob('GET', '/v1/reviews?state=expired')).body.reviews.map((v: { id: number }) => v.id)).toContain(id);
    expect(await auditOf(id)).toEqual([
      ['review.created', 'user:alice', expect.any(Object)],
      ['review.expired', 'airlock', { reason: 'nobody decided before the review timed out' }],
    ]);
  });

  it('approve-for: refuses windows beyond the policy, then lets the identical statement pass until the window ends', async () => {
    const r = await agentWithSession('window');
    const fingerprint = 'fp-window';
    const first = held(r, PROD, { fingerprint });
    const id = await request(r, first);

    expect(await as.bob('POST', `/v1/reviews/${id}/approve`, { forSeconds: 7200 })).toMatchObject({
      status: 403,
      body: { error: 'forbidden', message: 'the policy "prod-postgres" allows approving for at most 3600s' },
    });
    expect((await admin('GET', `/v1/reviews/${id}`)).body.decisions).toEqual([]);

    await as.bob('POST', `/v1/reviews/${id}/approve`, { forSeconds: 3600, comment: 'for the migration' });
    clock.advance(MINUTE);
    const approved = await as.carol('POST', `/v1/reviews/${id}/approve`, { forSeconds: 1800 });
    expect(approved).toMatchObject({ status: 200, body: { state: 'approved' } });
    expect(approved.body.decisions.map((d: { forSeconds: number }) => d.forSeconds)).toEqual([3600, 1800]);
    // The shortest window among the approvers applies.
    const until = new Date(clock.now().getTime() + 1800 * 1000);

    // Ten minutes later the same person sends the identical statement on the same connection again.
    clock.advance(10 * MINUTE);
    const before = await allReviewIds();
    const again = held(r, PROD, { fingerprint });
    await reviews.request(again);
    expect(r.link.noticesFor(again.requestId)).toEqual([
      notice(again.requestId, id, 'approved', { approvalsRequired: 0, reason: `approved until ${until.toISOString()} by review ${id}` }),
    ]);
    expect(await allReviewIds()).toEqual(before);

    // The window is the requester's and the connection's, not anyone's anywhere.
    const erinSession = await r.openSession('user:erin');
    const byErin = held(r, PROD, { fingerprint, sessionId: erinSession.id, requester: 'user:erin' });
    expect(await request(r, byErin)).not.toBe(id);
    expect(r.link.noticesFor(byErin.requestId).map((n) => n.state)).toEqual(['pending']);
    await admin('POST', '/v1/connections', { name: 'prod-window-2', type: 'postgres', agent: 'window', host: 'db2', port: 5432 });
    const otherConnection = await r.openSession('user:alice', 'prod-window-2');
    const elsewhere = held(r, PROD, { fingerprint, sessionId: otherConnection.id, connectionName: 'prod-window-2' });
    expect(await request(r, elsewhere)).not.toBe(id);
    expect(r.link.noticesFor(elsewhere.requestId).map((n) => n.state)).toEqual(['pending']);

    // After the window, the identical statement needs a new review.
    clock.advance(20 * MINUTE);
    const afterWindow = held(r, PROD, { fingerprint });
    const newId = await request(r, afterWindow);
    expect(newId).not.toBe(id);
    expect(r.link.noticesFor(afterWindow.requestId)).toEqual([notice(afterWindow.requestId, newId, 'pending')]);
    expect((await auditOf(id)).map(([kind, actor, details]) => [kind, actor, details])).toEqual([
      ['review.created', 'user:alice', expect.any(Object)],
      ['review.approval', 'user:bob', { comment: 'for the migration', forSeconds: 3600 }],
      ['review.approval', 'user:carol', { comment: null, forSeconds: 1800 }],
      ['review.approved', 'user:carol', { reason: null }],
      // The statement that passed inside the window is on the record too.
      ['review.reused', 'user:alice', { requestId: expect.any(String), until: expect.any(String) }],
    ]);
  });

  it('approve-for is refused outright when the policy allows none, and a plain approval opens no window', async () => {
    const r = await agentWithSession('no-window');
    const fingerprint = 'fp-no-window';
    const id = await request(r, held(r, 'single', { fingerprint }));
    expect(await as.bob('POST', `/v1/reviews/${id}/approve`, { forSeconds: 60 })).toMatchObject({
      status: 403,
      body: { message: 'the policy "single" does not allow approving for a while' },
    });
    // user:erin is named as a reviewer directly, beside group:dba.
    expect(await as.erin('POST', `/v1/reviews/${id}/approve`, {})).toMatchObject({ status: 200, body: { state: 'approved', approvals: 1, approvalsRequired: 1 } });
    const again = held(r, 'single', { fingerprint });
    const next = await request(r, again);
    expect(next).not.toBe(id);
    expect(r.link.noticesFor(again.requestId)).toEqual([notice(again.requestId, next, 'pending', { approvalsRequired: 1 })]);
  });

  it('fail-fast: pending with failFast, then the approval releases the identical statement exactly once', async () => {
    const r = await agentWithSession('fail-fast');
    const fingerprint = 'fp-fail-fast';
    const first = held(r, 'fast', { fingerprint });
    const id = await request(r, first);
    expect(r.link.noticesFor(first.requestId)).toEqual([notice(first.requestId, id, 'pending', { approvalsRequired: 1, failFast: true })]);

    // Sent again before anyone decided: told about the same review, no second one.
    const before = await allReviewIds();
    const early = held(r, 'fast', { fingerprint });
    await reviews.request(early);
    expect(r.link.noticesFor(early.requestId)).toEqual([notice(early.requestId, id, 'pending', { approvalsRequired: 1, failFast: true })]);
    expect(await allReviewIds()).toEqual(before);

    expect(await as.bob('POST', `/v1/reviews/${id}/approve`, {})).toMatchObject({ status: 200, body: { state: 'approved' } });

    // The requester sends it again, under a new request id: it runs, once.
    const retry = held(r, 'fast', { fingerprint });
    await reviews.request(retry);
    expect(r.link.noticesFor(retry.requestId)).toEqual([notice(retry.requestId, id, 'approved', { approvalsRequired: 1 })]);
    expect(await allReviewIds()).toEqual(before);

    const third = held(r, 'fast', { fingerprint });
    const thirdId = await request(r, third);
    expect(thirdId).not.toBe(id);
    expect(r.link.noticesFor(third.requestId)).toEqual([notice(third.requestId, thirdId, 'pending', { approvalsRequired: 1, failFast: true })]);
    expect(await auditOf(id)).toEqual([
      ['review.created', 'user:alice', expect.any(Object)],
      ['review.approval', 'user:bob', { comment: null, forSeconds: null }],
      ['review.approved', 'user:bob', { reason: null }],
      ['review.released', 'user:alice', { requestId: retry.requestId }],
    ]);
  });

  it('releases one fail-fast approval once even when two identical retries race', async () => {
    const r = await agentWithSession('fail-fast-race');
    const fingerprint = 'fp-fail-fast-race';
    const id = await request(r, held(r, 'fast', { fingerprint }));
    await as.bob('POST', `/v1/reviews/${id}/approve`, {});
    const retries = [held(r, 'fast', { fingerprint }), held(r, 'fast', { fingerprint })];
    await Promise.all(retries.map((h) => reviews.request(h)));
    const states = retries.map((h) => r.link.noticesFor(h.requestId).map((n) => n.state)).sort();
    expect(states).toEqual([['approved'], ['pending']]);
  });

  it('cancelOrphans cancels the agent\'s pending reviews it no longer holds, and only those', async () => {
    const r = await agentWithSession('orphans');
    const other = await agentWithSession('bystander');
    const stillHeld = held(r, PROD);
    const orphan = held(r, PROD);
    const decided = held(r, 'single');
    const stillHeldId = await request(r, stillHeld);
    const orphanId = await request(r, orphan);
    const decidedId = await request(r, decided);
    const otherId = await request(other, held(other, PROD));
    await as.bob('POST', `/v1/reviews/${decidedId}/approve`, {});

    await reviews.cancelOrphans(r.agentId, [stillHeld.requestId], 'agent:orphans');

    expect((await admin('GET', `/v1/reviews/${orphanId}`)).body).toMatchObject({ state: 'cancelled', stateReason: 'the statement is no longer held: its session ended' });
    expect((await admin('GET', `/v1/reviews/${stillHeldId}`)).body.state).toBe('pending');
    expect((await admin('GET', `/v1/reviews/${decidedId}`)).body.state).toBe('approved');
    expect((await admin('GET', `/v1/reviews/${otherId}`)).body.state).toBe('pending');
    expect(r.link.noticesFor(orphan.requestId).at(-1)).toEqual(notice(orphan.requestId, orphanId, 'cancelled', { reason: 'the statement is no longer held: its session ended' }));
    expect(r.link.noticesFor(stillHeld.requestId).map((n) => n.state)).toEqual(['pending']);
    expect(other.link.notices.map((n) => n.state)).toEqual(['pending']);
    expect(await as.bob('POST', `/v1/reviews/${orphanId}/approve`, {})).toMatchObject({ status: 409, body: { message: `review ${orphanId} is already cancelled` } });
    expect(await auditOf(orphanId)).toEqual([
      ['review.created', 'user:alice', expect.any(Object)],
      ['review.cancelled', 'agent:orphans', { reason: 'the statement is no longer held: its session ended' }],
    ]);
  });

  it('cancelRequest: the agent withdrawing a held statement cancels its review, with the reason', async () => {
    const r = await agentWithSession('withdraw');
    const statement = held(r, PROD);
    const id = await request(r, statement);
    await reviews.cancelRequest(statement.requestId, 'agent:withdraw', 'the client went away or the session ended');
    expect((await admin('GET', `/v1/reviews/${id}`)).body).toMatchObject({ state: 'cancelled', stateReason: 'the client went away or the session ended' });
    expect(r.link.noticesFor(statement.requestId).at(-1)).toEqual(notice(statement.requestId, id, 'cancelled', { reason: 'the client went away or the session ended' }));
    expect((await auditOf(id)).at(-1)).toEqual(['review.cancelled', 'agent:withdraw', { reason: 'the client went away or the session ended' }]);
  });

  it('cancelRequest after a decision changes nothing: the decision stands', async () => {
    const r = await agentWithSession('late-cancel');
    const statement = held(r, 'single');
    const id = await request(r, statement);
    await as.bob('POST', `/v1/reviews/${id}/approve`, {});
    const noticesSoFar = r.link.notices.length;
    await expect(reviews.cancelRequest(statement.requestId, 'agent:late-cancel', 'the client went away')).resolves.toBeUndefined();
    await expect(reviews.cancelRequest('no-such-request', 'agent:late-cancel', 'gone')).resolves.toBeUndefined();
    expect((await admin('GET', `/v1/reviews/${id}`)).body).toMatchObject({ state: 'approved', stateReason: null });
    expect(r.link.notices).toHaveLength(noticesSoFar);
    expect((await auditOf(id)).map(([kind]) => kind)).toEqual(['review.created', 'review.approval', 'review.approved']);
  });

  it('two reviewers approving at once approve the review exactly once', async () => {
    const r = await agentWithSession('together');
    const statement = held(r, PROD);
    const id = await request(r, statement);
    const [bob, carol] = await Promise.all([as.bob('POST', `/v1/reviews/${id}/approve`, {}), as.carol('POST', `/v1/reviews/${id}/approve`, {})]);
    expect([bob.status, carol.status]).toEqual([200, 200]);
    expect((await admin('GET', `/v1/reviews/${id}`)).body).toMatchObject({ state: 'approved', approvals: 2 });
    expect(r.link.noticesFor(statement.requestId).filter((n) => n.state === 'approved')).toHaveLength(1);
    expect((await auditOf(id)).filter(([kind]) => kind === 'review.approved')).toHaveLength(1);
  });

  // ---- Bugs found; each test states the intended behaviour and fails until the bug is fixed. ----

  it('a review rejected while an approval was settling opens no approve-for window', async () => {
    const r = await agentWithSession('race-window');
    const fingerprint = 'fp-race-window';
    const statement = held(r, 'single-window', { fingerprint });
    const id = await request(r, statement);

    // Deterministic interleaving: bob's approval has tallied "approved" and is about to move the
    // review when carol's rejection completes first.
    const repository = cp.app.get(ReviewsRepository);
    const spy = vi.spyOn(repository, 'transition').mockImplementationOnce(async (...args) => {
      await reviews.reject(id, { subject: 'user:carol', groups: ['dba'] }, 'not this one');
      spy.mockRestore();
      return repository.transition(...args);
    });
    try {
      await reviews.approve(id, { subject: 'user:bob', groups: ['dba'] }, { forSeconds: 3600 });
    } finally {
      spy.mockRestore();
    }
    expect((await admin('GET', `/v1/reviews/${id}`)).body.state).toBe('rejected');

    const again = held(r, 'single-window', { fingerprint });
    await reviews.request(again);
    expect(r.link.noticesFor(again.requestId).map((n) => n.state)).toEqual(['pending']); // today: ['approved']
  });

  it('an agent reconnecting does not cancel pending fail-fast reviews, which it never holds', async () => {
    const r = await agentWithSession('ff-reconnect');
    const statement = held(r, 'fast');
    const id = await request(r, statement);
    await reviews.cancelOrphans(r.agentId, [], 'agent:ff-reconnect');
    expect((await admin('GET', `/v1/reviews/${id}`)).body.state).toBe('pending'); // today: 'cancelled'
  });

  it('the bootstrap admin, named user:bootstrap-admin as a reviewer, may approve', async () => {
    const r = await agentWithSession('admin-reviewer');
    const id = await request(r, held(r, 'admin-reviews'));
    expect(await admin('POST', `/v1/reviews/${id}/approve`, {})).toMatchObject({ status: 200, body: { state: 'approved' } });
  });

  it('a review past its timeout cannot be approved even before the expiry sweep ran', async () => {
    const r = await agentWithSession('late-approval');
    const id = await request(r, held(r, PROD));
    clock.advance(16 * MINUTE);
    expect(await as.bob('POST', `/v1/reviews/${id}/approve`, {})).toMatchObject({ status: 409, body: { message: `review ${id} is already expired` } });
  });

  it('one reviewer approving twice at once gets 409, never 500', async () => {
    const r = await agentWithSession('double-click');
    const id = await request(r, held(r, PROD));
    const repository = cp.app.get(ReviewsRepository);
    const spy = vi.spyOn(repository, 'addDecision').mockImplementationOnce(async (decision) => {
      spy.mockRestore();
      await reviews.approve(id, { subject: 'user:bob', groups: ['dba'] }, {});
      return repository.addDecision(decision);
    });
    try {
      expect(await as.bob('POST', `/v1/reviews/${id}/approve`, {})).toMatchObject({ status: 409, body: { error: 'conflict', message: `you already decided review ${id}` } });
    } finally {
      spy.mockRestore();
      expect((await admin('GET', `/v1/reviews/${id}`)).body).toMatchObject({ state: 'pending', approvals: 1 });
    }
  });

  it('refuses a limit that is not a whole number with 400', async () => {
    expect(await admin('GET', '/v1/reviews?limit=abc')).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });
});
