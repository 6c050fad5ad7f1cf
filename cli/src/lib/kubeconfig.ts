/**
 * The kubeconfig `airlock connect` writes for a Kubernetes connection: one cluster at the local port,
 * plain HTTP on 127.0.0.1 and no credentials at all, since the agent presents the cluster credential
 * and the tunnel carries the person's airlock identity. kubectl then works unchanged with KUBECONFIG set.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { airlockHome } from './profile.js';

export function kubeconfigPath(connection: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(airlockHome(env), 'kube', `${connection}.kubeconfig`);
}

export function kubeconfigFor(connection: string, port: number): string {
  const name = `airlock-${connection}`;
  return [
    '# Written by `airlock connect`: kubectl talks to the local airlock tunnel; no credentials are kept here.',
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${name}`,
    '  cluster:',
    `    server: http://127.0.0.1:${port}`,
    'users:',
    `- name: ${name}`,
    '  user: {}',
    'contexts:',
    `- name: ${name}`,
    '  context:',
    `    cluster: ${name}`,
    `    user: ${name}`,
    `current-context: ${name}`,
    'preferences: {}',
    '',
  ].join('\n');
}

/** Writes (or rewrites) the connection's kubeconfig, readable by the owner only; returns its path. */
export function writeKubeconfig(connection: string, port: number, env: NodeJS.ProcessEnv = process.env): string {
  const path = kubeconfigPath(connection, env);
  mkdirSync(join(airlockHome(env), 'kube'), { recursive: true, mode: 0o700 });
  writeFileSync(path, kubeconfigFor(connection, port), { mode: 0o600 });
  return path;
}
