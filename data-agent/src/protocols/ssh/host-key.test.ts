import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fingerprintMatches, fromPrivateKey, generateHostKey, hostKeyPath, loadOrCreateHostKey } from './host-key.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-hostkey-'));
  dirs.push(dir);
  return dir;
};

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the agent SSH host key', () => {
  it('is made once, kept private in the state dir, and the same after a restart', () => {
    const dir = join(tempDir(), 'state');
    const first = loadOrCreateHostKey(dir);
    expect(first.publicKey).toMatch(/^ssh-ed25519 AAAA[A-Za-z0-9+/=]+$/);
    expect(statSync(hostKeyPath(dir)).mode & 0o777).toBe(0o600);
    expect(loadOrCreateHostKey(dir)).toEqual(first);
  });

  it('has the fingerprint ssh-keygen prints', () => {
    const key = loadOrCreateHostKey(tempDir());
    const pub = join(tempDir(), 'key.pub');
    writeFileSync(pub, `${key.publicKey}\n`);
    const printed = execFileSync('ssh-keygen', ['-l', '-f', pub], { encoding: 'utf8' });
    expect(printed.split(' ')[1]).toBe(key.fingerprint);
    const blob = Buffer.from(key.publicKey.split(' ')[1]!, 'base64');
    expect(fingerprintMatches(key.fingerprint, blob)).toBe(true);
    expect(fingerprintMatches(key.fingerprint.replace('SHA256:', ''), blob)).toBe(true);
    expect(fingerprintMatches('SHA256:AAAA', blob)).toBe(false);
  });
});

describe('generateHostKey, many times', () => {
  it('only ever returns keys that read back (ssh2 writes an unreadable one about once in 250)', () => {
    for (let i = 0; i < 1000; i++) {
      const key = generateHostKey();
      expect(fromPrivateKey(key.privateKey).fingerprint).toBe(key.fingerprint);
    }
  });
});
