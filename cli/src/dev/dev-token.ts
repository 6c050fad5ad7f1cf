import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The local admin token of `airlock dev`, kept in its data dir so restarts keep working.
 * Dev only: a real deployment prints its bootstrap token once and keeps nothing but its hash.
 */
export function loadOrCreateDevToken(dataDir: string): string {
  const path = join(dataDir, 'dev-admin-token');
  try {
    const token = readFileSync(path, 'utf8').trim();
    if (token) return token;
  } catch {
    // first start
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const token = `alk_admin_dev_${randomBytes(24).toString('base64url')}`;
  writeFileSync(path, token + '\n', { mode: 0o600 });
  return token;
}
