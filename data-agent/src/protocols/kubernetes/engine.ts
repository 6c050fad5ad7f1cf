/**
 * Kubernetes API targets: the HTTP engine, reading each request as the API server does (verb,
 * resource, namespace, name, subresource) and answering refusals with a Kubernetes `Status`.
 * The agent authenticates with its own token or client certificate; impersonation headers
 * (kubectl --as) are refused, since they would act as someone other than the agent's identity that
 * airlock's policy was written for.
 */
import type { Duplex } from 'node:stream';
import type { ProtocolEngine, SessionContext, SessionSummary } from '../engine.js';
import type { HttpDialect } from '../http/dialect.js';
import { HttpProxySession, type HttpSessionOptions } from '../http/proxy-session.js';
import { classifyKubeRequest, type ClassifiedKubeRequest } from './classifier.js';
import { discoveryAnswer, statusAnswer } from './status.js';

export const KUBERNETES_DIALECT: HttpDialect<ClassifiedKubeRequest> = {
  protocol: 'kubernetes',
  defaultScheme: 'https',
  classify: classifyKubeRequest,
  screen(headers) {
    const impersonating = Object.keys(headers).filter((h) => h.startsWith('impersonate-'));
    if (impersonating.length === 0) return undefined;
    return `airlock: impersonation (${impersonating.join(', ')}; kubectl --as) is not allowed through airlock: requests run as the connection's own identity`;
  },
  answer: (problem, classified) => (classified && !classified.info.isResourceRequest ? discoveryAnswer(problem) : statusAnswer(problem, classified?.info)),
};

export class KubernetesEngine implements ProtocolEngine {
  readonly type = 'kubernetes' as const;

  constructor(private readonly options: HttpSessionOptions = {}) {}

  serveTunnel(client: Duplex, ctx: SessionContext): Promise<SessionSummary> {
    return new HttpProxySession(client, ctx, KUBERNETES_DIALECT, this.options).run();
  }
}
