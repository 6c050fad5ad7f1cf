import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Connection } from './api.js';
import { hostKeyOf, knownHostsPath, rememberHostKey } from './known-hosts.js';

const homes: string[] = [];
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

const KEY_A = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const KEY_B = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';

describe('the airlock known_hosts file', () => {
  it('keeps one line per local port, replacing a stale key, readable by the owner only', () => {
    const home = mkdtempSync(join(tmpdir(), 'airlock-kh-'));
    homes.push(home);
    const env = { AIRLOCK_HOME: join(home, 'profile') };
    const path = rememberHostKey(2222, KEY_A, 'box-a', env);
    expect(path).toBe(knownHostsPath(env));
    rememberHostKey(2223, KEY_A, 'box-a', env);
    rememberHostKey(2222, KEY_B, 'box-b', env);
    expect(readFileSync(path, 'utf8')).toBe(`[127.0.0.1]:2223 ${KEY_A} airlock:box-a\n[127.0.0.1]:2222 ${KEY_B} airlock:box-b\n`);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('refuses an ssh connection whose agent has not reported a host key', () => {
    const connection = { name: 'box', agent: 'vpc-1', sshHostKey: null } as unknown as Connection;
    expect(() => hostKeyOf(connection)).toThrow('agent "vpc-1" has not reported its SSH host key yet');
    expect(hostKeyOf({ ...connection, sshHostKey: KEY_A })).toBe(KEY_A);
  });
});
