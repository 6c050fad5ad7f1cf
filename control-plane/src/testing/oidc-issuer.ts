/**
 * A real OpenID provider for tests: `oidc-provider` (certified) in this process on a loopback port,
 * with the device flow and authorization code + PKCE for a public native client (the airlock CLI).
 * Tests play the person at the browser over plain HTTP: `signInAt(url, account)` follows an
 * authorization URL through the login page to the loopback callback, `approveDevice(code, account)`
 * enters a device code and logs in. Nothing here mocks a token endpoint.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import Provider, { type Configuration } from 'oidc-provider';
import { exportJWK, importJWK, type JWK, type JWTPayload, SignJWT } from 'jose';

export const TEST_CLIENT_ID = 'airlock-cli';

export interface TestAccount {
  email: string;
  groups: string[];
  name?: string;
  /** Default true. */
  emailVerified?: boolean;
}

export interface TestIssuer {
  /** The issuer URL, e.g. http://127.0.0.1:41234 (no trailing slash). */
  readonly issuer: string;
  readonly clientId: string;
  /** Adds or replaces an account the login page accepts by its id. */
  setAccount(id: string, account: TestAccount): void;
  /**
   * Acts as the browser: follows `authorizationUrl`, logs in as `accountId` and follows redirects until
   * one leaves the issuer (the CLI's loopback callback), which it fetches too. Returns that last response.
   */
  signInAt(authorizationUrl: string, accountId: string): Promise<{ callbackUrl: string; status: number; body: string }>;
  /** Acts as the person with a second device: enters `userCode`, confirms it and logs in as `accountId`. */
  approveDevice(userCode: string, accountId: string): Promise<void>;
  /**
   * Plays both the CLI and the person: runs the device flow (or authorization code + PKCE on a
   * loopback callback) against the issuer over HTTP and returns the ID token it issues.
   */
  obtainIdToken(accountId: string, options?: { flow?: 'device' | 'pkce'; nonce?: string; scope?: string }): Promise<string>;
  /** Signs a JWT with the issuer's own signing key (for tokens a real issuer could produce with bad claims). */
  signWithIssuerKey(payload: JWTPayload, header?: Record<string, unknown>): Promise<string>;
  /** The issuer's public signing key (for the HS256-with-public-key confusion case). */
  readonly publicJwk: JWK;
  close(): Promise<void>;
}

export interface TestIssuerOptions {
  /** ID token lifetime in seconds (default 600). */
  idTokenTtlSeconds?: number;
  /** Claim the groups go in (default `groups`). */
  groupsClaim?: string;
}

