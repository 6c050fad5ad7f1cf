/**
 * What a principal may do, by role:
 * - `admin`: everything (agents, connections, users, service accounts, policies, audit, killing sessions).
 * - `reviewer`: what a user may, and decide reviews addressed to them (by user or group name).
 * - `user`: open sessions as policies allow, ask for access, see their own sessions, reviews and grants.
 * - `auditor`: read every session, review, grant and the audit log; change nothing and open no session.
 */
export const ROLES = ['admin', 'reviewer', 'user', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Roles that read everyone's sessions, reviews and grants rather than only their own. */
export function seesEverything(principal: { readonly role: Role }): boolean {
  return principal.role === 'admin' || principal.role === 'auditor';
}

/** Roles that may decide a review (when the review names them) and revoke a grant of a policy they review. */
export function mayDecideReviews(principal: { readonly role: Role }): boolean {
  return principal.role === 'admin' || principal.role === 'reviewer';
}

/** Roles that may open sessions (tunnels, exec) and ask for access; auditors only read. */
export function mayConnect(principal: { readonly role: Role }): boolean {
  return principal.role !== 'auditor';
}

/** "admins", "admins and auditors", "admins, reviewers and users": for refusal messages. */
export function describeRoles(roles: readonly Role[]): string {
  const plural = roles.map((role) => `${role}s`);
  return plural.length <= 1 ? (plural[0] ?? 'nobody') : `${plural.slice(0, -1).join(', ')} and ${plural.at(-1)}`;
}
