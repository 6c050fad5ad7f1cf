import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { UnauthenticatedError } from '../common/errors.js';
import { IdentityService } from './identity.service.js';
import { type AuthenticatedRequest, IS_PUBLIC } from './principal.js';

interface HttpRequest extends AuthenticatedRequest {
  headers: Record<string, string | string[] | undefined>;
  ip?: string;
}

/** Global guard: every route needs `Authorization: Bearer <token>` unless marked @Public(). */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly identity: IdentityService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;

    const request = context.switchToHttp().getRequest<HttpRequest>();
    const token = bearerTokenOf(request.headers.authorization);
    const principal = await this.identity.authenticateBearer(token, request.ip);
    if (!principal) {
      throw new UnauthenticatedError('the bearer token is not valid or has been revoked; log in again with `airlock login`');
    }
    request.principal = principal;
    return true;
  }
}

function bearerTokenOf(header: string | string[] | undefined): string {
  if (header === undefined) {
    throw new UnauthenticatedError('missing credentials: send "Authorization: Bearer <token>" (run `airlock login` first)');
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(Array.isArray(header) ? header[0] : header);
  if (!match) throw new UnauthenticatedError('the Authorization header must have the form "Bearer <token>"');
  return match[1];
}
