/**
 * `airlock login --url URL` without --token: a person logs in with the identity provider the
 * control plane names (GET /v1/auth/config), by authorization code + PKCE in a browser when there
 * is one, or by the device flow (--device, or automatically in an SSH session), then trades the ID
 * token for the control plane's own session and refresh tokens, kept in the profile.
 */
import { ApiClient, AuthError, CliError, ExitCode, NotFoundError } from '../lib/api.js';
import { browserAvailable, deviceFlow, pkceFlow } from '../lib/oidc-flows.js';
import { printLine } from '../lib/output.js';
import { saveProfile } from '../lib/profile.js';

export interface IdentityProviderLogin {
  url: string;
  grpcUrl?: string;
  caFile?: string;
  caPem?: string;
  /** Force the device flow. */
  device?: boolean;
  /** False with --no-browser: print the URL, do not open a browser. */
  browser: boolean;
}

export async function loginWithIdentityProvider(options: IdentityProviderLogin): Promise<void> {
  const api = new ApiClient({ url: options.url, token: '', caPem: options.caPem });
  const settings = await api.authSettings().catch((error: unknown) => {
    if (error instanceof NotFoundError) throw new CliError(`the control plane at ${options.url} does not offer identity-provider logins (it predates them): log in with --token`, ExitCode.Usage);
    throw error;
  });
  if (!settings.oidc) {
    throw new CliError(
      `the control plane at ${options.url} has no identity provider configured${settings.devMode ? ' (it runs airlock dev)' : ''}: log in with --token (an admin makes one with airlock users create or airlock service-accounts create)`,
      ExitCode.Usage,
    );
  }
  const print = (line: string) => process.stderr.write(`${line}\n`);
  const useDevice = options.device || (options.browser && !browserAvailable());
  if (useDevice && !options.device) print('No browser here (an SSH session?): using the device flow. Pass --no-browser to get a URL to open on this machine instead.');
  const obtained = useDevice ? await deviceFlow(settings.oidc, print) : await pkceFlow(settings.oidc, { openBrowser: options.browser, print });
  const login = await api.loginWithIdToken(obtained.idToken, obtained.flow, obtained.nonce).catch((error: unknown) => {
    if (error instanceof AuthError && error.status === 401) {
      throw new AuthError(`the control plane at ${options.url} refused the login (${error.serverMessage})`, 401, error.code, error.serverMessage);
    }
    throw error;
  });
  saveProfile({
    url: options.url,
    token: login.accessToken,
    refreshToken: login.refreshToken,
    expiresAt: login.expiresAt,
    ...(options.grpcUrl ? { grpcUrl: options.grpcUrl } : {}),
    ...(options.caFile ? { caFile: options.caFile } : {}),
  });
  const { user } = login;
  printLine(`Logged in to ${options.url} as ${user.subject} (${user.role}${user.groups.length > 0 ? `; groups ${user.groups.join(', ')}` : ''})`);
}
