/**
 * People and machines with real identities, through the real CLI binary: a real OpenID provider
 * (oidc-provider, in this test process over HTTP) and a control plane configured for it. The test
 * plays the person at the browser: it approves the device code, and it follows the authorization URL
 * the CLI prints (--no-browser) to the CLI's loopback callback. Then whoami, a session allowed by
 * group policy, a refresh after the short session token expired, logout ending the login; and a
 * service account's key driving `airlock exec` until it is revoked.
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIssuer, type TestIssuer } from '../control-plane/src/testing/oidc-issuer.js';
import { startTestCluster, TEST_DATABASE, TEST_ROLES } from '../data-agent/src/protocols/postgres/test-support/pg-cluster.js';
import type { TestCluster } from '../data-agent/src/protocols/postgres/test-support/pg-cluster.js';
import { freePort, runCli, runPsql, spawnCli } from './support/index.js';
import { addPostgresConnection, startStack } from './harness/stack.js';
import type { Stack } from './harness/stack.js';

const POLICY = `apiVersion: airlock/v1
kind: Policy
metadata:
  name: engineers-read
spec:
  subjects: ["group:engineers"]
  connections: ["prod-db"]
  access: allow
  rules:
    - match: { statements: [select, show, explain] }
      action: allow
  default: deny
`;

/** Short, so the test sees a session token expire and the CLI refresh it. */
const SESSION_TOKEN_TTL_SECONDS = 10;

let idp: TestIssuer;
let stack: Stack;
let target: TestCluster;
const homes: Record<string, string> = {};

function profileOf(home: string): { token: string; refreshToken?: string; expiresAt?: string } {
  return JSON.parse(readFileSync(join(home, 'profile.json'), 'utf8'));
}

beforeAll(async () => {
  idp = await startTestIssuer();
  idp.setAccount('alice', { email: 'alice@example.com', groups: ['Engineers'] });
  idp.setAccount('bob', { email: 'bob@example.com', groups: ['sales'] });
  target = await startTestCluster();
  stack = await startStack({
    controlPlaneEnv: {
      AIRLOCK_OIDC_ISSUER: idp.issuer,
      AIRLOCK_OIDC_CLIENT_ID: idp.clientId,
      AIRLOCK_OIDC_REVIEWER_GROUPS: 'dba',
      AIRLOCK_SESSION_TOKEN_TTL: `${SESSION_TOKEN_TTL_SECONDS}s`,
    },
  });
  await addPostgresConnection(stack, { agent: 'dc1', connection: 'prod-db', target, role: TEST_ROLES.scram });
  await stack.applyPolicy(POLICY);
  for (const name of ['alice', 'bob']) homes[name] = mkdtempSync(join(tmpdir(), `airlock-e2e-${name}-`));
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await target?.stop();
  await idp?.close();
});

