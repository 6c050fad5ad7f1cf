/**
 * The agent's SSH host key: what `ssh` clients see when they connect through an ssh connection.
 * Generated once and kept in the agent's state dir next to its credentials, so the fingerprint the
 * CLI pins stays the same across restarts; the public half goes to the control plane in the hello.
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';

export interface SshHostKey {
  /** OpenSSH private key (PEM-like text); never leaves the agent. */
  privateKey: string;
  /** `ssh-ed25519 AAAA...`, as in known_hosts. */
  publicKey: string;
  /** `SHA256:...`, as `ssh-keygen -l` and `ssh` print it. */
  fingerprint: string;
}

export function hostKeyPath(stateDir: string): string {
  return join(stateDir, 'ssh_host_ed25519_key');
}

/**
 * ssh2's generator writes an OpenSSH key that its own parser refuses about once in 250 keys ("Malformed
 * OpenSSH private key", measured: 13 of 3000 here); such a key would stop the agent at start, so a key
 * is only kept once it reads back.
 */
export function generateHostKey(): SshHostKey {
  for (let attempt = 1; ; attempt++) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    try {
      return fromPrivateKey(pair.private);
    } catch (error) {
      if (attempt >= 20) throw error;
    }
  }
}

/** Reads the persisted key, or generates and stores one (mode 0600) on first use. */
export function loadOrCreateHostKey(stateDir: string): SshHostKey {
  const path = hostKeyPath(stateDir);
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text !== undefined) return fromPrivateKey(text);
  const key = generateHostKey();
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, key.privateKey, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
  return key;
}

export function fromPrivateKey(privateKey: string): SshHostKey {
  const parsed = ssh2.utils.parseKey(privateKey);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key instanceof Error) throw new Error(`the SSH host key cannot be read: ${key instanceof Error ? key.message : 'empty'}`);
  const publicKey = `${key.type} ${key.getPublicSSH().toString('base64')}`;
  return { privateKey, publicKey, fingerprint: sshFingerprint(publicKey) };
}

/** `SHA256:<unpadded base64 of the key blob's SHA-256>` of `type base64` (a known_hosts key) or of a raw blob. */
export function sshFingerprint(key: string | Buffer): string {
  const blob = typeof key === 'string' ? Buffer.from(key.trim().split(/\s+/)[1] ?? '', 'base64') : key;
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Whether `expected` (`SHA256:...`, with or without the prefix or padding) names this key blob. */
export function fingerprintMatches(expected: string, blob: Buffer): boolean {
  const normalise = (f: string) => f.trim().replace(/^SHA256:/i, '').replace(/=+$/, '');
  return normalise(expected) === normalise(sshFingerprint(blob));
}

let installed: SshHostKey | undefined;

/** The agent installs its persisted key at start (main.ts); the ssh engine reads it per session. */
export function installAgentHostKey(key: SshHostKey): void {
  installed = key;
}

/** The installed key; without one (engine tests), an in-memory key made once per process. */
export function agentHostKey(): SshHostKey {
  return (installed ??= generateHostKey());
}
