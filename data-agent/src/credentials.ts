import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What the agent keeps after enrolment; the file is readable by the agent's user only. */
export interface AgentCredentials {
  url: string;
  agentId: string;
  agentName: string;
  agentKey: string;
}

export function credentialsPath(stateDir: string): string {
  return join(stateDir, 'agent.json');
}

export function loadCredentials(stateDir: string): AgentCredentials | undefined {
  try {
    const parsed = JSON.parse(readFileSync(credentialsPath(stateDir), 'utf8')) as AgentCredentials;
    return parsed.agentKey && parsed.url ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export function saveCredentials(stateDir: string, credentials: AgentCredentials): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const path = credentialsPath(stateDir);
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}
