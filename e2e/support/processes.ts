import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { LOG_DIR } from './paths.js';

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Resolve startProcess only once stdout or stderr matches this. */
  readyPattern?: RegExp;
  /** How long to wait for readyPattern (default 30 s). */
  timeoutMs?: number;
  /** Written to stdin, then stdin is closed. Without it stdin stays open (use handle.child.stdin). */
  input?: string | Buffer;
  /** Replace process.env instead of extending it. */
  cleanEnv?: boolean;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. ENOENT). */
  error?: Error;
}

export interface ProcessHandle {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** All stdout so far. */
  readonly stdout: string;
  /** All stderr so far. */
  readonly stderr: string;
  /** stdout and stderr interleaved as they arrived. */
  readonly output: string;
  /** Undefined while running. */
  readonly exitInfo: ExitInfo | undefined;
  readonly running: boolean;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  /** Waits until stdout or stderr (everything since start) matches; rejects on timeout or exit. */
  waitFor(pattern: RegExp | string, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends signal to the process group; SIGKILL after timeoutMs. Resolves with the exit. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitInfo>;
}

const live = new Set<ProcessHandle>();

const tail = (s: string, n = 2000) => (s.length > n ? '…' + s.slice(-n) : s);

function toRegExp(p: RegExp | string): RegExp {
  if (typeof p === 'string') return new RegExp(p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  // global/sticky regexps keep state between calls: drop those flags
  return new RegExp(p.source, p.flags.replace(/[gy]/g, ''));
}

/** Kill the whole process group (children are started detached, as group leaders). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try { child.kill(signal); } catch { /* already gone */ }
  }
}

/**
 * Starts a process with output captured in memory and in e2e/.logs/<name>-<pid>.log.
 * The process leads its own process group: stop() and stopAll() kill its children too.
 */
export async function startProcess(
  name: string,
  command: string,
  args: readonly string[] = [],
  opts: StartOptions = {},
): Promise<ProcessHandle> {
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.cleanEnv ? { ...opts.env } : { ...process.env, ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });

  let stdout = '';
  let stderr = '';
  let output = '';
  let exitInfo: ExitInfo | undefined;
  const listeners = new Set<() => void>();
  const notify = () => { for (const l of [...listeners]) l(); };

  const safeName = name.replace(/[^\w.-]+/g, '_');
  const logFile = join(LOG_DIR, `${safeName}-${child.pid ?? 'nopid'}.log`);
  let log: WriteStream | undefined;
  try {
    mkdirSync(LOG_DIR, { recursive: true });
    // keep the logs out of git whatever the repository's .gitignore says
    if (!existsSync(join(LOG_DIR, '.gitignore'))) writeFileSync(join(LOG_DIR, '.gitignore'), '*\n');
    log = createWriteStream(logFile, { flags: 'a' });
    log.on('error', () => { log = undefined; });
    log.write(`# ${new Date().toISOString()} ${command} ${args.map((a) => JSON.stringify(a)).join(' ')}\n`);
  } catch { log = undefined; }

  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => { stdout += d; output += d; log?.write(d); notify(); });
  child.stderr!.on('data', (d: string) => { stderr += d; output += d; log?.write(d); notify(); });
  child.stdin!.on('error', () => { /* child closed stdin early */ });
  if (opts.input !== undefined) child.stdin!.end(opts.input);

  let resolveExited!: (e: ExitInfo) => void;
  const exited = new Promise<ExitInfo>((r) => { resolveExited = r; });
  const finish = (info: ExitInfo) => {
    if (exitInfo) return;
    exitInfo = info;
    log?.end(`\n# exited code=${info.code} signal=${info.signal}${info.error ? ` error=${info.error.message}` : ''}\n`);
    live.delete(handle);
    notify();
    resolveExited(info);
  };
  child.once('error', (error) => finish({ code: null, signal: null, error }));
  // 'close' waits for stdio to drain; if a grandchild keeps the pipes open, fall back to 'exit' + 1 s.
  child.once('close', (code, signal) => finish({ code, signal }));
  child.once('exit', (code, signal) => { setTimeout(() => finish({ code, signal }), 1000).unref(); });

  const handle: ProcessHandle = {
    name,
    pid: child.pid ?? -1,
    child,
    logFile,
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    get output() { return output; },
    get exitInfo() { return exitInfo; },
    get running() { return exitInfo === undefined; },
    exited,
    waitFor(pattern, timeoutMs = 30_000) {
      const re = toRegExp(pattern);
      // errors carry the caller's stack, not this module's listener plumbing
      const site = new Error();
      const fail = (message: string) => {
        const err = new Error(message);
        err.stack = `Error: ${message}\n${(site.stack ?? '').split('\n').slice(2).join('\n')}`;
        return err;
      };
      return new Promise<RegExpMatchArray>((resolve, reject) => {
        const check = () => {
          const m = output.match(re);
          if (m) { cleanup(); resolve(m); return; }
          if (exitInfo) {
            cleanup();
            reject(fail(`${name} exited (code ${exitInfo.code}, signal ${exitInfo.signal}${exitInfo.error ? `, ${exitInfo.error.message}` : ''}) before printing ${re}; output:\n${tail(output)}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(fail(`${name}: ${re} not seen within ${timeoutMs} ms; output:\n${tail(output)}`));
        }, timeoutMs);
        const cleanup = () => { clearTimeout(timer); listeners.delete(check); };
        listeners.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM', timeoutMs = 10_000) {
      if (exitInfo) return exitInfo;
      killGroup(child, signal);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((r) => { timer = setTimeout(() => r(true), timeoutMs); }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        killGroup(child, 'SIGKILL');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      } else {
        // the leader is gone; make sure nothing it started lingers
        killGroup(child, 'SIGKILL');
      }
      return exitInfo ?? { code: null, signal: 'SIGKILL' };
    },
  };
  live.add(handle);

  if (opts.readyPattern) {
    try {
      await handle.waitFor(opts.readyPattern, opts.timeoutMs ?? 30_000);
    } catch (err) {
      await handle.stop('SIGKILL', 2000);
      throw err;
    }
  } else if (child.pid === undefined) {
    // spawn failed synchronously-ish (ENOENT): surface it now
    const info = await exited;
    throw new Error(`${name}: could not start ${command}: ${info.error?.message ?? 'unknown error'}`);
  }
  return handle;
}

/** Stops every process started through startProcess that is still running. For afterAll. */
export async function stopAll(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<void> {
  await Promise.all([...live].map((h) => h.stop(signal, timeoutMs)));
}

/** Processes started and still running (for assertions about leaks). */
export function runningProcesses(): ProcessHandle[] {
  return [...live];
}

// Last resort if a test file ends without stopAll(): kill what is left when this worker exits.
process.once('exit', () => {
  for (const h of live) killGroup(h.child, 'SIGKILL');
});
