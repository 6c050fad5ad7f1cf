/**
 * What policy judges of an HTTP request: its method and normalised path, and a text for the record
 * and for reviewers (`METHOD /path?query`). Pure.
 */
import type { ProtocolRequest } from '../engine.js';
import { normalizeRequestTarget, type RequestTarget } from './request-target.js';

export type HttpRequest = Extract<ProtocolRequest, { protocol: 'http' }>;

export interface ClassifiedHttpRequest {
  request: HttpRequest;
  target: RequestTarget;
}

/** Throws RequestTargetError when the target cannot be read one way only. */
export function classifyHttpRequest(method: string, rawTarget: string): ClassifiedHttpRequest {
  const target = normalizeRequestTarget(rawTarget);
  const upper = method.toUpperCase();
  return { target, request: { protocol: 'http', text: `${upper} ${target.forwarded}`, method: upper, path: target.path } };
}
