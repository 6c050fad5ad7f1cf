/**
 * `airlock ssh NAME [command...]`: opens a tunnel to an ssh connection on a free local port and runs
 * the system `ssh` through it, pinned to the agent's host key; its exit status becomes ours.
 * Also the lines `airlock connect` prints for ssh connections.
 */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { ApiClient } from '../lib/api.js';
import type { Connection } from '../lib/api.js';
import { CliError, ExitCode } from '../lib/errors.js';
import { hostKeyOf, knownHostsPath, rememberHostKey, sshOptions } from '../lib/known-hosts.js';
import { loadProfile } from '../lib/profile.js';
import { channelFor } from '../tunnel/channel.js';
import { LocalListener } from '../tunnel/local-listener.js';

interface SshCommandOptions {
  tty?: boolean;
  sshOption?: string[];
}

export function registerSsh(program: Command): void {
  program
    .command('ssh')
    .argument('<connection>', 'an ssh connection (airlock connections list)')
    .argument('[command...]', 'run this command instead of a shell (put -- before it when it has options)')
    .description('open an SSH session to CONNECTION through airlock with the system ssh client')
    .option('-t, --tty', 'ask for a terminal even when running a command (ssh -t)')
    .option('-o, --ssh-option <option>', 'pass an option to ssh (repeatable), e.g. -o ServerAliveInterval=30', collect, [])
    .action(async (name: string, command: string[], options: SshCommandOptions) => {
      process.exitCode = await runSsh(name, command, options);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function runSsh(name: string, command: string[], options: SshCommandOptions): Promise<number> {
  const profile = loadProfile();
  const connection = await ApiClient.fromProfile(profile).getConnection(name);
  if (connection.type !== 'ssh') throw new CliError(`connection "${name}" is a ${connection.type} connection, not ssh; use airlock connect`, ExitCode.Usage);
  if (!connection.agentConnected) throw new CliError(`agent "${connection.agent}" that serves connection "${name}" is offline`, ExitCode.Unreachable);
  const hostKey = hostKeyOf(connection);
  const channel = channelFor(profile);
  const listener = new LocalListener(channel, name, { onSessionError: (message) => process.stderr.write(`airlock: ${message}\n`) });
  try {
    const port = await listener.listen('127.0.0.1', 0);
    const knownHosts = rememberHostKey(port, hostKey, name);
    const args = [
      '-p', String(port), ...sshOptions(knownHosts),
      ...options.sshOption!.flatMap((o) => ['-o', o]),
      ...(options.tty ? ['-t'] : []),
      '127.0.0.1',
      ...(command.length > 0 ? ['--', ...command] : []),
    ];
    return await runClient('ssh', args);
  } finally {
    await listener.close();
    channel.close();
  }
}

/** Runs the client in this terminal; Ctrl-C belongs to it (and to the remote side), not to us. */
function runClient(file: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const ignore = () => undefined;
    process.on('SIGINT', ignore);
    const child = spawn(file, args, { stdio: 'inherit' });
    const done = () => process.off('SIGINT', ignore);
    child.once('error', (error: NodeJS.ErrnoException) => {
      done();
      reject(new CliError(error.code === 'ENOENT' ? `${file} is not installed (it is OpenSSH's client, e.g. apt-get install openssh-client)` : `cannot run ${file}: ${error.message}`));
    });
    child.once('exit', (code, signal) => {
      done();
      resolve(code ?? 128 + (signal ? signalNumber(signal) : 0));
    });
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };
  return numbers[signal] ?? 1;
}

/** What `airlock connect` prints for an ssh connection, once the known_hosts line is written. */
export function sshConnectHelp(connection: Connection, port: number): string[] {
  const knownHosts = knownHostsPath();
  const options = sshOptions(knownHosts).join(' ');
  return [
    `The agent's host key is ${connection.sshHostKeyFingerprint ?? '(unknown)'}; ${knownHosts} pins it for this port.`,
    'Connect with:',
    `  ssh -p ${port} ${options} 127.0.0.1`,
    `  scp -P ${port} ${options} FILE 127.0.0.1:PATH`,
    `No key or password is needed: the agent logs in${connection.user ? ` as "${connection.user}"` : ''} with its own credential, whatever user you give.`,
  ];
}

/** Checks and pins an ssh connection's host key for `port`; returns the known_hosts path. */
export function pinSshHostKey(connection: Connection, port: number): string {
  return rememberHostKey(port, hostKeyOf(connection), connection.name);
}
