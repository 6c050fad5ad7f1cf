import { SetMetadata } from '@nestjs/common';
import { ROLES, type Role } from '../roles.js';

export const ROLE_RULE = 'airlock:roleRule';

/** Which roles may call a route; `action` completes the 403 sentence "only admins may <action>". */
export interface RoleRule {
  readonly roles: readonly Role[];
  readonly action: string;
}

/**
 * Lets only `roles` call a route (or every route of a controller; a method's own rule wins).
 * Every non-public route must carry one: the role guard refuses routes without a rule.
 */
export const Roles = (roles: readonly Role[], action: string): MethodDecorator & ClassDecorator =>
  SetMetadata(ROLE_RULE, { roles, action } satisfies RoleRule);

/** Admins only, e.g. `@AdminOnly('create connections')`. */
export const AdminOnly = (action: string): MethodDecorator & ClassDecorator => Roles(['admin'], action);

/** Any authenticated principal; the service decides what they see (e.g. only their own sessions). */
export const AnyRole = (): MethodDecorator & ClassDecorator => Roles(ROLES, 'call this');
