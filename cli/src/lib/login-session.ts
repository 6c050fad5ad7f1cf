/**
 * Keeps an OIDC login's session token fresh. Session tokens live minutes; the refresh token in the
 * profile trades for the next pair (and is then used up), so the CLI refreshes shortly before the
 * token expires, or once after the control plane refuses it. Several CLI processes share one
 * profile: a lock file serializes refreshing, and a process that finds the profile already
 * refreshed by another adopts the new tokens instead of spending a used refresh token (which the
 * control plane treats as theft and answers by ending the login).
 */
import { closeSync, openSync, statSync, unlinkSync } from 'node:fs';
import { AuthError, CliError, ControlPlaneUnreachableError } from './errors.js';
import { type Profile, profilePath, readSavedProfile, saveProfile } from './profile.js';
import { dispatcherTrusting, readCaFile } from './tls-trust.js';

/** Refresh when the session token has less than this left (or a fifth of its lifetime, if shorter). */
const REFRESH_MARGIN_MS = 60_000;
const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 15_000;

/** What POST /v1/auth/oidc and /v1/auth/refresh answer. */
export interface IssuedLogin {
  accessToken: string;
  expiresAt: string;
  refreshToken: string;
  refreshExpiresAt: string;
  user: { subject: string; role: string; groups: string[] };
}

const sessions = new WeakMap<Profile, LoginSession>();

export class LoginSession {
  private refreshing: Promise<void> | undefined;

  private constructor(
    private readonly profile: Profile,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** The session of a profile that came from an OIDC login; undefined for token logins and AIRLOCK_TOKEN. */
  static of(profile: Profile, env: NodeJS.ProcessEnv = process.env): LoginSession | undefined {
    if (!profile.refreshToken) return undefined;
    let session = sessions.get(profile);
    if (!session) sessions.set(profile, (session = new LoginSession(profile, env)));
    return session;
  }

  /** The session token to send, refreshed first when it is about to expire. */
  async fresh(): Promise<string> {
    if (this.expiresWithin(this.profile, marginOf(this.profile.token))) await this.refresh();
    return this.profile.token;
  }

  /** After the control plane refused `refused`: refreshes once; true when there is a new token to try. */
  async refreshAfterRefusal(refused: string): Promise<boolean> {
    if (this.profile.token !== refused) return true; // refreshed meanwhile
    await this.refresh(true);
    return this.profile.token !== refused;
  }

  /** For long-running commands (`connect`): refreshes in the background before each expiry. Returns a stop function. */
  keepFresh(onError: (error: Error) => void = () => undefined): () => void {
    let timer: NodeJS.Timeout | undefined;
    const schedule = () => {
      const expiresAt = Date.parse(this.profile.expiresAt ?? '');
      const delay = Number.isNaN(expiresAt) ? 60_000 : Math.max(1_000, expiresAt - Date.now() - marginOf(this.profile.token));
      timer = setTimeout(() => {
        this.fresh().then(schedule, (error: Error) => {
          onError(error);
          timer = setTimeout(schedule, 10_000);
          timer.unref();
        });
      }, delay);
      timer.unref();
    };
    schedule();
    return () => clearTimeout(timer);
  }

  private expiresWithin(profile: Profile, ms: number): boolean {
    const expiresAt = Date.parse(profile.expiresAt ?? '');
    return Number.isNaN(expiresAt) || expiresAt - Date.now() < ms;
  }

  private refresh(force = false): Promise<void> {
    this.refreshing ??= this.refreshLocked(force).finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async refreshLocked(force: boolean): Promise<void> {
    const release = await lockProfile(this.env);
    try {
      const saved = readSavedProfile(this.env);
      if (saved?.url === this.profile.url && saved.refreshToken && saved.refreshToken !== this.profile.refreshToken) {
        // Another airlock process refreshed first: its tokens are the current ones.
        const newer = saved.token !== this.profile.token;
        Object.assign(this.profile, { token: saved.token, refreshToken: saved.refreshToken, expiresAt: saved.expiresAt });
        if (force ? newer : !this.expiresWithin(this.profile, marginOf(this.profile.token))) return;
      }
      const issued = await exchangeRefreshToken(this.profile);
      Object.assign(this.profile, { token: issued.accessToken, refreshToken: issued.refreshToken, expiresAt: issued.expiresAt });
      if (saved?.url === this.profile.url) saveProfile({ ...saved, token: issued.accessToken, refreshToken: issued.refreshToken, expiresAt: issued.expiresAt }, this.env);
    } finally {
      release();
    }
  }
}

/** How early to refresh: a minute, or a fifth of the token's lifetime when that is shorter (short test lifetimes). */
function marginOf(token: string): number {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iat?: number; exp?: number };
    if (typeof payload.iat === 'number' && typeof payload.exp === 'number') return Math.min(REFRESH_MARGIN_MS, ((payload.exp - payload.iat) * 1000) / 5);
  } catch {
    // not a JWT we can read: the default margin
  }
  return REFRESH_MARGIN_MS;
}

async function exchangeRefreshToken(profile: Profile): Promise<IssuedLogin> {
  const dispatcher = dispatcherTrusting(profile.caFile ? readCaFile(profile.caFile) : undefined);
  let response: Response;
  let text: string;
  try {
    response = await fetch(`${profile.url}/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ refreshToken: profile.refreshToken }),
      signal: AbortSignal.timeout(15_000),
      ...((dispatcher ? { dispatcher } : {}) as RequestInit),
    });
    text = await response.text();
  } catch (error) {
    throw new ControlPlaneUnreachableError(profile.url, (error as Error).message);
  }
  if (response.ok) return JSON.parse(text) as IssuedLogin;
  let message = `HTTP ${response.status}`;
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? message;
  } catch {
    // not JSON
  }
  if (response.status === 401) throw new AuthError(`your login has ended: ${message}`, 401, 'unauthenticated', message);
  throw new CliError(`the control plane could not refresh your login: ${message}`);
}

/** An exclusive lock on the profile (a lock file next to it); waits for another holder, breaks a stale one. */
async function lockProfile(env: NodeJS.ProcessEnv): Promise<() => void> {
  const path = `${profilePath(env)}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      closeSync(openSync(path, 'wx', 0o600));
      return () => {
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return () => undefined; // no profile directory: nothing to share
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = Date.now() - (statSafe(path) ?? Date.now());
      if (age > LOCK_STALE_MS) unlinkSafe(path);
      else if (Date.now() > deadline) throw new CliError(`another airlock process holds ${path}; remove it if none is running`);
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function statSafe(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

function unlinkSafe(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // someone else removed it
  }
}
