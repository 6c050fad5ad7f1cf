/**
 * Getting an ID token from the identity provider, as a public client (no secret):
 * - the device authorization flow (RFC 8628), for terminals without a browser (an SSH session):
 *   the person opens a URL anywhere and enters a short code;
 * - authorization code with PKCE (RFC 7636) on a loopback redirect (RFC 8252): the browser comes
 *   back to a one-shot listener on 127.0.0.1, checked by `state`; the ID token must carry `nonce`.
 * The control plane verifies the ID token; this module only obtains it.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CliError, ExitCode } from './errors.js';

export interface OidcClientSettings {
  issuer: string;
  clientId: string;
  scopes: string[];
}

export interface ObtainedIdToken {
  idToken: string;
  flow: 'device' | 'pkce';
  /** Sent with the authorization request (PKCE only); the control plane checks the ID token carries it. */
  nonce?: string;
}

interface Discovery {
  issuer: string;
  token_endpoint: string;
  authorization_endpoint?: string;
  device_authorization_endpoint?: string;
}

/** How long the person has to finish in the browser. */
const LOGIN_TIMEOUT_MS = 5 * 60_000;

export async function discover(issuer: string): Promise<Discovery> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const document = await getJson<Discovery>(url, 'the identity provider');
  if (document.issuer !== issuer.replace(/\/+$/, '')) throw new CliError(`the identity provider at ${url} says its issuer is ${document.issuer}, not ${issuer}`);
  return document;
}

/** Device flow: prints where to go and the code, then polls the token endpoint until the person approves. */
export async function deviceFlow(settings: OidcClientSettings, print: (line: string) => void): Promise<ObtainedIdToken> {
  const discovery = await discover(settings.issuer);
  if (!discovery.device_authorization_endpoint) throw new CliError(`the identity provider ${settings.issuer} does not offer the device flow; log in without --device`);
  const started = await postForm<{ device_code: string; user_code: string; verification_uri: string; verification_uri_complete?: string; expires_in: number; interval?: number }>(
    discovery.device_authorization_endpoint,
    { client_id: settings.clientId, scope: settings.scopes.join(' ') },
  );
  print(`To log in, open ${started.verification_uri} in a browser and enter the code ${started.user_code}`);
  if (started.verification_uri_complete) print(`(or open ${started.verification_uri_complete})`);
  print('Waiting for you to approve the login...');
  let interval = Math.max(1, started.interval ?? 5) * 1000;
  const deadline = Date.now() + Math.min(started.expires_in * 1000, 15 * 60_000);
  while (Date.now() < deadline) {
    await sleep(interval);
    const reply = await postFormRaw(discovery.token_endpoint, {
      client_id: settings.clientId,
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: started.device_code,
    });
    if (typeof reply.id_token === 'string') return { idToken: reply.id_token, flow: 'device' };
    if (reply.error === 'authorization_pending') continue;
    if (reply.error === 'slow_down') {
      interval += 5000;
      continue;
    }
    if (reply.error === 'access_denied') throw new CliError('the login was denied at the identity provider', ExitCode.Auth);
    if (reply.error === 'expired_token') break;
    throw new CliError(`the identity provider refused the login: ${describeOAuthError(reply)}`, ExitCode.Auth);
  }
  throw new CliError('the device code expired before the login was approved; run airlock login again', ExitCode.Auth);
}

/**
 * Authorization code + PKCE: listens on a loopback port, prints (and, when there is a browser and
 * `openBrowser`, opens) the authorization URL, and trades the code the browser brings back.
 */
