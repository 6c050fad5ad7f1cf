import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly exited: Promise<number | null>;
  stop(timeoutMs?: number): Promise<void>;
}

/** Runs one airlock process under `airlock dev`, its log lines prefixed and made readable. */
export function startChild(name: string, args: string[], env: NodeJS.ProcessEnv): Child {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => process.stderr.write(`${name.padEnd(13)} | ${prettyLogLine(line)}\n`));
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    name,
    process: child,
    exited,
    async stop(timeoutMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** `{"level":"info","msg":"agent connected","agentName":"dev"}` → `info  agent connected agentName=dev`. */
export function prettyLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const { time: _time, level, msg, ...fields } = JSON.parse(line) as Record<string, unknown>;
    if (typeof msg !== 'string') return line;
    const rest = Object.entries(fields)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    return `${String(level ?? 'info').padEnd(5)} ${msg}${rest ? ' ' + rest : ''}`;
  } catch {
    return line;
  }
}
