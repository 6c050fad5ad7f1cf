/** HTTP targets: an HTTP/1.1 proxy per tunnel, with per-request policy on method and path. */
import type { Duplex } from 'node:stream';
import type { ProtocolEngine, SessionContext, SessionSummary } from '../engine.js';
import { jsonAnswer } from './answers.js';
import { classifyHttpRequest, type ClassifiedHttpRequest } from './classifier.js';
import type { HttpDialect } from './dialect.js';
import { HttpProxySession, type HttpSessionOptions } from './proxy-session.js';

export const HTTP_DIALECT: HttpDialect<ClassifiedHttpRequest> = {
  protocol: 'http',
  defaultScheme: 'http',
  classify: classifyHttpRequest,
  answer: (problem) => jsonAnswer(problem),
};

export class HttpEngine implements ProtocolEngine {
  readonly type = 'http' as const;

  constructor(private readonly options: HttpSessionOptions = {}) {}

  serveTunnel(client: Duplex, ctx: SessionContext): Promise<SessionSummary> {
    return new HttpProxySession(client, ctx, HTTP_DIALECT, this.options).run();
  }
}
