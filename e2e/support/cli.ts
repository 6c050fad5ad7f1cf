import { CLI_BIN } from './paths.js';
import { startProcess, type ProcessHandle } from './processes.js';
import { runCommand, type RunResult } from './run.js';

/** Environment variable the CLI reads for its home (config, credentials). */
export const CLI_HOME_ENV = 'AIRLOCK_HOME';

export interface CliOptions {
  /** The CLI's home directory: sets AIRLOCK_HOME and HOME, so nothing of the developer's is read or written. */
  home?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** runCli: whole-run limit (default 60 s, rejects on timeout). spawnCli: readyPattern wait (default 30 s). */
  timeoutMs?: number;
  input?: string | Buffer;
}

export interface SpawnCliOptions extends CliOptions {
  readyPattern?: RegExp;
  /** Name for the log file (default airlock-<first arg>). */
  name?: string;
}

function cliEnv(opts: CliOptions): NodeJS.ProcessEnv {
  return {
    NO_COLOR: '1',
    FORCE_COLOR: '0',
    ...(opts.home ? { [CLI_HOME_ENV]: opts.home, HOME: opts.home } : {}),
    ...opts.env,
  };
}

/** Runs the real CLI (`node cli/bin/airlock.js ...args`) to completion. */
export function runCli(args: readonly string[], opts: CliOptions = {}): Promise<RunResult> {
  return runCommand(process.execPath, [CLI_BIN, ...args], {
    env: cliEnv(opts),
    cwd: opts.cwd,
    input: opts.input,
    timeoutMs: opts.timeoutMs,
  });
}

/** Starts the real CLI for a long-running command (e.g. `dev`, `connect`); stop it with handle.stop() or stopAll(). */
export function spawnCli(args: readonly string[], opts: SpawnCliOptions = {}): Promise<ProcessHandle> {
  return startProcess(opts.name ?? `airlock-${args[0] ?? 'cli'}`, process.execPath, [CLI_BIN, ...args], {
    env: cliEnv(opts),
    cwd: opts.cwd,
    input: opts.input,
    readyPattern: opts.readyPattern,
    timeoutMs: opts.timeoutMs,
  });
}

export type { RunResult };
