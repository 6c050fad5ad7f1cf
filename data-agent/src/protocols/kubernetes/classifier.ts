/** A Kubernetes API request as policy judges it: the HTTP facts plus the API server's reading of them. Pure. */
import type { ProtocolRequest } from '../engine.js';
import { normalizeRequestTarget, type RequestTarget } from '../http/request-target.js';
import { kubeRequestInfo, type KubeRequestInfo } from './request-info.js';

export type KubeRequest = Extract<ProtocolRequest, { protocol: 'kubernetes' }>;

export interface ClassifiedKubeRequest {
  request: KubeRequest;
  target: RequestTarget;
  info: KubeRequestInfo;
}

/** Throws RequestTargetError or KubeRequestError when the request cannot be read one way only. */
export function classifyKubeRequest(method: string, rawTarget: string): ClassifiedKubeRequest {
  const target = normalizeRequestTarget(rawTarget);
  const upper = method.toUpperCase();
  const info = kubeRequestInfo(upper, target.path, target.query);
  return {
    target,
    info,
    request: {
      protocol: 'kubernetes',
      text: `${upper} ${target.forwarded}`,
      method: upper,
      path: target.path,
      verb: info.verb,
      resource: info.resource,
      namespace: info.namespace,
      name: info.name,
      subresource: info.subresource,
    },
  };
}
