import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuthError } from './errors.js';
import { LoginSession } from './login-session.js';
import { loadProfile, readSavedProfile, saveProfile } from './profile.js';

/** A session token shaped like the control plane's (only iat/exp are read by the CLI). */
function jwt(n: number, lifetimeSeconds: number): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'EdDSA' })}.${part({ iat: now, exp: now + lifetimeSeconds, n })}.sig`;
}

/** The control plane's refresh endpoint, in miniature: each refresh token works once. */
class RefreshServer {
  server!: Server;
  url = '';
  issued = 0;
  reused = 0;
  private live = new Set<string>();
  lifetime = 900;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        const { refreshToken } = JSON.parse(body) as { refreshToken: string };
        if (!this.live.delete(refreshToken)) {
          this.reused += 1;
          res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'unauthenticated', message: 'this refresh token was already used' }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.issue()));
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  issue() {
    this.issued += 1;
    const refreshToken = `alk_refresh_${this.issued}`;
    this.live.add(refreshToken);
    const accessToken = jwt(this.issued, this.lifetime);
    return { accessToken, expiresAt: new Date(Date.now() + this.lifetime * 1000).toISOString(), refreshToken, refreshExpiresAt: new Date(Date.now() + 3600_000).toISOString(), user: { subject: 'user:a', role: 'user', groups: [] } };
  }
}

describe('LoginSession', () => {
  const server = new RefreshServer();
  let home: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(() => server.start());
  afterAll(() => server.server.close());
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'airlock-login-session-'));
    env = { AIRLOCK_HOME: home };
    return () => rmSync(home, { recursive: true, force: true });
  });

  function login(expiresInSeconds: number) {
    const issued = server.issue();
    saveProfile({ url: server.url, token: issued.accessToken, refreshToken: issued.refreshToken, expiresAt: new Date(Date.now() + expiresInSeconds * 1000).toISOString() }, env);
    return issued;
  }

  it('leaves a token with time to spare alone, and refreshes one about to expire, saving the new pair', async () => {
    const issued = login(900);
    const profile = loadProfile(env);
    expect(await LoginSession.of(profile, env)!.fresh()).toBe(issued.accessToken);

    login(30); // under a minute left
    const expiring = loadProfile(env);
    const token = await LoginSession.of(expiring, env)!.fresh();
    expect(token).not.toBe(expiring.refreshToken);
    expect(readSavedProfile(env)).toMatchObject({ token, refreshToken: `alk_refresh_${server.issued}` });
  });

  it('a second process with a stale copy adopts the tokens the first one saved instead of spending a used refresh token', async () => {
    login(10);
    const first = loadProfile(env);
    const second = loadProfile(env); // another `airlock` process, loaded before the first refreshed
    const reusedBefore = server.reused;
    const fromFirst = await LoginSession.of(first, env)!.fresh();
    const fromSecond = await LoginSession.of(second, env)!.fresh();
    expect(fromSecond).toBe(fromFirst);
    expect(server.reused).toBe(reusedBefore);
  });

  it('refreshes once after the control plane refuses the token', async () => {
    login(900);
    const profile = loadProfile(env);
    const refused = profile.token;
    expect(await LoginSession.of(profile, env)!.refreshAfterRefusal(refused)).toBe(true);
    expect(profile.token).not.toBe(refused);
  });

  it('says the login has ended when the refresh token is refused', async () => {
    login(10);
    const profile = loadProfile(env);
    saveProfile({ ...profile, refreshToken: 'alk_refresh_spent' }, env);
    const stale = loadProfile(env);
    const error = await LoginSession.of(stale, env)!.fresh().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).message).toBe('your login has ended: this refresh token was already used');
  });

  it('is not used for a token from the environment', () => {
    login(10);
    expect(LoginSession.of(loadProfile({ ...env, AIRLOCK_URL: server.url, AIRLOCK_TOKEN: 'alk_sa_x' }), env)).toBeUndefined();
  });
});
