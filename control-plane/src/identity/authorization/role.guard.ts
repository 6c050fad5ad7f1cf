import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuditService } from '../../audit/audit.service.js';
import { ForbiddenError } from '../../common/errors.js';
import { LOGGER, type StructuredLogger } from '../../common/logger.js';
import { type AuthenticatedRequest, IS_PUBLIC } from '../principal.js';
import { describeRoles } from '../roles.js';
import { ROLE_RULE, type RoleRule } from './roles.decorator.js';

interface HttpRequest extends AuthenticatedRequest {
  method: string;
  route?: { path?: string };
  url: string;
}

/**
 * Global guard, after the bearer guard: every authenticated route must name the roles that may call
 * it (`@Roles`, `@AdminOnly`, `@AnyRole`); a route that names none is refused, so a forgotten
 * decorator fails closed. Each refusal is audited.
 */
@Injectable()
export class RoleGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditService,
    @Inject(LOGGER) private readonly logger: StructuredLogger,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<HttpRequest>();
    const endpoint = `${request.method} ${request.route?.path ?? request.url.split('?')[0]}`;
    const rule = this.reflector.getAllAndOverride<RoleRule | undefined>(ROLE_RULE, targets);
    const principal = request.principal;
    if (!rule) {
      this.logger.error('a route has no authorization rule; refusing it', { endpoint });
      throw new ForbiddenError(`${endpoint} has no authorization rule, so nobody may call it (a control plane bug; please report it)`);
    }
    if (principal && rule.roles.includes(principal.role)) return true;
    await this.audit.record({
      actor: principal?.subject ?? 'anonymous',
      kind: 'auth.forbidden',
      target: `endpoint/${endpoint}`,
      details: { role: principal?.role ?? null, allowed: [...rule.roles] },
    });
    throw new ForbiddenError(`only ${describeRoles(rule.roles)} may ${rule.action}; you are signed in as ${principal?.subject ?? 'nobody'}`);
  }
}
