/** Runs the built `bin/airlock.js` as a user would, with its own AIRLOCK_HOME. */
import { execFile } from 'node:child_process';
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
