import type { Command } from 'commander';
import { ApiClient } from '../lib/api.js';
import type { Connection } from '../lib/api.js';
import { parsePort } from '../lib/arguments.js';
import { CliError, ExitCode } from '../lib/errors.js';
import { loadProfile } from '../lib/profile.js';
import { LoginSession } from '../lib/login-session.js';
import { printLine } from '../lib/output.js';
import { writeKubeconfig } from '../lib/kubeconfig.js';
import { hostKeyOf } from '../lib/known-hosts.js';
import { channelFor } from '../tunnel/channel.js';
import { pinSshHostKey, sshConnectHelp } from './ssh.js';
import { LocalListener } from '../tunnel/local-listener.js';

interface ConnectOptions {
  port?: number;
  json?: boolean;
}

/** Ports people expect first; when taken, any free port will do unless --port insists. */
const PREFERRED_PORTS: Record<string, number> = { postgres: 5433 };

export function registerConnect(program: Command): void {
  program
    .command('connect')
    .argument('<connection>', 'connection name (airlock connections list)')
    .description('open a local port that tunnels every connection to CONNECTION through airlock')
    .option('--port <port>', 'local port on 127.0.0.1 (default: 5433 for postgres, else any free port)', parsePort)
    .option('--json', 'print the listening address as one JSON line, for scripts')
    .action(async (name: string, options: ConnectOptions) => {
      const profile = loadProfile();
      const connection = await ApiClient.fromProfile(profile).getConnection(name);
      if (!connection.agentConnected) {
        throw new CliError(`agent "${connection.agent}" that serves connection "${name}" is offline`, ExitCode.Unreachable);
      }
      // An ssh connection is usable only with the agent's host key to pin: check before listening.
      if (connection.type === 'ssh') hostKeyOf(connection);
      // Each new local connection opens a tunnel with the token of the moment: keep it fresh meanwhile.
      const stopRefreshing = LoginSession.of(profile)?.keepFresh((error) => process.stderr.write(`airlock: ${error.message}\n`));
      const channel = channelFor(profile);
      const listener = new LocalListener(channel, name, {
        onSessionError: (message) => process.stderr.write(`airlock: ${message}\n`),
        onSessionResumed: (sessionId) => process.stderr.write(`airlock: session ${sessionId} resumed after the control plane came back\n`),
      });
      const port = await listenOnPreferredPort(listener, options.port, PREFERRED_PORTS[connection.type]);
      const kubeconfig = connection.type === 'kubernetes' ? writeKubeconfig(name, port) : undefined;
      const knownHosts = connection.type === 'ssh' ? pinSshHostKey(connection, port) : undefined;
      const url = connection.type === 'http' || connection.type === 'kubernetes' ? `http://127.0.0.1:${port}` : undefined;
      // One line, so a script can read it as soon as it appears while the listener keeps running.
      if (options.json) process.stdout.write(JSON.stringify({ connection: name, type: connection.type, host: '127.0.0.1', port, ...(url ? { url } : {}), ...(kubeconfig ? { kubeconfig } : {}), ...(knownHosts ? { knownHosts, sshHostKeyFingerprint: connection.sshHostKeyFingerprint } : {}) }) + '\n');
      else printLine(connectHelp(connection, port, kubeconfig));
      await waitForSignal();
      await listener.close();
      stopRefreshing?.();
      channel.close();
    });
}

async function listenOnPreferredPort(listener: LocalListener, required: number | undefined, preferred: number | undefined): Promise<number> {
  if (required !== undefined) {
    return listener.listen('127.0.0.1', required).catch((error: NodeJS.ErrnoException) => {
      throw new CliError(`cannot listen on 127.0.0.1:${required}: ${error.code === 'EADDRINUSE' ? 'the port is in use' : error.message}`);
    });
  }
  if (preferred !== undefined) {
    const port = await listener.listen('127.0.0.1', preferred).catch(() => undefined);
    if (port !== undefined) return port;
  }
  return listener.listen('127.0.0.1', 0);
}

function connectHelp(connection: Connection, port: number, kubeconfig?: string): string {
  const lines = [`Listening on 127.0.0.1:${port} for connection "${connection.name}" (${connection.type}). Each local connection gets its own session.`];
  if (connection.type === 'postgres') {
    lines.push('Connect with:', `  psql "host=127.0.0.1 port=${port} dbname=${connection.database ?? connection.name} sslmode=disable"`);
    lines.push('No password is needed: the agent logs in to the database with its own credential.');
  } else if (connection.type === 'ssh') {
    lines.push(...sshConnectHelp(connection, port));
  } else if (connection.type === 'http') {
    lines.push(`Send requests to http://127.0.0.1:${port}, e.g.`, `  curl http://127.0.0.1:${port}/`);
    lines.push('No credential is needed: the agent adds its own, and removes any the client sends.');
  } else if (connection.type === 'kubernetes' && kubeconfig) {
    lines.push(`Wrote ${kubeconfig} (no credentials in it). Use it with:`, `  export KUBECONFIG=${kubeconfig}`, '  kubectl get pods');
    lines.push('The agent authenticates to the API server with its own credential.');
  } else {
    lines.push(`Point your client at 127.0.0.1:${port}.`);
  }
  lines.push('Press Ctrl-C to stop.');
  return lines.join('\n');
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
