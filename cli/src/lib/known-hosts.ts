/**
 * The known_hosts file airlock keeps for SSH through its tunnels (`$AIRLOCK_HOME/known_hosts`): one
 * line per local port, naming the host key of the agent behind it, so that `ssh` verifies it is
 * talking to that agent (StrictHostKeyChecking=yes) and never asks the person to trust a key.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Connection } from './api.js';
import { CliError, ExitCode } from './errors.js';
import { airlockHome } from './profile.js';

export function knownHostsPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(airlockHome(env), 'known_hosts');
}

/** The known_hosts pattern OpenSSH uses for a non-default port. */
export function hostPattern(port: number): string {
  return `[127.0.0.1]:${port}`;
}

/** The agent's host key for an ssh connection; a readable error when the agent has not reported one. */
export function hostKeyOf(connection: Connection): string {
  const key = connection.sshHostKey?.trim();
  if (!key || !/^[a-z0-9-]+@?[a-z0-9.-]* [A-Za-z0-9+/=]+$/i.test(key)) {
    throw new CliError(
      `agent "${connection.agent}" has not reported its SSH host key yet (is it older than this CLI, or not connected since it was upgraded?)`,
      ExitCode.Unreachable,
    );
  }
  return key;
}

/** Replaces the line for `127.0.0.1:port` (a port reused for another connection must not keep the old key). */
export function rememberHostKey(port: number, hostKey: string, connectionName: string, env: NodeJS.ProcessEnv = process.env): string {
  const path = knownHostsPath(env);
  mkdirSync(airlockHome(env), { recursive: true, mode: 0o700 });
  let lines: string[] = [];
  try {
    lines = readFileSync(path, 'utf8').split('\n').filter((line) => line.trim() !== '');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new CliError(`cannot read ${path}: ${(error as Error).message}`);
  }
  const pattern = hostPattern(port);
  const kept = lines.filter((line) => line.split(/\s+/)[0] !== pattern);
  kept.push(`${pattern} ${hostKey} airlock:${connectionName}`);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${kept.join('\n')}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
  return path;
}

/** The ssh options that pin the agent's key through that file. */
export function sshOptions(knownHosts: string): string[] {
  return ['-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes'];
}
