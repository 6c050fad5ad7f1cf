// Runs the built `airlock` binary against FakeControlPlane, an in-process node:http stand-in for the
// control plane's REST API (the real control plane is covered by the e2e tests).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALICE, BOB, CAROL, closedPort, FakeControlPlane, INVALID_TOKEN_MESSAGE } from '../test/fake-control-plane.js';
import { makeHome, runCli } from '../test/run-cli.js';

let fake: FakeControlPlane;
let home: ReturnType<typeof makeHome>;

beforeEach(async () => {
  fake = await new FakeControlPlane().start();
  home = makeHome();
});

afterEach(async () => {
  await fake.stop();
  home.remove();
});

describe('airlock login', () => {
  it('verifies the token, saves a profile only its owner can read, and says who you are', async () => {
    const result = await runCli(home.path, ['login', '--url', fake.url, '--token', ALICE.token]);

    expect(result).toEqual({ code: 0, stdout: `Logged in to ${fake.url} as alice@example.com (admin)\n`, stderr: '' });
    const profile = join(home.path, 'profile.json');
    expect(statSync(profile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(profile, 'utf8'))).toEqual({ url: fake.url, token: ALICE.token });
    expect(fake.requests).toEqual([{ method: 'GET', path: '/v1/whoami', body: {} }]);
  });

  it('refuses a bad token with exit 3 and one line, and saves nothing', async () => {
    const result = await runCli(home.path, ['login', '--url', fake.url, '--token', 'wrong']);

    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `airlock: the control plane at ${fake.url} refused this token (${INVALID_TOKEN_MESSAGE})\n`,
    );
    expect(existsSync(join(home.path, 'profile.json'))).toBe(false);
  });

  it('names the URL it could not reach, with exit 5 and one line', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const result = await runCli(home.path, ['login', '--url', url, '--token', ALICE.token]);

    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(new RegExp(`^airlock: cannot reach the control plane at ${url}: connect ECONNREFUSED [^\\n]+\\n$`));
  });

  it('rejects a URL that is not http(s) as a usage error', async () => {
    const result = await runCli(home.path, ['login', '--url', 'ftp://example.com', '--token', ALICE.token]);

    expect(result.code).toBe(2);
    expect(result.stderr).toBe('airlock: --url must start with http:// or https://, got "ftp://example.com"\n');
  });

  it('without --token, says when the control plane offers no identity-provider login', async () => {
    const result = await runCli(home.path, ['login', '--url', fake.url]);

    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`airlock: the control plane at ${fake.url} does not offer identity-provider logins (it predates them): log in with --token\n`);
  });
});

describe('airlock whoami and logout', () => {
  it('tells a user who is not logged in how to log in', async () => {
    const result = await runCli(home.path, ['whoami']);

    expect(result).toEqual({
      code: 3,
      stdout: '',
      stderr: 'airlock: not logged in: run airlock login --url URL --token TOKEN\n',
    });
  });

  it('shows the logged-in identity as text and as JSON', async () => {
    await runCli(home.path, ['login', '--url', fake.url, '--token', ALICE.token]);

    const text = await runCli(home.path, ['whoami']);
    const json = await runCli(home.path, ['whoami', '--json']);

    expect(text.stdout).toBe(`alice@example.com (admin) at ${fake.url}\n`);
    expect(JSON.parse(json.stdout)).toEqual({ url: fake.url, subject: 'alice@example.com', role: 'admin', groups: [] });
  });

  it('shows a local user’s groups', async () => {
    await runCli(home.path, ['login', '--url', fake.url, '--token', CAROL.token]);

    const text = await runCli(home.path, ['whoami']);
    const json = await runCli(home.path, ['whoami', '--json']);

    expect(text.stdout).toBe(`user:carol (user; groups engineers) at ${fake.url}\n`);
    expect(JSON.parse(json.stdout)).toEqual({ url: fake.url, subject: 'user:carol', role: 'user', groups: ['engineers'] });
  });

  it('keeps two AIRLOCK_HOME profiles side by side', async () => {
    const other = makeHome();
    try {
      await runCli(home.path, ['login', '--url', fake.url, '--token', ALICE.token]);
      await runCli(other.path, ['login', '--url', fake.url, '--token', BOB.token]);

      expect((await runCli(home.path, ['whoami'])).stdout).toBe(`alice@example.com (admin) at ${fake.url}\n`);
      expect((await runCli(other.path, ['whoami'])).stdout).toBe(`bob@example.com (admin) at ${fake.url}\n`);
    } finally {
      other.remove();
    }
  });

  it('lets AIRLOCK_URL and AIRLOCK_TOKEN stand in for a saved profile', async () => {
    const result = await runCli(home.path, ['whoami'], { AIRLOCK_URL: fake.url, AIRLOCK_TOKEN: BOB.token });

    expect(result.stdout).toBe(`bob@example.com (admin) at ${fake.url}\n`);
  });

  it('tells the user to log in again when the saved token is refused', async () => {
    await runCli(home.path, ['login', '--url', fake.url, '--token', ALICE.token]);

    const result = await runCli(home.path, ['whoami'], { AIRLOCK_TOKEN: 'revoked' });

    expect(result.code).toBe(3);
    expect(result.stderr).toBe(
      `airlock: the control plane refused your token (${INVALID_TOKEN_MESSAGE}); run airlock login\n`,
    );
  });

  it('logs out by forgetting the profile', async () => {
    await runCli(home.path, ['login', '--url', fake.url, '--token', ALICE.token]);

    const logout = await runCli(home.path, ['logout']);
    const after = await runCli(home.path, ['whoami']);

    expect(logout.stdout).toBe(`Logged out of ${fake.url}\n`);
    expect(existsSync(join(home.path, 'profile.json'))).toBe(false);
    expect(after.code).toBe(3);
  });
});
