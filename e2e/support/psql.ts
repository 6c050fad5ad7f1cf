import { runCommand, type RunResult } from './run.js';

export interface PsqlOptions {
  host?: string;
  port?: number;
  user?: string;
  database?: string;
  password?: string;
  /** SQL passed with -c */
  command?: string;
  /** SQL file passed with -f */
  file?: string;
  /** Extra psql arguments, placed before -c/-f. */
  args?: readonly string[];
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
}

/** The psql binary: AIRLOCK_TEST_PSQL (set by scripts/run.mjs) or psql on PATH. */
export function psqlBinary(): string {
  return process.env.AIRLOCK_TEST_PSQL || 'psql';
}

/**
 * Runs the real psql: `psql -X -A -t -v ON_ERROR_STOP=1 -h host -p port -U user -d database (-c command | -f file)`.
 * Defaults: 127.0.0.1:5432, user postgres, database test. With -A -t, `select 1` prints "1\n".
 */
export async function runPsql(opts: PsqlOptions): Promise<RunResult> {
  if ((opts.command === undefined) === (opts.file === undefined) && opts.input === undefined) {
    throw new Error('runPsql: give exactly one of command or file (or input for stdin)');
  }
  const args = [
    '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
    '-h', opts.host ?? '127.0.0.1',
    '-p', String(opts.port ?? 5432),
    '-U', opts.user ?? 'postgres',
    '-d', opts.database ?? 'test',
    ...(opts.args ?? []),
    ...(opts.command !== undefined ? ['-c', opts.command] : []),
    ...(opts.file !== undefined ? ['-f', opts.file] : []),
  ];
  return runCommand(psqlBinary(), args, {
    env: {
      PGCONNECT_TIMEOUT: '10',
      ...(opts.password !== undefined ? { PGPASSWORD: opts.password } : {}),
      ...opts.env,
    },
    input: opts.input,
    timeoutMs: opts.timeoutMs ?? 60_000,
  });
}
