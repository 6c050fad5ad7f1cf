import { DomainError } from '../common/errors.js';

/** Why an agent's call was refused; each has its own sentence, audit detail and gRPC status. */
export type AgentRefusal =
  | 'missing'
  | 'malformed'
  | 'unknown_agent'
  | 'not_enrolled'
  | 'revoked'
  | 'bad_signature'
  | 'wrong_audience'
  | 'expired'
  | 'not_yet_valid'
  | 'too_long_lived'
  | 'replayed';

/**
 * A refused agent call. `agent` is the agent the assertion names; `proven` says whether its
 * signature showed that agent really sent it (otherwise someone may be posing as it).
 */
export class AgentAuthenticationError extends DomainError {
  override readonly name = 'AgentAuthenticationError';
  readonly code = 'agent_refused';
  readonly httpStatus = 401;

  constructor(
    readonly reason: AgentRefusal,
    message: string,
    readonly agent?: { id: string; name: string },
    readonly proven = false,
  ) {
    super(message);
  }
}

/** The longest lifetime (exp - iat) accepted: the replay cache must remember each jti this long. */
export const MAX_ASSERTION_LIFETIME_S = 300;
/** Clocks of agent hosts and the control plane may differ by this much. */
export const CLOCK_TOLERANCE_S = 30;

/** The claims of an agent assertion once checked. */
export interface AssertionClaims {
  readonly agentId: string;
  readonly jti: string;
  readonly expiresAt: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The agent an assertion claims to come from, read *before* its signature is checked (to find the
 * key to check it with). Nothing else in it may be trusted until then.
 */
export function claimedAgentId(assertion: string): string {
  const parts = assertion.split('.');
  if (parts.length !== 3) throw malformed('it is not a compact JWS (three dot-separated parts)');
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    throw malformed('its payload is not base64url JSON');
  }
  const iss = (payload as { iss?: unknown } | null)?.iss;
  if (typeof iss !== 'string' || !UUID.test(iss)) throw malformed('its "iss" is not an agent id');
  return iss.toLowerCase();
}

/** Checks the claims of an assertion whose signature was verified with `agent`'s key, at `now`. */
export function checkAssertionClaims(
  payload: unknown,
  expected: { agent: { id: string; name: string }; audience: string; now: Date },
): AssertionClaims {
  const { agent, audience, now } = expected;
  const claims = (payload ?? {}) as Record<string, unknown>;
  const refuse = (reason: AgentRefusal, message: string) => new AgentAuthenticationError(reason, message, agent, true);
  if (claims.iss !== agent.id || (claims.sub !== undefined && claims.sub !== agent.id)) {
    throw refuse('malformed', `the assertion of agent "${agent.name}" must carry its own id as "iss" and "sub"`);
  }
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.includes(audience)) {
    throw refuse(
      'wrong_audience',
      `the assertion of agent "${agent.name}" is addressed to another control plane (aud ${JSON.stringify(claims.aud ?? null)}); this one is ${audience}`,
    );
  }
  const { iat, exp, jti } = claims;
  if (!isSeconds(iat) || !isSeconds(exp) || typeof jti !== 'string' || jti.length < 16 || jti.length > 128) {
    throw refuse('malformed', `the assertion of agent "${agent.name}" needs numeric "iat" and "exp" and a unique "jti" of 16 to 128 characters`);
  }
  const nowS = now.getTime() / 1000;
  if (exp <= nowS - CLOCK_TOLERANCE_S) {
    throw refuse(
      'expired',
      `the assertion of agent "${agent.name}" expired at ${isoOf(exp)} (control plane time ${now.toISOString()}); agents sign a fresh one per call, so check the agent host's clock`,
    );
  }
  if (iat > nowS + CLOCK_TOLERANCE_S) {
    throw refuse('not_yet_valid', `the assertion of agent "${agent.name}" was issued in the future (${isoOf(iat)}, control plane time ${now.toISOString()}); check the agent host's clock`);
  }
  if (exp - iat > MAX_ASSERTION_LIFETIME_S || exp < iat) {
    throw refuse('too_long_lived', `the assertion of agent "${agent.name}" is valid for ${exp - iat}s; at most ${MAX_ASSERTION_LIFETIME_S}s is accepted`);
  }
  return { agentId: agent.id, jti, expiresAt: new Date((exp + CLOCK_TOLERANCE_S) * 1000) };
}

function malformed(why: string): AgentAuthenticationError {
  return new AgentAuthenticationError('malformed', `the agent assertion is malformed: ${why}`);
}

function isSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

function isoOf(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}
