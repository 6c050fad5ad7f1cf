import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthenticationRefusedError } from './auth-errors.js';
import { BearerAuthenticator } from './bearer-authenticator.js';
import { type AuthenticatedRequest, IS_PUBLIC } from './principal.js';

interface HttpRequest extends AuthenticatedRequest {
  headers: Record<string, string | string[] | undefined>;
  ip?: string;
  socket?: { remoteAddress?: string };
}

/** Global guard: every route needs `Authorization: Bearer <credential>` unless marked @Public(). */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: BearerAuthenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<HttpRequest>();
    const source = sourceOf(request);
    const header = request.headers.authorization;
    const token = await this.authenticator.guarded(source, undefined, async () => bearerTokenOf(header));
    request.principal = await this.authenticator.authenticate(token, source);
    return true;
  }
}

/** The caller's address (no port), so attempts from one machine count as one source. */
export function sourceOf(request: { ip?: string; socket?: { remoteAddress?: string } }): string {
  return request.ip ?? request.socket?.remoteAddress ?? 'unknown';
}

function bearerTokenOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(Array.isArray(header) ? header[0] : header);
  if (!match) throw new AuthenticationRefusedError('the Authorization header must have the form "Bearer <token>"', 'malformed', 'none');
  return match[1];
}