describe('people log in with the identity provider', () => {
  it('device flow: the CLI shows a code, the person approves it elsewhere, the CLI is logged in', async () => {
    const login = await spawnCli(['login', '--url', stack.url, '--device'], { home: homes.alice, readyPattern: /enter the code \S+/, name: 'login-device' });
    const code = /enter the code (\S+)/.exec(login.stderr)![1]!;
    expect(login.stderr).toContain(`To log in, open ${idp.issuer}/device in a browser and enter the code ${code}`);
    await idp.approveDevice(code, 'alice');
    const done = await login.exited;
    expect(done.code, login.stderr).toBe(0);
    expect(login.stdout.trim()).toBe(`Logged in to ${stack.url} as user:alice@example.com (user; groups engineers)`);

    const profile = profileOf(homes.alice);
    expect(profile.refreshToken).toMatch(/^alk_refresh_/);
    expect(profile.token.split('.')).toHaveLength(3);
  });

  it('authorization code + PKCE: the CLI prints the URL (--no-browser), the browser comes back to its loopback port', async () => {
    const login = await spawnCli(['login', '--url', stack.url, '--no-browser'], { home: homes.bob, readyPattern: /Waiting for the browser/, name: 'login-pkce' });
    const url = /^\s+(http:\/\/\S+\/auth\?\S+)$/m.exec(login.stderr)![1]!;
    expect(new URL(url).searchParams.get('code_challenge_method')).toBe('S256');
    const redirect = await idp.signInAt(url, 'bob');
    expect(redirect.callbackUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
    expect(redirect.body).toContain('You are logged in to airlock');
    expect((await login.exited).code, login.stderr).toBe(0);
    expect(login.stdout.trim()).toBe(`Logged in to ${stack.url} as user:bob@example.com (user; groups sales)`);
  });

  it('whoami shows the person, their groups from the identity provider, and the session token', async () => {
    const who = await runCli(['whoami', '--json'], { home: homes.alice });
    expect(who.code, who.stderr).toBe(0);
    expect(JSON.parse(who.stdout)).toMatchObject({ url: stack.url, subject: 'user:alice@example.com', role: 'user', groups: ['engineers'], credential: 'session-token' });
  });

  it('opens a session the group policy allows, and refuses one it does not', async () => {
    const port = await freePort();
    await spawnCli(['connect', 'prod-db', '--port', String(port)], { home: homes.alice, readyPattern: /Listening on|psql "host=127\.0\.0\.1/, name: 'connect-alice' });
    const psql = await runPsql({ port, user: 'alice', database: TEST_DATABASE, command: 'select 40 + 2' });
    expect(psql.stdout.trim(), psql.stderr).toBe('42');

    const bob = await runCli(['exec', 'prod-db', '-c', 'select 1'], { home: homes.bob });
    expect(bob.code).toBe(3);
    expect(bob.stderr.trim()).toBe('airlock: no policy lets user:bob@example.com use connection "prod-db"');
  });

  it('refreshes the session token by itself once it has expired', async () => {
    const before = profileOf(homes.alice);
    // Wait (bounded) for the short-lived session token to expire.
    for (let i = 0; i < 200 && Date.now() <= Date.parse(before.expiresAt!); i++) await new Promise((r) => setTimeout(r, 100));
    expect(Date.now()).toBeGreaterThan(Date.parse(before.expiresAt!));
    const direct = await fetch(`${stack.url}/v1/whoami`, { headers: { authorization: `Bearer ${before.token}` } });
    expect(direct.status).toBe(401);

    const exec = await runCli(['exec', 'prod-db', '-c', 'select 7 as seven', '--json'], { home: homes.alice });
    expect(exec.code, exec.stderr).toBe(0);
    expect(JSON.parse(exec.stdout).results[0].rows).toEqual([['7']]);
    const after = profileOf(homes.alice);
    expect(after.token).not.toBe(before.token);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(Date.parse(after.expiresAt!)).toBeGreaterThan(Date.now());
  });

  it('logout ends the login on the control plane: the saved refresh token no longer works', async () => {
    const before = profileOf(homes.bob);
    const out = await runCli(['logout'], { home: homes.bob });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout.trim()).toBe(`Logged out of ${stack.url}; the login was ended on the control plane`);
    const refresh = await fetch(`${stack.url}/v1/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: before.refreshToken }) });
    expect(refresh.status).toBe(401);
    expect(((await refresh.json()) as { message: string }).message).toBe('this login was ended (logged out); run airlock login');
    expect((await fetch(`${stack.url}/v1/whoami`, { headers: { authorization: `Bearer ${before.token}` } })).status).toBe(401);
    expect((await runCli(['whoami'], { home: homes.bob })).code).toBe(3);
  });
});

describe('machines use service-account keys', () => {
  let key: string;

  it('an admin creates a service account; its key drives airlock exec', async () => {
    const created = await stack.cliJson<{ key: string; serviceAccount: { subject: string; keyPrefix: string } }>(['service-accounts', 'create', 'ci-bot', '--group', 'engineers', '--expires', '30d']);
    key = created.key;
    expect(key.startsWith(created.serviceAccount.keyPrefix)).toBe(true);
    const env = { AIRLOCK_URL: stack.url, AIRLOCK_TOKEN: key };
    const exec = await runCli(['exec', 'prod-db', '-c', 'select 1 as one', '--json'], { env });
    expect(exec.code, exec.stderr).toBe(0);
    expect(JSON.parse(exec.stdout).results[0].rows).toEqual([['1']]);
    const sessions = await stack.cliJson<Array<{ subject: string }>>(['sessions', 'list']);
    expect(sessions.map((s) => s.subject)).toContain('serviceaccount:ci-bot');

    const list = await runCli(['service-accounts', 'list'], { home: stack.home });
    expect(list.stdout).toMatch(new RegExp(`ci-bot\\s+user\\s+engineers\\s+${created.serviceAccount.keyPrefix}…\\s+active`));
    expect(list.stdout).not.toContain(key);
  });

  it('a revoked key is refused, in one line with exit code 3', async () => {
    const revoked = await runCli(['service-accounts', 'revoke', 'ci-bot'], { home: stack.home });
    expect(revoked.code, revoked.stderr).toBe(0);
    const exec = await runCli(['exec', 'prod-db', '-c', 'select 1'], { env: { AIRLOCK_URL: stack.url, AIRLOCK_TOKEN: key } });
    expect(exec.code).toBe(3);
    expect(exec.stderr.trim()).toMatch(/^airlock: the control plane refused your token: the API key of service account "ci-bot" was revoked at \S+$/);
  });
});
