/**
 * airlock's answers in the Kubernetes API's own terms: a `Status` object, which kubectl and client-go
 * print as "Error from server (Reason): message".
 */
import type { Answer, Problem, ProblemKind } from '../http/answers.js';
import type { KubeRequestInfo } from './request-info.js';

const REASONS: Record<ProblemKind, string> = {
  bad_request: 'BadRequest',
  denied: 'Forbidden',
  rejected: 'Forbidden',
  review_required: 'Conflict',
  too_large: 'RequestEntityTooLarge',
  target_unreachable: 'ServiceUnavailable',
  bad_gateway: 'InternalError',
};

export function statusAnswer(problem: Problem, info?: KubeRequestInfo): Answer {
  const status: Record<string, unknown> = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: problem.reason,
    reason: REASONS[problem.error],
    code: problem.status,
  };
  const details: Record<string, unknown> = {};
  if (info?.name) details.name = info.name;
  if (info?.resource) {
    const [kind, ...group] = info.resource.split('.');
    details.kind = kind;
    if (group.length) details.group = group.join('.');
  }
  if (problem.reviewId) details.causes = [{ reason: 'AirlockReview', message: `airlock reviews approve ${problem.reviewId}`, field: `review/${problem.reviewId}` }];
  if (Object.keys(details).length) status.details = details;
  return { contentType: 'application/json', body: `${JSON.stringify(status)}\n` };
}

/**
 * Discovery and other non-resource paths (/api, /apis, /version): kubectl's discovery client shows
 * the body of a failed request only when it is plain text, so the sentence is sent as such.
 */
export function discoveryAnswer(problem: Problem): Answer {
  return { contentType: 'text/plain; charset=utf-8', body: `${problem.reason}\n` };
}
