/** What makes HTTP and the Kubernetes API differ for the proxy: how requests are read and refusals written. */
import type { IncomingHttpHeaders } from 'node:http';
import type { ProtocolRequest } from '../engine.js';
import type { Answer, Problem } from './answers.js';
import type { RequestTarget } from './request-target.js';

export interface HttpDialect<C extends Classified = Classified> {
  readonly protocol: 'http' | 'kubernetes';
  readonly defaultScheme: 'http' | 'https';
  /** Throws (any error: its message is the client's 400) when the request cannot be read one way only. */
  classify(method: string, url: string): C;
  /** A reason to refuse before policy looks (something airlock never passes), or undefined. */
  screen?(headers: IncomingHttpHeaders, classified: C): string | undefined;
  answer(problem: Problem, classified?: C): Answer;
}

export interface Classified {
  request: Extract<ProtocolRequest, { protocol: 'http' | 'kubernetes' }>;
  target: RequestTarget;
}
