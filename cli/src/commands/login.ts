import type { Command } from 'commander';
import { ApiClient, AuthError, UsageError } from '../lib/api.js';
import { addJsonOption, emit, printLine, type JsonOption } from '../lib/output.js';
import { resolve } from 'node:path';
import { deleteProfile, loadProfile, normalizeUrl, type Profile, readSavedProfile, saveProfile } from '../lib/profile.js';
import { readCaFile } from '../lib/tls-trust.js';
import { loginWithIdentityProvider } from './login-oidc.js';

export const DEFAULT_CONTROL_PLANE_URL = 'http://127.0.0.1:7070';

interface LoginOptions {
  url: string;
  token?: string;
  device?: boolean;
  browser: boolean;
  grpcUrl?: string;
  caFile?: string;
}

export function registerLogin(program: Command): void {
  program
    .command('login')
    .description('log in with the identity provider (browser or device code), or check a token, and save the login for later commands')
    .option('--url <url>', 'control plane URL', DEFAULT_CONTROL_PLANE_URL)
    .option('--token <token>', 'an API token or service-account key instead of the identity provider')
    .option('--device', 'use the device flow: open a URL on any device and enter a code (default in an SSH session)')
    .option('--no-browser', 'print the login URL instead of opening a browser')
    .option('--grpc-url <url>', 'gRPC endpoint for tunnels, when it differs from --url')
    .option('--ca-file <pem>', "the CA that signed the control plane's certificate, trusted instead of the system's CAs (kept in the profile)")
    .action(async (options: LoginOptions) => {
      const url = normalizeUrl(checkHttpUrl('--url', options.url));
      const grpcUrl = options.grpcUrl ? checkHttpUrl('--grpc-url', options.grpcUrl) : undefined;
      const caFile = options.caFile ? resolve(options.caFile) : undefined;
      if (caFile && !url.startsWith('https:')) throw new UsageError('--ca-file pins the CA of an https:// control plane; --url is not https://');
      const caPem = caFile ? readCaFile(caFile, '--ca-file') : undefined;
      warnIfPlaintext(url);
      if (options.token === undefined) {
        await loginWithIdentityProvider({ url, grpcUrl, caFile, caPem, device: options.device, browser: options.browser });
        return;
      }
      const token = options.token;
      const me = await new ApiClient({ url, token, caPem }).whoami().catch((err: unknown) => {
        if (err instanceof AuthError && err.status === 401) {
          throw new AuthError(
            `the control plane at ${url} refused this token (${err.serverMessage})`,
            err.status,
            err.code,
            err.serverMessage,
          );
        }
        throw err;
      });
      saveProfile({ url, token, ...(grpcUrl ? { grpcUrl } : {}), ...(caFile ? { caFile } : {}) });
      printLine(`Logged in to ${url} as ${me.subject} (${me.role})`);
    });
}

export function registerLogout(program: Command): void {
  program
    .command('logout')
    .description('end the login (its refresh token is revoked on the control plane) and forget it')
    .action(async () => {
      const saved = readSavedProfile();
      // An OIDC login is ended on the control plane too, so a copy of the profile is worth nothing.
      const ended = saved?.refreshToken ? await endLogin(saved) : undefined;
      const removed = deleteProfile();
      printLine(removed ? `Logged out of ${removed.url}${ended ? '; the login was ended on the control plane' : ''}` : 'Not logged in');
    });
}

export function registerWhoami(program: Command): void {
  addJsonOption(
    program.command('whoami').description('show who the control plane thinks you are'),
  ).action(async (options: JsonOption) => {
    const profile = loadProfile();
    const me = await ApiClient.fromProfile(profile).whoami();
    emit(
      options,
      {
        url: profile.url,
        subject: me.subject,
        role: me.role,
        ...(me.groups ? { groups: me.groups } : {}),
        ...(me.credential ? { credential: me.credential } : {}),
        ...(me.devOnly ? { devOnly: true } : {}),
        ...(me.expiresAt ? { expiresAt: me.expiresAt } : {}),
      },
      (who) =>
        `${who.subject} (${who.role}${me.groups?.length ? `; groups ${me.groups.join(', ')}` : ''}) at ${who.url}` +
        (me.devOnly ? '\nDEV ONLY: the local admin of airlock dev, with no identity provider; never use this setup in production' : ''),
    );
  });
}

/** Plaintext is for a control plane on this machine (`airlock dev`); elsewhere the token would cross the network readable. */
function warnIfPlaintext(url: string): void {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (url.startsWith('http:') && !['localhost', '::1'].includes(host) && !host.startsWith('127.')) {
    process.stderr.write(`airlock: warning: ${url} is plaintext HTTP: your token crosses the network unencrypted; use https://\n`);
  }
}

/** Revokes the saved login's refresh token; false (with a warning) when the control plane cannot be told. */
async function endLogin(profile: Profile): Promise<boolean> {
  try {
    await new ApiClient({ url: profile.url, token: '', caPem: profile.caFile ? readCaFile(profile.caFile) : undefined }).logout(profile.refreshToken!);
    return true;
  } catch (error) {
    process.stderr.write(`airlock: warning: the control plane was not told to end the login (${(error as Error).message}); it ends when its refresh token expires\n`);
    return false;
  }
}

function checkHttpUrl(flag: string, value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new UsageError(`${flag} must be a URL like ${DEFAULT_CONTROL_PLANE_URL}, got "${value}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`${flag} must start with http:// or https://, got "${value}"`);
  }
  return value;
}