export async function pkceFlow(settings: OidcClientSettings, options: { openBrowser: boolean; print: (line: string) => void }): Promise<ObtainedIdToken> {
  const discovery = await discover(settings.issuer);
  if (!discovery.authorization_endpoint) throw new CliError(`the identity provider ${settings.issuer} has no authorization endpoint; log in with --device`);
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const nonce = randomBytes(16).toString('base64url');
  const callback = await listenForCallback(state);
  try {
    const redirectUri = `http://127.0.0.1:${callback.port}/callback`;
    const url = new URL(discovery.authorization_endpoint);
    url.search = new URLSearchParams({
      client_id: settings.clientId,
      response_type: 'code',
      scope: settings.scopes.join(' '),
      redirect_uri: redirectUri,
      state,
      nonce,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    options.print('Open this URL in a browser to log in:');
    options.print(`  ${url.toString()}`);
    if (options.openBrowser) tryOpenBrowser(url.toString());
    options.print(`Waiting for the browser to come back to ${redirectUri} ...`);
    const code = await callback.code;
    const reply = await postFormRaw(discovery.token_endpoint, { client_id: settings.clientId, grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
    if (typeof reply.id_token !== 'string') throw new CliError(`the identity provider issued no ID token: ${describeOAuthError(reply)}`, ExitCode.Auth);
    return { idToken: reply.id_token, flow: 'pkce', nonce };
  } finally {
    callback.close();
  }
}

/** True when a browser can probably be opened here: a desktop session, not an SSH one. */
export function browserAvailable(env: NodeJS.ProcessEnv = process.env, platform = process.platform): boolean {
  if (env.SSH_CONNECTION || env.SSH_TTY) return false;
  if (platform === 'darwin' || platform === 'win32') return true;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

function tryOpenBrowser(url: string): void {
  const [command, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(command, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined); // no opener: the printed URL is there
    child.unref();
  } catch {
    // the printed URL is there
  }
}

interface Callback {
  port: number;
  code: Promise<string>;
  close(): void;
}

/** A one-shot HTTP listener on 127.0.0.1 for the redirect; only a request carrying our `state` counts. */
async function listenForCallback(state: string): Promise<Callback> {
  let settle!: { resolve: (code: string) => void; reject: (error: Error) => void };
  const code = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    const params = url.searchParams;
    if (params.get('state') !== state) {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('This login link does not belong to the airlock login waiting here.');
      return;
    }
    const error = params.get('error');
    if (error) {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end(`The login failed: ${error}. You can close this tab.`);
      settle.reject(new CliError(`the identity provider refused the login: ${error}${params.get('error_description') ? ` (${params.get('error_description')})` : ''}`, ExitCode.Auth));
      return;
    }
    const value = params.get('code');
    if (!value) {
      res.writeHead(400).end('No authorization code.');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!DOCTYPE html><html><body><p>You are logged in to airlock. You can close this tab.</p></body></html>');
    settle.resolve(value);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const timer = setTimeout(() => settle.reject(new CliError(`no login came back within ${LOGIN_TIMEOUT_MS / 60_000} minutes; run airlock login again`, ExitCode.Auth)), LOGIN_TIMEOUT_MS);
  timer.unref();
  return {
    port: (server.address() as AddressInfo).port,
    code,
    close: () => {
      clearTimeout(timer);
      server.closeAllConnections();
      server.close();
    },
  };
}

async function getJson<T>(url: string, what: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(15_000) });
  } catch (error) {
    throw new CliError(`cannot reach ${what} at ${url}: ${(error as Error).message}`, ExitCode.Unreachable);
  }
  if (!response.ok) throw new CliError(`${what} answered ${url} with HTTP ${response.status}`);
  return (await response.json()) as T;
}

async function postFormRaw(url: string, form: Record<string, string>): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', body: new URLSearchParams(form), headers: { accept: 'application/json' }, signal: AbortSignal.timeout(15_000) });
  } catch (error) {
    throw new CliError(`cannot reach the identity provider at ${url}: ${(error as Error).message}`, ExitCode.Unreachable);
  }
  try {
    return (await response.json()) as Record<string, unknown>;
  } catch {
    throw new CliError(`the identity provider answered ${url} with HTTP ${response.status} and no JSON`);
  }
}

async function postForm<T>(url: string, form: Record<string, string>): Promise<T> {
  const reply = await postFormRaw(url, form);
  if (typeof reply.error === 'string') throw new CliError(`the identity provider refused to start the login: ${describeOAuthError(reply)}`, ExitCode.Auth);
  return reply as T;
}

function describeOAuthError(reply: Record<string, unknown>): string {
  const error = typeof reply.error === 'string' ? reply.error : 'no error code';
  return typeof reply.error_description === 'string' ? `${error} (${reply.error_description})` : error;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