/** Starts the provider on 127.0.0.1 with an ephemeral port. */
export async function startTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const accounts = new Map<string, TestAccount>();
  const groupsClaim = options.groupsClaim ?? 'groups';
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = `test-${randomUUID().slice(0, 8)}`;
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = privateJwk;

  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const configuration: Configuration = {
    clients: [
      {
        client_id: TEST_CLIENT_ID,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'],
        response_types: ['code'],
        // Native clients on loopback may use any port (RFC 8252 §7.3).
        redirect_uris: ['http://127.0.0.1/callback'],
      },
    ],
    jwks: { keys: [privateJwk as never] },
    cookies: { keys: [randomUUID()] },
    features: {
      devInteractions: { enabled: false },
      deviceFlow: {
        enabled: true,
        userCodeInputSource: (ctx, form) => void (ctx.body = page('Enter the code shown on your device', form, 'op.deviceInputForm')),
        userCodeConfirmSource: (ctx, form, _client, _info, userCode) => void (ctx.body = page(`Confirm the code ${userCode}`, form, 'op.deviceConfirmForm')),
        successSource: (ctx) => void (ctx.body = page('Sign-in Success', '', '')),
      },
    },
    // Put the scope's claims (email, groups) in the ID token itself, as IdPs configured for airlock do.
    conformIdTokenClaims: false,
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'], groups: [groupsClaim] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    ttl: {
      IdToken: options.idTokenTtlSeconds ?? 600,
      AccessToken: 600,
      AuthorizationCode: 60,
      DeviceCode: 600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    pkce: { required: () => true },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx, id) => {
      const account = accounts.get(id);
      if (!account) return undefined;
      return {
        accountId: id,
        claims: () => ({
          sub: id,
          email: account.email,
          email_verified: account.emailVerified ?? true,
          name: account.name ?? id,
          preferred_username: id,
          [groupsClaim]: account.groups,
        }),
      };
    },
  };
  const provider = new Provider(issuer, configuration);
  const providerHandler = provider.callback();

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const match = /^\/interaction\/([^/?]+)(\/login)?/.exec(req.url ?? '');
    if (!match) return void providerHandler(req, res);
    handleInteraction(provider, accounts, req, res, match[2] === '/login').catch((error: Error) => {
      res.statusCode = 500;
      res.end(`interaction failed: ${error.message}`);
    });
  });

  async function approveDevice(userCode: string, accountId: string): Promise<void> {
    const browser = new Browser();
    const input = await browser.follow(`${issuer}/device`, issuer);
    const confirm = await browser.follow(await browser.submit(input.url, 'op.deviceInputForm', input.body, { user_code: userCode }), issuer);
    const login = await browser.follow(await browser.submit(confirm.url, 'op.deviceConfirmForm', confirm.body, {}), issuer);
    const done = await browser.follow(await browser.submit(login.url, 'op.loginForm', login.body, { login: accountId }), issuer);
    if (!/Sign-in Success/.test(done.body)) throw new Error(`device approval did not succeed: ${done.status} ${done.body.slice(0, 300)}`);
  }

  // Each sign-in is a new person at a new browser: no IdP session carries over between them.
  return {
    issuer,
    clientId: TEST_CLIENT_ID,
    publicJwk: publicJwk as JWK,
    setAccount: (id, account) => void accounts.set(id, account),
    async signInAt(authorizationUrl, accountId) {
      const browser = new Browser();
      const page = await browser.follow(authorizationUrl, issuer);
      if (page.leftIssuer) throw new Error(`the issuer redirected away before any login: ${page.url}`);
      const done = await browser.follow(await browser.submit(page.url, 'op.loginForm', page.body, { login: accountId }), issuer);
      if (!done.leftIssuer) throw new Error(`the issuer did not redirect back to the client: ${done.status} ${done.body.slice(0, 200)}`);
      return { callbackUrl: done.url, status: done.status, body: done.body };
    },
    approveDevice,
    async obtainIdToken(accountId, options = {}) {
      const scope = options.scope ?? 'openid email profile groups';
      const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>;
      const token = async (params: Record<string, string>) => {
        const response = await fetch(discovery.token_endpoint, { method: 'POST', body: new URLSearchParams({ client_id: TEST_CLIENT_ID, ...params }) });
        const body = (await response.json()) as Record<string, string>;
        if (!body.id_token) throw new Error(`the issuer issued no ID token: ${JSON.stringify(body)}`);
        return body.id_token;
      };
      if ((options.flow ?? 'device') === 'device') {
        const started = (await (await fetch(discovery.device_authorization_endpoint, { method: 'POST', body: new URLSearchParams({ client_id: TEST_CLIENT_ID, scope }) })).json()) as Record<string, string>;
        await approveDevice(started.user_code, accountId);
        return token({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: started.device_code });
      }
      const verifier = randomBytes(32).toString('base64url');
      const redirectUri = 'http://127.0.0.1:9/callback'; // never fetched: the code is read off the redirect
      const url = new URL(discovery.authorization_endpoint);
      url.search = new URLSearchParams({
        client_id: TEST_CLIENT_ID,
        response_type: 'code',
        scope,
        redirect_uri: redirectUri,
        state: randomUUID(),
        ...(options.nonce ? { nonce: options.nonce } : {}),
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      }).toString();
      const code = new URL(await new Browser().signInUntilRedirect(url.toString(), issuer, accountId)).searchParams.get('code');
      if (!code) throw new Error('the issuer redirected without a code');
      return token({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
    },
    async signWithIssuerKey(payload, header = {}) {
      const key = await importJWK(privateJwk, 'RS256');
      return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid, ...header }).sign(key);
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** The login page: a form naming the account; submitting it logs in and consents to what was asked. */
async function handleInteraction(provider: Provider, accounts: Map<string, TestAccount>, req: IncomingMessage, res: ServerResponse, submitted: boolean): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (!submitted) {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!DOCTYPE html><html><body><h1>Sign in</h1>
<form id="op.loginForm" method="post" action="/interaction/${details.uid}/login"><input type="text" name="login"/></form></body></html>`);
    return;
  }
  const form = new URLSearchParams(await readBody(req));
  const accountId = form.get('login') ?? '';
  if (!accounts.has(accountId)) {
    res.statusCode = 403;
    res.end(`no such account: ${accountId}`);
    return;
  }
  const grant = new provider.Grant({ accountId, clientId: String(details.params.client_id) });
  grant.addOIDCScope(String(details.params.scope ?? 'openid'));
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
}

function page(title: string, form: string, formId: string): string {
  const submit = formId ? `<button type="submit" form="${formId}">Continue</button>` : '';
  return `<!DOCTYPE html><html><body><h1>${title}</h1>${form}${submit}</body></html>`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

interface Page {
  url: string;
  status: number;
  body: string;
  /** The last redirect pointed outside the issuer (to the client's callback), and was fetched. */
  leftIssuer: boolean;
}

/** Just enough of a browser: a cookie jar, manual redirects, and posting a page's forms. */
class Browser {
  private readonly cookies = new Map<string, string>();

  async follow(start: string | Response, issuer: string, maxRedirects = 20): Promise<Page> {
    let response = typeof start === 'string' ? await this.fetch(start) : start;
    let url = typeof start === 'string' ? start : response.url || '';
    for (let i = 0; i < maxRedirects; i += 1) {
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) {
        return { url, status: response.status, body: await response.text(), leftIssuer: !url.startsWith(issuer) };
      }
      await response.arrayBuffer();
      url = new URL(location, url).toString();
      response = await this.fetch(url);
    }
    throw new Error(`more than ${maxRedirects} redirects from ${url}`);
  }

  /** Follows an authorization URL through the login page and returns where the issuer finally redirects, without going there. */
  async signInUntilRedirect(authorizationUrl: string, issuer: string, accountId: string): Promise<string> {
    const page = await this.follow(authorizationUrl, issuer);
    let response = await this.submit(page.url, 'op.loginForm', page.body, { login: accountId });
    let url = page.url;
    for (let i = 0; i < 20; i += 1) {
      const location = response.headers.get('location');
      if (!location) throw new Error(`the issuer stopped redirecting: ${response.status} ${(await response.text()).slice(0, 200)}`);
      await response.arrayBuffer();
      url = new URL(location, url).toString();
      if (!url.startsWith(issuer)) return url;
      response = await this.fetch(url);
    }
    throw new Error('too many redirects');
  }

  /** Posts the form with id `formId` found in `html` (hidden inputs included), `fields` on top. */
  async submit(pageUrl: string, formId: string, html: string, fields: Record<string, string>): Promise<Response> {
    const form = new RegExp(`<form[^>]*id="${formId.replace('.', '\\.')}"[^>]*>([\\s\\S]*?)</form>`).exec(html);
    if (!form) throw new Error(`no form ${formId} on ${pageUrl}: ${html.slice(0, 300)}`);
    const action = /action="([^"]*)"/.exec(form[0])?.[1] ?? pageUrl;
    const body = new URLSearchParams();
    for (const input of form[1].matchAll(/<input[^>]*type="hidden"[^>]*>/g)) {
      const name = /name="([^"]*)"/.exec(input[0])?.[1];
      const value = /value="([^"]*)"/.exec(input[0])?.[1];
      if (name) body.set(name, value ?? '');
    }
    for (const [name, value] of Object.entries(fields)) body.set(name, value);
    const target = new URL(action.replace(/&amp;/g, '&'), pageUrl).toString();
    const response = await this.fetch(target, { method: 'POST', body: body.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    Object.defineProperty(response, 'url', { value: target });
    return response;
  }

  private async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const host = new URL(url).host;
    const cookie = [...this.cookies.entries()].filter(([key]) => key.startsWith(`${host}|`)).map(([key, value]) => `${key.split('|')[1]}=${value}`).join('; ');
    const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), ...(cookie ? { cookie } : {}) } });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(`${host}|${name}`);
      else this.cookies.set(`${host}|${name}`, value);
    }
    return response;
  }
}
