/**
 * The just-in-time access part of FakeControlPlane: access reviews and grants, kept in memory.
 *
 * Mirrors the real control plane (control-plane/src: reviews/access-requests.controller.ts,
 * reviews/reviews.service.ts requestAccess/approve/reject/cancel, reviews/review.views.ts,
 * grants/grants.service.ts, grants/grant.views.ts) with the same JSON and sentences, for one policy:
 * every connection needs access review by `group:dba`, 2 approvals, for at most 1h.
 */

/** How the fake's one access policy runs its reviews (policies/policy-document.ts fields). */
export const ACCESS_POLICY = { name: 'prod-jit', reviewers: ['group:dba'], approvals: 2, maxSeconds: 3600, timeoutSeconds: 15 * 60 };

export interface Caller {
  subject: string;
  role: string;
  groups: string[];
}

/** reviews/review.views.ts ReviewDetailView, for kind `access`. */
export interface ReviewView {
  id: number;
  kind: 'access' | 'statement';
  state: 'pending' | 'approved' | 'rejected' | 'expired' | 'cancelled';
  connection: string;
  sessionId: string | null;
  accessSeconds: number | null;
  requester: string;
  statement: string;
  kinds: string[];
  tables: string[];
  policy: string;
  policyVersion: number;
  reason: string;
  reviewers: string[];
  approvals: number;
  approvalsRequired: number;
  stateReason: string | null;
  createdAt: string;
  expiresAt: string;
  decidedAt: string | null;
  decisions: Array<{ reviewer: string; decision: 'approve' | 'reject'; comment: string | null; forSeconds: number | null; at: string }>;
}

/** grants/grant.views.ts GrantView. */
export interface GrantView {
  id: number;
  subject: string;
  connection: string;
  reviewId: number;
  policy: string;
  state: 'active' | 'revoked' | 'expired';
  startsAt: string;
  expiresAt: string;
  revokedAt: string | null;
  revokedBy: string | null;
}

type Reply = [number, unknown?];

export class FakeAccess {
  reviews: ReviewView[] = [];
  grants: GrantView[] = [];
  private nextReviewId = 7;
  private nextGrantId = 3;

  constructor(private readonly connectionExists: (name: string) => boolean) {}

  /** POST /v1/access-requests. */
  request(body: Record<string, unknown>, caller: Caller): Reply {
    const connection = String(body.connection ?? '');
    const forSeconds = Number(body.forSeconds);
    if (typeof body.reason !== 'string' || body.reason === '') return [400, problem('invalid_request', 'reason is required')];
    if (!this.connectionExists(connection)) return [404, problem('not_found', `connection "${connection}" does not exist`)];
    if (forSeconds > ACCESS_POLICY.maxSeconds) {
      return [400, problem('invalid_request', `you may ask for at most 1h of access to "${connection}" (accessDuration of ${ACCESS_POLICY.name}), not ${humanSeconds(forSeconds)}`)];
    }
    const now = new Date();
    const review: ReviewView = {
      id: this.nextReviewId++, kind: 'access', state: 'pending', connection, sessionId: null, accessSeconds: forSeconds,
      requester: caller.subject, statement: '', kinds: [], tables: [], policy: ACCESS_POLICY.name, policyVersion: 1,
      reason: body.reason, reviewers: ACCESS_POLICY.reviewers, approvals: 0, approvalsRequired: ACCESS_POLICY.approvals,
      stateReason: null, createdAt: now.toISOString(), expiresAt: new Date(now.getTime() + ACCESS_POLICY.timeoutSeconds * 1000).toISOString(),
      decidedAt: null, decisions: [],
    };
    this.reviews.push(review);
    return [201, review];
  }

  get(id: number): Reply {
    const review = this.reviews.find((r) => r.id === id);
    return review ? [200, review] : [404, problem('not_found', `review ${id} does not exist`)];
  }

  /** POST /v1/reviews/:id/approve; tests also call it directly, as a reviewer would from elsewhere. */
  approve(id: number, caller: Caller): Reply {
    return this.decide(id, caller, 'approve', null);
  }

  reject(id: number, caller: Caller, reason: string): Reply {
    return this.decide(id, caller, 'reject', reason);
  }

