/** Runs the built `bin/airlock.js` as a user would, with its own AIRLOCK_HOME. */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/airlock.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Asynchronous on purpose: the fake control plane answers from this same process. `input`, when
 * given, is written to the command's standard input (which is then closed).
 */
export function runCli(home: string, args: string[], env: Record<string, string> = {}, input?: string): Promise<CliResult> {
  const cleanEnv = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('AIRLOCK_')),
  );
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...cleanEnv, NO_COLOR: '1', COLUMNS: '100', AIRLOCK_HOME: home, ...env }, timeout: 15_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

export function makeHome(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'airlock-cli-test-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface RunningCli {
  readonly child: ChildProcess;
  /** Resolves when the command exits. */
  readonly result: Promise<CliResult>;
  /** Resolves with everything on stderr so far once it matches `pattern` (rejects if the command exits first). */
  stderrMatching(pattern: RegExp): Promise<string>;
}

/** Like runCli, but returns while the command runs, for commands that wait (e.g. `airlock request`). */
export function startCli(home: string, args: string[], env: Record<string, string> = {}): RunningCli {
  const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AIRLOCK_')));
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...cleanEnv, NO_COLOR: '1', COLUMNS: '100', AIRLOCK_HOME: home, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const watchers: Array<() => void> = [];
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const watch of [...watchers]) watch();
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const result = new Promise<CliResult>((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      for (const watch of [...watchers]) watch();
      resolve({ code: code ?? (signal ? -1 : 0), stdout, stderr });
    }),
  );
  const stderrMatching = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const watch = () => {
        if (pattern.test(stderr)) {
          watchers.splice(watchers.indexOf(watch), 1);
          resolve(stderr);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          watchers.splice(watchers.indexOf(watch), 1);
          reject(new Error(`the command exited before stderr matched ${pattern}; stderr: ${stderr}`));
        }
      };
      watchers.push(watch);
      watch();
    });
  return { child, result, stderrMatching };
}
