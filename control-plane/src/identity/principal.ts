import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Role } from './api-token.entity.js';

/** Who is calling, as established by the bearer guard. */
export interface Principal {
  readonly subject: string;
  readonly role: Role;
  readonly tokenId: string;
}

export interface AuthenticatedRequest {
  principal?: Principal;
}

export const IS_PUBLIC = 'airlock:isPublic';

/** Marks a route (or controller) as reachable without a bearer token. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

/** Injects the authenticated Principal into a controller method. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a @Public() route');
  return principal;
});