  /** POST /v1/reviews/:id/cancel: only the requester, only while pending. */
  cancel(id: number, caller: Caller): Reply {
    const review = this.reviews.find((r) => r.id === id);
    if (!review) return [404, problem('not_found', `review ${id} does not exist`)];
    if (review.requester !== caller.subject) return [403, problem('forbidden', `you cannot cancel review ${id}: only ${review.requester}, who asked, may`)];
    if (review.state !== 'pending') return [409, problem('conflict', `review ${id} is already ${review.state}`)];
    Object.assign(review, { state: 'cancelled', stateReason: 'cancelled by the requester', decidedAt: new Date().toISOString() });
    return [200, review];
  }

  /** GET /v1/grants[?active=true]: admins see all, others their own; newest first. */
  list(url: URL, caller: Caller): Reply {
    const active = url.searchParams.get('active');
    if (active !== null && active !== 'true' && active !== 'false') return [400, problem('invalid_request', 'active must be true or false')];
    const grants = this.grants
      .filter((g) => caller.role === 'admin' || g.subject === caller.subject)
      .filter((g) => active !== 'true' || (g.state === 'active' && Date.parse(g.expiresAt) > Date.now()))
      .sort((a, b) => b.id - a.id);
    return [200, { grants }];
  }

  /** DELETE /v1/grants/:id: admins and the policy's reviewers. */
  revoke(id: number, caller: Caller): Reply {
    const grant = this.grants.find((g) => g.id === id);
    if (!grant) return [404, problem('not_found', `grant ${id} does not exist`)];
    if (caller.role !== 'admin' && !isReviewer(caller)) {
      return [403, problem('forbidden', `you cannot revoke grant ${id}: only admins and reviewers of policy "${grant.policy}" (${ACCESS_POLICY.reviewers.join(', ')}) may`)];
    }
    if (grant.state !== 'active') return [409, problem('conflict', `grant ${id} is already ${grant.state}`)];
    Object.assign(grant, { state: 'revoked', revokedAt: new Date().toISOString(), revokedBy: caller.subject });
    return [200, grant];
  }

  /** A grant as the real listener would have made it, for list and revoke tests. */
  addGrant(grant: Partial<GrantView> & Pick<GrantView, 'subject' | 'connection'>): GrantView {
    const now = Date.now();
    const full: GrantView = {
      id: this.nextGrantId++, reviewId: this.nextReviewId++, policy: ACCESS_POLICY.name, state: 'active',
      startsAt: new Date(now).toISOString(), expiresAt: new Date(now + 30 * 60_000).toISOString(), revokedAt: null, revokedBy: null,
      ...grant,
    };
    this.grants.push(full);
    return full;
  }

  private decide(id: number, caller: Caller, decision: 'approve' | 'reject', reason: string | null): Reply {
    const review = this.reviews.find((r) => r.id === id);
    if (!review) return [404, problem('not_found', `review ${id} does not exist`)];
    if (review.state !== 'pending') return [409, problem('conflict', `review ${id} is already ${review.state}`)];
    if (review.requester === caller.subject) return [403, problem('forbidden', `you cannot decide review ${id}: you asked for this access`)];
    if (!isReviewer(caller)) return [403, problem('forbidden', `you cannot decide review ${id}: it is for ${review.reviewers.join(', ')}`)];
    if (review.decisions.some((d) => d.reviewer === caller.subject)) return [409, problem('conflict', `you already decided review ${id}`)];
    const at = new Date().toISOString();
    review.decisions.push({ reviewer: caller.subject, decision, comment: reason, forSeconds: null, at });
    review.approvals = review.decisions.filter((d) => d.decision === 'approve').length;
    if (decision === 'reject') Object.assign(review, { state: 'rejected', stateReason: reason, decidedAt: at });
    else if (review.approvals >= review.approvalsRequired) {
      Object.assign(review, { state: 'approved', stateReason: null, decidedAt: at });
      this.addGrant({ subject: review.requester, connection: review.connection, reviewId: review.id, expiresAt: new Date(Date.parse(at) + review.accessSeconds! * 1000).toISOString(), startsAt: at });
    }
    return [200, review];
  }
}

function isReviewer(caller: Caller): boolean {
  return caller.groups.some((g) => ACCESS_POLICY.reviewers.includes(`group:${g}`));
}

/** common/durations.ts formatDuration, for the few values tests use. */
function humanSeconds(seconds: number): string {
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (seconds >= size) parts.push(`${Math.floor(seconds / size)}${unit}`);
    seconds %= size;
  }
  return parts.join('') || '0s';
}

function problem(error: string, message: string): { error: string; message: string } {
  return { error, message };
}
