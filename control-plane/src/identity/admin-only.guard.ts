import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ForbiddenError } from '../common/errors.js';
import { ADMIN_ONLY, type AuthenticatedRequest } from './principal.js';

/** Global guard, after the bearer guard: routes marked @AdminOnly() refuse non-admins with 403. */
@Injectable()
export class AdminOnlyGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const action = this.reflector.getAllAndOverride<string | undefined>(ADMIN_ONLY, [context.getHandler(), context.getClass()]);
    if (action === undefined) return true;
    const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (principal?.role === 'admin') return true;
    throw new ForbiddenError(`only admins may ${action}; you are signed in as ${principal?.subject ?? 'nobody'}`);
  }
}
