/**
 * airlock's own answers to an HTTP client (refusals, holds, an unreachable target), in one shape per
 * dialect: plain HTTP clients get a small JSON object, Kubernetes clients a `Status` (kubernetes/status.ts).
 */

export type ProblemKind = 'bad_request' | 'denied' | 'review_required' | 'rejected' | 'target_unreachable' | 'too_large' | 'bad_gateway';

export interface Problem {
  status: number;
  error: ProblemKind;
  /** One readable sentence, starting with "airlock:". */
  reason: string;
  reviewId?: number;
  /** The connection's name, when the problem is about the target. */
  target?: string;
}

export interface Answer {
  contentType: string;
  body: string;
}

export function jsonAnswer(problem: Problem): Answer {
  const body: Record<string, unknown> = { error: problem.error, reason: problem.reason };
  if (problem.reviewId) body.review = { id: problem.reviewId, approve: `airlock reviews approve ${problem.reviewId}` };
  if (problem.target) body.target = problem.target;
  return { contentType: 'application/json; charset=utf-8', body: `${JSON.stringify(body)}\n` };
}

export const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request', 403: 'Forbidden', 409: 'Conflict', 413: 'Payload Too Large', 502: 'Bad Gateway', 405: 'Method Not Allowed',
};
