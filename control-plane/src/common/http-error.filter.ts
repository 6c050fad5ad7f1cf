import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import { DomainError, UnauthenticatedError } from './errors.js';
import type { StructuredLogger } from './logger.js';

/** The one error shape every HTTP client sees. */
export interface ErrorBody {
  error: string;
  message: string;
  [detail: string]: unknown;
}

interface HttpResponse {
  status(code: number): HttpResponse;
  setHeader(name: string, value: string): void;
  json(body: unknown): void;
  headersSent?: boolean;
}

const CODE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
};

/** Maps domain errors and Nest's HTTP exceptions to `{ error, message }`; anything else is a logged 500. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: StructuredLogger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const response = http.getResponse<HttpResponse>();
    const request = http.getRequest<{ method: string; url: string }>();
    const [status, body] = this.describe(exception, request);
    if (response.headersSent) return;
    if (exception instanceof UnauthenticatedError) response.setHeader('WWW-Authenticate', 'Bearer');
    if (exception instanceof DomainError) for (const [name, value] of Object.entries(exception.headers ?? {})) response.setHeader(name, value);
    response.status(status).json(body);
  }

  private describe(exception: unknown, request: { method: string; url: string }): [number, ErrorBody] {
    if (exception instanceof DomainError) {
      return [exception.httpStatus, { error: exception.code, message: exception.message, ...exception.details }];
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status < 500) return [status, { error: CODE_BY_STATUS[status] ?? `http_${status}`, message: clientMessage(exception, request) }];
    }
    // Log what we know without the request body or driver details, which may carry secrets.
    const error = exception instanceof Error ? exception : new Error(String(exception));
    this.logger.error('unhandled error', { method: request.method, path: request.url.split('?')[0], errorName: error.name, errorMessage: error.message, stack: error.stack });
    return [500, { error: 'internal', message: 'the control plane hit an unexpected error; details are in its log' }];
  }
}

function clientMessage(exception: HttpException, request: { method: string; url: string }): string {
  if (exception.getStatus() === 404) return `no such endpoint: ${request.method} ${request.url.split('?')[0]}`;
  // Express's body parser throws SyntaxError for malformed JSON; Nest wraps it as a 400 with that cause.
  if (exception.cause instanceof SyntaxError) return `the request body is not valid JSON (${exception.cause.message})`;
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : exception.message;
}
