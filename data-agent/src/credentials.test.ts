import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { credentialsPath, hasLegacyCredentials, keyFingerprint, loadIdentity, privateKeyPath, saveCredentials, savePrivateKey } from './credentials.js';

const CREDENTIALS = {
  url: 'https://cp.example.com:7070',
  agentId: '6f1c2a54-0c7e-4b8e-9a53-3f1f0d2b7c11',
  agentName: 'vpc-1',
  audience: 'urn:airlock:control-plane:0d7c9a3e-5b1f-4c2a-8e6d-9f4b3a2c1d0e',
};

describe('agent credentials in the state dir', () => {
  const dirs: string[] = [];
  const stateDir = () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'airlock-agent-state-')), 'state');
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  it('keeps the private key and the record readable by the agent user only, and loads them back', () => {
    const dir = stateDir();
    const { privateKey } = generateKeyPairSync('ed25519');
    savePrivateKey(dir, privateKey);
    saveCredentials(dir, CREDENTIALS);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(privateKeyPath(dir)).mode & 0o777).toBe(0o600);
    expect(statSync(credentialsPath(dir)).mode & 0o777).toBe(0o600);
    const loaded = loadIdentity(dir)!;
    expect(loaded.credentials).toEqual(CREDENTIALS);
    expect(keyFingerprint(loaded.privateKey)).toBe(keyFingerprint(privateKey));
    expect(keyFingerprint(privateKey)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('refuses a private key that other users can read, saying how to fix it', () => {
    const dir = stateDir();
    savePrivateKey(dir, generateKeyPairSync('ed25519').privateKey);
    saveCredentials(dir, CREDENTIALS);
    chmodSync(privateKeyPath(dir), 0o644);
    expect(() => loadIdentity(dir)).toThrow(`${privateKeyPath(dir)} is readable by other users (mode 644): run chmod 600 ${privateKeyPath(dir)}`);
  });

  it('has nothing to load before enrolment, and tells an old shared-key state dir apart', () => {
    const dir = stateDir();
    expect(loadIdentity(dir)).toBeUndefined();
    expect(hasLegacyCredentials(dir)).toBe(false);
    saveCredentials(dir, CREDENTIALS);
    writeFileSync(credentialsPath(dir), JSON.stringify({ url: CREDENTIALS.url, agentId: CREDENTIALS.agentId, agentName: 'vpc-1', agentKey: 'alk_agent_x' }));
    expect(loadIdentity(dir)).toBeUndefined();
    expect(hasLegacyCredentials(dir)).toBe(true);
  });
});
