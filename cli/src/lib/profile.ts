/**
 * The saved login: `$AIRLOCK_HOME/profile.json` (default `~/.airlock`), readable by the owner only.
 * AIRLOCK_URL / AIRLOCK_TOKEN (and AIRLOCK_GRPC_URL) override it, so automation needs no file at all.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError, NotLoggedInError } from './errors.js';

export interface Profile {
  /** Base URL of the control plane's REST API, without a trailing slash. */
  url: string;
  token: string;
  /** gRPC endpoint for tunnels, when it differs from `url`. */
  grpcUrl?: string;
  /** The CA pinned for an https:// control plane (absolute path); unset trusts the system's CAs. */
  caFile?: string;
  /** After an OIDC login: trades once for the next session token (`token`), see login-session.ts. */
  refreshToken?: string;
  /** When `token` (a session token) expires, ISO-8601; absent for API tokens, which do not. */
  expiresAt?: string;
}

type Env = NodeJS.ProcessEnv;

export function airlockHome(env: Env = process.env): string {
  return env.AIRLOCK_HOME || join(homedir(), '.airlock');
}

export function profilePath(env: Env = process.env): string {
  return join(airlockHome(env), 'profile.json');
}

/** The profile saved on disk, ignoring the environment; undefined when there is none. */
export function readSavedProfile(env: Env = process.env): Profile | undefined {
  const path = profilePath(env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`);
  }
  const parsed = parseProfile(text);
  if (!parsed) {
    throw new CliError(`${path} is not a valid profile: run airlock login --url URL --token TOKEN`);
  }
  return parsed;
}

/** The profile to use for a request: environment overrides on top of the saved file. */
export function loadProfile(env: Env = process.env): Profile {
  const saved = env.AIRLOCK_URL && env.AIRLOCK_TOKEN ? undefined : readSavedProfile(env);
  const url = env.AIRLOCK_URL || saved?.url;
  const token = env.AIRLOCK_TOKEN || saved?.token;
  if (!url || !token) throw new NotLoggedInError();
  const grpcUrl = env.AIRLOCK_GRPC_URL || saved?.grpcUrl;
  const caFile = env.AIRLOCK_CA_FILE || saved?.caFile;
  // A token from the environment is used as it is; only a saved OIDC login refreshes itself.
  const login = saved && !env.AIRLOCK_TOKEN && saved.refreshToken ? { refreshToken: saved.refreshToken, ...(saved.expiresAt ? { expiresAt: saved.expiresAt } : {}) } : {};
  return { url: normalizeUrl(url), token, ...(grpcUrl ? { grpcUrl } : {}), ...(caFile ? { caFile } : {}), ...login };
}

/** Writes the profile atomically with mode 0600 in a 0700 directory; returns the file path. */
export function saveProfile(profile: Profile, env: Env = process.env): string {
  const dir = airlockHome(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = profilePath(env);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(profile, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return path;
}

/** Removes the saved profile; returns the one that was removed, if any. */
export function deleteProfile(env: Env = process.env): Profile | undefined {
  let saved: Profile | undefined;
  try {
    saved = readSavedProfile(env);
  } catch {
    // An unreadable profile is still removed.
  }
  rmSync(profilePath(env), { force: true });
  return saved;
}

export function normalizeUrl(url: string): string {
  return url.replace(/\/+$/, '');
}

function parseProfile(text: string): Profile | undefined {
  try {
    const value = JSON.parse(text) as Partial<Profile>;
    if (typeof value.url !== 'string' || typeof value.token !== 'string') return undefined;
    return {
      url: normalizeUrl(value.url),
      token: value.token,
      ...(typeof value.grpcUrl === 'string' ? { grpcUrl: value.grpcUrl } : {}),
      ...(typeof value.caFile === 'string' ? { caFile: value.caFile } : {}),
      ...(typeof value.refreshToken === 'string' ? { refreshToken: value.refreshToken } : {}),
      ...(typeof value.expiresAt === 'string' ? { expiresAt: value.expiresAt } : {}),
    };
  } catch {
    return undefined;
  }
}
