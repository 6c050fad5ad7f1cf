import type { Command } from 'commander';
import { ApiClient, AuthError, UsageError } from '../lib/api.js';
import { addJsonOption, emit, printLine, type JsonOption } from '../lib/output.js';
import { deleteProfile, loadProfile, normalizeUrl, saveProfile } from '../lib/profile.js';

export const DEFAULT_CONTROL_PLANE_URL = 'http://127.0.0.1:7070';

interface LoginOptions {
  url: string;
  token: string;
  grpcUrl?: string;
}

export function registerLogin(program: Command): void {
  program
    .command('login')
    .description('check a token against the control plane and save it for later commands')
    .option('--url <url>', 'control plane URL', DEFAULT_CONTROL_PLANE_URL)
    .requiredOption('--token <token>', 'API token issued by the control plane')
    .option('--grpc-url <url>', 'gRPC endpoint for tunnels, when it differs from --url')
    .action(async (options: LoginOptions) => {
      const url = normalizeUrl(checkHttpUrl('--url', options.url));
      const grpcUrl = options.grpcUrl ? checkHttpUrl('--grpc-url', options.grpcUrl) : undefined;
      const me = await new ApiClient({ url, token: options.token }).whoami().catch((err: unknown) => {
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
      saveProfile({ url, token: options.token, ...(grpcUrl ? { grpcUrl } : {}) });
      printLine(`Logged in to ${url} as ${me.subject} (${me.role})`);
    });
}

export function registerLogout(program: Command): void {
  program
    .command('logout')
    .description('forget the saved token')
    .action(() => {
      const removed = deleteProfile();
      printLine(removed ? `Logged out of ${removed.url}` : 'Not logged in');
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
      { url: profile.url, subject: me.subject, role: me.role, ...(me.groups ? { groups: me.groups } : {}) },
      (who) => `${who.subject} (${who.role}${me.groups?.length ? `; groups ${me.groups.join(', ')}` : ''}) at ${who.url}`,
    );
  });
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
