import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Role } from './api-token.entity.js';

/**
 * Who is calling, as established by the bearer guard.
 *
 * - A local user (or named admin) has subject `user:NAME` and the groups given at creation.
 * - The bootstrap admin keeps its historical subject `bootstrap-admin` and has no groups; policies
 *   still name it as `user:bootstrap-admin` (see `policySubjectsOf`).
 */
export interface Principal {
  readonly subject: string;
  /** `admin` may manage agents, connections, users and policies; `user` may only use them. */
  readonly role: Role;
  readonly groups: string[];
  readonly tokenId: string;
}

export interface AuthenticatedRequest {
  principal?: Principal;
}

export const IS_PUBLIC = 'airlock:isPublic';
export const ADMIN_ONLY = 'airlock:adminOnly';

/** Marks a route (or controller) as reachable without a bearer token. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

/**
 * Marks a route (or controller) as admin-only; `action` completes the 403 message
 * "only admins may <action>", e.g. `@AdminOnly('create connections')`.
 */
export const AdminOnly = (action: string): MethodDecorator & ClassDecorator => SetMetadata(ADMIN_ONLY, action);

/** Injects the authenticated Principal into a controller method. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a @Public() route');
  return principal;
});

/** The names a policy may use for this principal: `user:NAME` (also for an un-prefixed subject) and `group:NAME`. */
export function policySubjectsOf(principal: { readonly subject: string; readonly groups: readonly string[] }): string[] {
  const own = principal.subject.includes(':') ? principal.subject : `user:${principal.subject}`;
  return [own, ...principal.groups.map((group) => `group:${group}`)];
}
