import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadProfile, saveProfile } from './profile.js';

const dirs: string[] = [];
function tempHome(): string {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-profile-test-'));
  dirs.push(dir);
  return join(dir, 'home');
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('profile', () => {
  it('creates AIRLOCK_HOME as 0700 and the profile as 0600', () => {
    const home = tempHome();
    const path = saveProfile({ url: 'http://cp:7070', token: 't' }, { AIRLOCK_HOME: home });

    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(loadProfile({ AIRLOCK_HOME: home })).toEqual({ url: 'http://cp:7070', token: 't' });
  });

  it('lets the environment override the saved URL and token separately', () => {
    const home = tempHome();
    saveProfile({ url: 'http://cp:7070/', token: 'saved', grpcUrl: 'http://cp:7071' }, { AIRLOCK_HOME: home });

    expect(loadProfile({ AIRLOCK_HOME: home, AIRLOCK_TOKEN: 'from-env' })).toEqual({
      url: 'http://cp:7070', token: 'from-env', grpcUrl: 'http://cp:7071',
    });
  });

  it('needs no file when both AIRLOCK_URL and AIRLOCK_TOKEN are set', () => {
    expect(loadProfile({ AIRLOCK_HOME: tempHome(), AIRLOCK_URL: 'http://ci:7070', AIRLOCK_TOKEN: 'k' })).toEqual({
      url: 'http://ci:7070', token: 'k',
    });
  });

  it('explains what to do when not logged in or when the file is damaged', () => {
    const home = tempHome();
    expect(() => loadProfile({ AIRLOCK_HOME: home })).toThrow('not logged in: run airlock login --url URL --token TOKEN');

    saveProfile({ url: 'http://cp', token: 't' }, { AIRLOCK_HOME: home });
    writeFileSync(join(home, 'profile.json'), '{ not json');
    expect(() => loadProfile({ AIRLOCK_HOME: home })).toThrow(/profile\.json is not a valid profile: run airlock login/);
  });
});
