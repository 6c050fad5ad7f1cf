import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiClient } from '../lib/api.js';
import { NotFoundError } from '../lib/errors.js';
import { profilePath, saveProfile } from '../lib/profile.js';

/** Reads run, writes wait for a reviewer, drops are refused: the demo shows the whole loop. */
export const DEMO_POLICY = `apiVersion: airlock/v1
kind: Policy
metadata:
  name: demo
spec:
  subjects: ["*"]
  connections: ["demo"]
  access: allow
  rules:
    - match: { statements: [drop, truncate, alter, grant, revoke] }
      action: deny
    - match: { statements: [insert, update, delete, merge, copy] }
      action: review
    - match: { statements: [select, show, explain] }
      action: allow
  default: review
  review:
    reviewers: ["group:dba"]
    approvals: 1
    rejectOnAny: true
    timeout: 15m
    approveFor: 1h
`;

export const DEMO_REVIEWER = 'bob';

/** The reviewer's own CLI profile, so `AIRLOCK_HOME=<dir> airlock reviews approve N` works as bob. */
export function reviewerHome(dataDir: string): string {
  return join(dataDir, DEMO_REVIEWER);
}

export async function ensureDemoPolicy(api: ApiClient, url: string, dataDir: string): Promise<void> {
  await api.applyPolicy(DEMO_POLICY);
  const home = reviewerHome(dataDir);
  // Deciding reviews addressed to a group needs the reviewer role (older dev dirs made bob a plain user).
  const existing = (await api.listUsers()).find((user) => user.name === DEMO_REVIEWER);
  if (existing?.role === 'reviewer' && existsSync(profilePath({ AIRLOCK_HOME: home }))) return;
  // A reviewer without a saved token (first run, or the state was wiped): issue a fresh one.
  await api.deleteUser(DEMO_REVIEWER).catch((error: unknown) => {
    if (!(error instanceof NotFoundError)) throw error;
  });
  const created = await api.createUser({ name: DEMO_REVIEWER, groups: ['dba'], role: 'reviewer' });
  saveProfile({ url, token: created.token }, { AIRLOCK_HOME: home });
}
