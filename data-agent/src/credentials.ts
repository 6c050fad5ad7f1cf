import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What the agent keeps after enrolment, besides its private key: who it is and whom it talks to. */
export interface AgentCredentials {
  url: string;
  agentId: string;
  agentName: string;
  /** The control plane's identity: the `aud` of every assertion this agent signs. */
  audience: string;
}

/** The agent's enrolled identity: its record and the private key that proves it. */
export interface AgentIdentity {
  credentials: AgentCredentials;
  privateKey: KeyObject;
}

export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}

export function credentialsPath(stateDir: string): string {
  return join(stateDir, 'agent.json');
}

/** The Ed25519 private key, PKCS#8 PEM, readable by the agent's user only. */
export function privateKeyPath(stateDir: string): string {
  return join(stateDir, 'agent.key');
}

/** The stored identity, or undefined when this state dir holds none (or one from before key pairs). */
export function loadIdentity(stateDir: string): AgentIdentity | undefined {
  let credentials: AgentCredentials;
  try {
    credentials = JSON.parse(readFileSync(credentialsPath(stateDir), 'utf8')) as AgentCredentials;
  } catch {
    return undefined;
  }
  if (!credentials.agentId || !credentials.url || !credentials.audience) return undefined;
  return { credentials, privateKey: loadPrivateKey(stateDir) };
}

/** True when the state dir holds a shared key from before agents had key pairs: it must enrol again. */
export function hasLegacyCredentials(stateDir: string): boolean {
  try {
    const stored = JSON.parse(readFileSync(credentialsPath(stateDir), 'utf8')) as { agentKey?: unknown; audience?: unknown };
    return typeof stored.agentKey === 'string' && stored.audience === undefined;
  } catch {
    return false;
  }
}

export function saveCredentials(stateDir: string, credentials: AgentCredentials): void {
  writePrivately(stateDir, credentialsPath(stateDir), JSON.stringify(credentials, null, 2) + '\n');
}

/** Written before enrolling, so a spent join token never leaves the agent without its key. */
export function savePrivateKey(stateDir: string, privateKey: KeyObject): void {
  writePrivately(stateDir, privateKeyPath(stateDir), privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
}

/** `SHA256:<base64>` of the public key, as the control plane shows it (`airlock agents list --json`). */
export function keyFingerprint(privateKey: KeyObject): string {
  const der = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return `SHA256:${createHash('sha256').update(der).digest('base64').replace(/=+$/, '')}`;
}

function loadPrivateKey(stateDir: string): KeyObject {
  const path = privateKeyPath(stateDir);
  if (!existsSync(path)) throw new CredentialsError(`${path} is missing: the agent cannot prove who it is; enrol it again with a new join token`);
  const mode = statSync(path).mode & 0o777;
  // Like ssh with a private key: a key others can read may already be someone else's too.
  if ((mode & 0o077) !== 0) throw new CredentialsError(`${path} is readable by other users (mode ${mode.toString(8)}): run chmod 600 ${path}`);
  try {
    return createPrivateKey(readFileSync(path));
  } catch (error) {
    throw new CredentialsError(`${path} holds no readable private key: ${(error as Error).message}`);
  }
}

function writePrivately(stateDir: string, path: string, text: string): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}
