import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Role } from './roles.js';

/** How the caller proved who they are. */
export type CredentialKind = 'api-token' | 'session-token' | 'service-account-key';

/** What kind of identity the caller is. */
export type PrincipalKind = 'user' | 'service-account' | 'bootstrap';

/**
 * Who is calling, as established by the bearer guard (REST) or the client authenticator (gRPC).
 *
 * - A person (local, OIDC or the dev admin) has subject `user:NAME`.
 * - A service account has subject `serviceaccount:NAME`.
 * - The bootstrap admin keeps its historical subject `bootstrap-admin` and has no groups; policies
 *   still name it as `user:bootstrap-admin` (see `policySubjectsOf`).
 */
export interface Principal {
  readonly subject: string;
  readonly role: Role;
  readonly groups: string[];
  /** The credential's row id (API token, service account, or login session). */
  readonly tokenId: string;
  readonly kind?: PrincipalKind;
  readonly credential?: CredentialKind;
  /** The local admin of `airlock dev`: no identity provider, never for production. */
  readonly devOnly?: boolean;
  /** When the presented credential stops working (session tokens, expiring service-account keys). */
  readonly expiresAt?: Date;
}

export interface AuthenticatedRequest {
  principal?: Principal;
}

export const IS_PUBLIC = 'airlock:isPublic';

/** Marks a route (or controller) as reachable without a bearer token. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

export { AdminOnly, AnyRole, Roles } from './authorization/roles.decorator.js';

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
