#!/usr/bin/env node
// airlock data-path benchmark: direct Postgres vs. airlock (CLI → control plane → agent), with and
// without a policy and with masking rules, vs. pgbouncer, interleaved in one run on this machine; plus review release latency
// and policy evaluation cost. See bench/README.md. Plain Node ESM, no dependencies of its own.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg'; // the workspace root's devDependency (node-postgres): the release-latency client
import { benchSsh, renderSsh, sshUnavailable } from './ssh-bulk.mjs';
import { benchHttp, renderHttp } from './http-rps.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
// BENCH_ROOT: the workspace whose built packages to run (default: the one holding this script), e.g. an
// older commit's worktree; results are still written next to this script.
const ROOT = path.resolve(process.env.BENCH_ROOT ?? path.resolve(HERE, '..'));

// ---------------------------------------------------------------------------------------------
// options
const USAGE = `usage: node bench/run.mjs [--quick] [--seconds N] [--rounds N] [--bulk-mib N]
                         [--slow-reader-sleep N | --no-slow-reader] [--releases N | --no-releases]
                         [--paths LIST] [--profile DIR] [--keep-logs] [--no-pgbench] [--bulk-warmup] [--ssh-mib N]
  --quick              smoke run (< 1 min): 2 s pgbench runs, 1 round, 64 MiB bulk table
  --seconds N          duration of each pgbench run (default 10)
  --rounds N           interleaved rounds; the median is reported (default 3)
  --bulk-mib N         size of the bulk table's COPY output in MiB (default 384)
  --slow-reader-sleep N  seconds the slow reader waits before reading the bulk COPY (default 10; 3 with --quick)
  --no-slow-reader     skip the slow-reader memory experiment
  --releases N         held statements approved one at a time for the release latency (default 30; 10 with --quick)
  --no-releases        skip the release-latency experiment
  --paths LIST         comma-separated subset of direct,airlock,airlock+policy,airlock+masking,pgbouncer,ssh (default: all available);
                       ssh alone (--paths ssh) runs only the scp comparison, without the Postgres measurements;
                       http alone (--paths http) only the HTTP requests/s comparison (--seconds per run)
  --ssh-mib N          size of the file scp copies on the ssh path, in MiB (default 256; 64 with --quick)
  --profile DIR        run the three airlock processes with node --cpu-prof, profiles written to DIR
                       (summarise with: node bench/profile-summary.mjs DIR)
  --keep-logs          keep the temp dir with process logs (always kept on failure)
  --no-pgbench         skip the pgbench runs (c=1, c=8): bulk COPY only
  --bulk-warmup        one unmeasured bulk COPY through every path before the rounds (JIT-warm relays)
env: BENCH_PGHOST/BENCH_PGPORT (default 127.0.0.1:5432, trust auth as user postgres);
     BENCH_ROOT: workspace whose built packages are benchmarked (default: this script's)`;

function parseArgs(argv) {
  const o = { paths: undefined, profileDir: undefined, quick: false, seconds: undefined, rounds: undefined, bulkMib: undefined, slowReader: true, slowSleep: undefined, releases: undefined, keepLogs: false, pgbench: true, bulkWarmup: false, sshMib: undefined };
  const num = (i, name) => {
    const v = Number(argv[i]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} needs a positive number, got ${argv[i]}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--seconds') o.seconds = num(++i, a);
    else if (a === '--rounds') o.rounds = Math.round(num(++i, a));
    else if (a === '--bulk-mib') o.bulkMib = Math.round(num(++i, a));
    else if (a === '--slow-reader-sleep') o.slowSleep = num(++i, a);
    else if (a === '--no-slow-reader') o.slowReader = false;
    else if (a === '--releases') o.releases = Math.round(num(++i, a));
    else if (a === '--no-releases') o.releases = 0;
    else if (a === '--keep-logs') o.keepLogs = true;
    else if (a === '--no-pgbench') o.pgbench = false;
    else if (a === '--bulk-warmup') o.bulkWarmup = true;
    else if (a === '--ssh-mib') o.sshMib = Math.round(num(++i, a));
    else if (a === '--paths') {
      o.paths = String(argv[++i] ?? '').split(',').filter(Boolean);
      const bad = o.paths.filter((p) => !PATHS_ALL.includes(p));
      if (bad.length || !o.paths.length) throw new Error(`--paths takes a list of ${PATHS_ALL.join(',')}; got ${argv[i]}`);
    } else if (a === '--profile') {
      if (!argv[i + 1]) throw new Error('--profile needs a directory');
      o.profileDir = path.resolve(argv[++i]);
    }
    else if (a === '-h' || a === '--help') { console.log(USAGE); process.exit(0); }
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  o.seconds ??= o.quick ? 2 : 10;
  o.rounds ??= o.quick ? 1 : 3;
  o.bulkMib ??= o.quick ? 64 : 384;
  o.slowSleep ??= o.quick ? 3 : 10;
  o.releases ??= o.quick ? 10 : 30;
  o.sshMib ??= o.quick ? 64 : 256;
  return o;
}

const PATHS_ALL = ['direct', 'airlock', 'airlock+policy', 'airlock+masking', 'pgbouncer', 'ssh', 'http'];
const MASKING = 'airlock+masking';
const opts = (() => {
  try { return parseArgs(process.argv.slice(2)); } catch (e) { console.error(e.message); process.exit(2); }
})();

const PGHOST = process.env.BENCH_PGHOST ?? '127.0.0.1';
const PGPORT = Number(process.env.BENCH_PGPORT ?? 5432);
if (!/^127\.|^localhost$|^::1$/.test(PGHOST)) { console.error('BENCH_PGHOST must be a loopback address'); process.exit(2); }
const BENCH_DB = 'airlock_bench';
const BENCH_ROLE = 'airlock_bench';
const BENCH_PASSWORD = 'airlock_bench_pw_not_secret';
const BULK_ROW_BYTES = 150; // one COPY text line: int id, tab, 140-char payload, newline ≈ 150 bytes
const PGBOUNCER = '/usr/sbin/pgbouncer';
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

const t0 = Date.now();
const log = (...a) => console.error(`[bench +${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);

// ---------------------------------------------------------------------------------------------
// process management: everything we start leads its own process group; cleanup kills the groups.
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-bench-'));
fs.chmodSync(work, 0o755);
const started = new Set(); // { name, child, pid }
let cleaningUp = false;
let controlPlaneDb; // dropped in cleanup

function startDaemon(name, cmd, args, { env = {}, cwd } = {}) {
  const logFile = path.join(work, `${name}.log`);
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, cwd, stdio: ['ignore', fd, fd], detached: true });
  fs.closeSync(fd);
  const h = { name, child, pid: child.pid, logFile, exited: false, exit: undefined };
  h.exitPromise = new Promise((resolve) => {
    child.once('exit', (code, signal) => { h.exited = true; h.exit = { code, signal }; started.delete(h); resolve(h.exit); });
    child.once('error', (err) => { h.exited = true; h.exit = { code: null, signal: null, error: err.message }; started.delete(h); resolve(h.exit); });
  });
  started.add(h);
  return h;
}

function readLog(h) {
  try { return fs.readFileSync(h.logFile, 'utf8'); } catch { return ''; }
}

async function waitForLog(h, pattern, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = readLog(h);
    const m = text.match(pattern);
    if (m) return m;
    if (h.exited) throw new Error(`${h.name} exited (${JSON.stringify(h.exit)}) before ${pattern}; log:\n${text.slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`${h.name}: ${pattern} not seen within ${timeoutMs} ms; log:\n${text.slice(-2000)}`);
    await sleep(100);
  }
}

function killGroup(h, signal) {
  try { process.kill(-h.pid, signal); } catch { try { h.child.kill(signal); } catch { /* gone */ } }
}

async function stopDaemon(h, timeoutMs = 5000) {
  if (h.exited) return;
  killGroup(h, 'SIGTERM');
  const timedOut = await Promise.race([h.exitPromise.then(() => false), sleep(timeoutMs).then(() => true)]);
  killGroup(h, 'SIGKILL'); // the leader is gone (or stuck): make sure nothing it started lingers
  if (timedOut) await Promise.race([h.exitPromise, sleep(2000)]);
}

async function cleanup(failed) {
  if (cleaningUp) return;
  cleaningUp = true;
  const hs = [...started].reverse();
  await Promise.all(hs.map((h) => stopDaemon(h)));
  if (controlPlaneDb) {
    const r = psqlAdmin(`DROP DATABASE IF EXISTS ${controlPlaneDb} WITH (FORCE)`, { check: false, timeoutMs: 20_000 });
    if (r.status !== 0) log(`could not drop ${controlPlaneDb}: ${r.stderr}`);
  }
  if (failed || opts.keepLogs) log(`logs kept in ${work}`);
  else fs.rmSync(work, { recursive: true, force: true });
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    log(`${sig}: stopping everything`);
    cleanup(true).finally(() => process.exit(130));
  });
}
process.once('exit', () => { for (const h of started) killGroup(h, 'SIGKILL'); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Runs a command to completion with a hard time limit; resolves { status, stdout, stderr }.
function run(cmd, args, { env = {}, timeoutMs = 60_000, input } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const h = { name: cmd, child, pid: child.pid, exited: false };
    started.add(h);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; killGroup(h, 'SIGKILL'); }, timeoutMs);
    const done = (status, error) => {
      clearTimeout(timer);
      h.exited = true;
      started.delete(h);
      resolve({ status, stdout, stderr: timedOut ? `${stderr}\n(timed out after ${timeoutMs} ms)` : error ? `${stderr}${error}` : stderr, timedOut });
    };
    child.once('error', (e) => done(-1, e.message));
    child.once('close', (code) => done(code ?? -1));
  });
}

function psqlAdmin(sql, { db = 'postgres', check = true, timeoutMs = 600_000 } = {}) {
  const r = spawnSync('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', PGHOST, '-p', String(PGPORT), '-U', 'postgres', '-d', db, '-c', sql], {
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  if (check && r.status !== 0) throw new Error(`psql failed: ${sql}\n${r.stderr}${r.error ? r.error.message : ''}`);
  return { status: r.status, stdout: (r.stdout ?? '').trim(), stderr: r.stderr ?? '' };
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function waitForPort(port, timeoutMs, h) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (h?.exited) throw new Error(`${h.name} exited (${JSON.stringify(h.exit)}); log:\n${readLog(h).slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`port ${port} not accepting connections within ${timeoutMs} ms`);
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// /proc sampling
function procStat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // after "pid (comm) ": f[0]=state … f[11]=utime f[12]=stime (fields 14, 15 of proc(5))
    return { cpuTicks: Number(f[11]) + Number(f[12]) };
  } catch { return undefined; }
}

function procMem(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number((s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm')) ?? [])[1] ?? NaN);
    return { rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 };
  } catch { return undefined; }
}

function childPids(pid) {
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch { /* raced */ }
  }
  return out;
}

// CPU ticks of every process on the machine, grouped: Postgres backends by "user db" (the bench's
// sessions vs. the control plane's store), our own airlock processes by role, the rest by comm.
// Processes that start and end between two snapshots are invisible here, but their parent's
// cutime/cstime grows when it reaps them: that growth, minus what the vanished children had already
// used at the first snapshot, is charged to "(exited children of <parent's group>)".
function allProcessTicks(roles) {
  const byPid = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const comm = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      let group = roles[d] ?? comm;
      if (!roles[d] && comm === 'postgres') {
        const title = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
        const m = title.match(/^postgres: (?:\d+\/main: )?(\S+) (\S+) 127/);
        group = m ? `postgres backend ${m[1]}@${m[2].startsWith('airlock_bench_cp_') ? 'control-plane store' : m[2]}` : `postgres ${title.replace(/^postgres: (\d+\/main: )?/, '').split(' ')[0]}`;
      }
      byPid.set(d, { group, ticks: Number(f[11]) + Number(f[12]), childTicks: Number(f[13]) + Number(f[14]), ppid: f[1] });
    } catch { /* raced */ }
  }
  return byPid;
}

function groupDelta(before, after) {
  const out = {};
  const add = (g, ticks) => { if (ticks > 0) out[g] = (out[g] ?? 0) + (ticks * 1000) / CLK_TCK; };
  const reaped = new Map(); // group of the parent → ticks of children reaped in the window
  for (const [pid, a] of after) {
    const b = before.get(pid);
    add(a.group, a.ticks - (b?.ticks ?? 0)); // new process: all of its ticks happened in between
    const dc = a.childTicks - (b?.childTicks ?? a.childTicks); // only parents seen at both snapshots
    if (dc > 0) reaped.set(a.group, (reaped.get(a.group) ?? 0) + dc);
  }
  // a child alive at the first snapshot and reaped since: its ticks before the window are not ours
  for (const [pid, b] of before) {
    if (after.has(pid)) continue;
    const parent = after.get(b.ppid);
    if (parent && reaped.has(parent.group)) reaped.set(parent.group, reaped.get(parent.group) - b.ticks);
  }
  for (const [g, ticks] of reaped) add(`(exited children of ${g})`, ticks);
  return out; // ms per group
}

// Machine-wide CPU ticks (all cores): busy = everything but idle and iowait.
function machineTicks() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] ?? 0);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

function cpuSnapshot(procs) {
  const snap = {};
  for (const [name, pid] of Object.entries(procs)) snap[name] = procStat(pid)?.cpuTicks;
  return snap;
}

function cpuDeltaMs(before, after) {
  const out = {};
  for (const k of Object.keys(before)) {
    if (before[k] === undefined || after[k] === undefined) continue;
    out[k] = ((after[k] - before[k]) * 1000) / CLK_TCK;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// setup of the target database (idempotent)
function setupTarget() {
  const ping = psqlAdmin('select 1', { check: false, timeoutMs: 10_000 });
  if (ping.status !== 0) throw new Error(`cannot reach Postgres at ${PGHOST}:${PGPORT} as user postgres (trust):\n${ping.stderr}`);
  const roleExists = psqlAdmin(`select 1 from pg_roles where rolname = '${BENCH_ROLE}'`).stdout === '1';
  psqlAdmin(`${roleExists ? 'ALTER' : 'CREATE'} ROLE ${BENCH_ROLE} LOGIN PASSWORD '${BENCH_PASSWORD}'`);
  if (psqlAdmin(`select 1 from pg_database where datname = '${BENCH_DB}'`).stdout !== '1') {
    log(`creating database ${BENCH_DB}`);
    psqlAdmin(`CREATE DATABASE ${BENCH_DB} OWNER ${BENCH_ROLE}`);
  }
  const hasAccounts = psqlAdmin(`select to_regclass('pgbench_accounts') is not null`, { db: BENCH_DB }).stdout === 't';
  const accounts = hasAccounts ? psqlAdmin('select count(*) from pgbench_accounts', { db: BENCH_DB }).stdout : '0';
  if (accounts !== '1000000') {
    log('pgbench -i -s 10 (once)');
    const r = spawnSync('pgbench', ['-i', '-s', '10', '-q', '-h', PGHOST, '-p', String(PGPORT), '-U', BENCH_ROLE, BENCH_DB], {
      encoding: 'utf8', timeout: 300_000, env: { ...process.env, PGPASSWORD: BENCH_PASSWORD },
    });
    if (r.status !== 0) throw new Error(`pgbench -i failed:\n${r.stderr}`);
  }
  const bulkRows = Math.round((opts.bulkMib * 1024 * 1024) / BULK_ROW_BYTES);
  const bulkTable = `bulk_${opts.bulkMib}mib`;
  const marker = `rows=${bulkRows}`;
  const have = psqlAdmin(`select coalesce(obj_description(to_regclass('${bulkTable}'), 'pg_class'), '')`, { db: BENCH_DB }).stdout;
  if (have !== marker) {
    log(`creating ${bulkTable}: ${bulkRows} rows × ~${BULK_ROW_BYTES} B (once)`);
    psqlAdmin(
      `DROP TABLE IF EXISTS ${bulkTable};
       CREATE TABLE ${bulkTable} (id int, payload text);
       INSERT INTO ${bulkTable} SELECT g, substr(repeat(md5(g::text), 5), 1, ${BULK_ROW_BYTES - 10}) FROM generate_series(1000001, ${1000000 + bulkRows}) g;
       ALTER TABLE ${bulkTable} OWNER TO ${BENCH_ROLE};`,
      { db: BENCH_DB, timeoutMs: 900_000 },
    );
    psqlAdmin(`VACUUM ANALYZE ${bulkTable}`, { db: BENCH_DB, timeoutMs: 900_000 });
    // the marker goes on last, so an interrupted setup is redone next time
    psqlAdmin(`COMMENT ON TABLE ${bulkTable} IS '${marker}'`, { db: BENCH_DB });
  }
  psqlAdmin(`VACUUM ANALYZE pgbench_accounts`, { db: BENCH_DB, check: false });
  return { bulkTable, bulkRows };
}

// ---------------------------------------------------------------------------------------------
// the airlock stack
const NODE = process.execPath;
const CP_BIN = path.join(ROOT, 'control-plane', 'bin', 'airlock-control-plane.js');
const AGENT_BIN = path.join(ROOT, 'data-agent', 'bin', 'airlock-agent.js');
const CLI_BIN = path.join(ROOT, 'cli', 'bin', 'airlock.js');

async function startAirlock() {
  for (const f of [
    path.join(ROOT, 'control-plane', 'dist', 'cli-entry.js'),
    path.join(ROOT, 'data-agent', 'dist', 'cli-entry.js'),
    path.join(ROOT, 'cli', 'dist', 'index.js'),
  ]) {
    if (!fs.existsSync(f)) throw new Error(`${f} is missing: build first (cd ${ROOT} && pnpm -r --workspace-concurrency=1 run build)`);
  }
  controlPlaneDb = `airlock_bench_cp_${process.pid}_${Date.now().toString(36)}`;
  psqlAdmin(`CREATE DATABASE ${controlPlaneDb}`);
  const cpPort = await freePort();
  const url = `http://127.0.0.1:${cpPort}`;
  const token = `alk_bench_${randomBytes(16).toString('hex')}`;
  const extraNodeOptions = process.env.BENCH_NODE_OPTIONS ?? ''; // extra NODE_OPTIONS for the three airlock processes
  const nodeArgs = [];
  if (opts.profileDir) {
    fs.mkdirSync(opts.profileDir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`); // not allowed in NODE_OPTIONS
  }
  const nodeEnv = extraNodeOptions ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${extraNodeOptions}`.trim() } : {};
  // Log level: info (the default) — the ready line is an info line, and it is what a deployment runs.
  const cp = startDaemon('control-plane', NODE, [...nodeArgs, CP_BIN], {
    cwd: work,
    env: {
      ...nodeEnv,
      DATABASE_URL: `postgres://postgres@${PGHOST}:${PGPORT}/${controlPlaneDb}`,
      AIRLOCK_HOST: '127.0.0.1',
      AIRLOCK_PORT: String(cpPort),
      AIRLOCK_DATA_DIR: path.join(work, 'cp-data'),
      AIRLOCK_BOOTSTRAP_TOKEN: token,
      // Loopback plaintext, as airlock dev runs: the benchmark compares transports of the data path, not TLS.
      AIRLOCK_INSECURE_PLAINTEXT: '1',
    },
  });
  await waitForLog(cp, /control plane listening/, 60_000);
  const home = path.join(work, 'cli-home');
  const cliEnv = { AIRLOCK_HOME: home, HOME: home, NO_COLOR: '1' };
  const cli = async (args) => {
    const r = await run(NODE, [CLI_BIN, ...args], { env: cliEnv, timeoutMs: 60_000 });
    if (r.status !== 0) throw new Error(`airlock ${args.join(' ')} failed (${r.status}):\n${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  await cli(['login', '--url', url, '--token', token]);
  const { joinToken } = JSON.parse(await cli(['agents', 'create', 'bench-agent', '--json']));
  const agent = startDaemon('agent', NODE, [...nodeArgs, AGENT_BIN, '--url', url, '--join-token', joinToken, '--state-dir', path.join(work, 'agent-state')], {
    cwd: work,
    env: { ...nodeEnv, BENCH_PG_PASSWORD: BENCH_PASSWORD },
  });
  await waitForLog(agent, /connected to the control plane/, 60_000);
  // Two connections to the same database: 'pg' is covered by no policy (usable by admins only, every
  // statement allowed without evaluation), 'pg-policy' by the bench policy below.
  for (const name of ['pg', 'pg-policy']) {
    await cli([
      'connections', 'create', name, '--type', 'postgres', '--agent', 'bench-agent', '--host', PGHOST, '--port', String(PGPORT),
      '--database', BENCH_DB, '--user', BENCH_ROLE, '--secret', 'env:BENCH_PG_PASSWORD', '--tls-mode', 'disable',
    ]);
  }
  const portLine = /^\{.*"port":\s*(\d+).*\}$/m;
  const connect = startDaemon('cli-connect', NODE, [...nodeArgs, CLI_BIN, 'connect', 'pg', '--port', String(await freePort()), '--json'], { cwd: work, env: { ...cliEnv, ...nodeEnv } });
  const m = await waitForLog(connect, portLine, 30_000);
  const wantPolicy = !opts.paths || opts.paths.includes('airlock+policy');
  const wantMasking = !opts.paths || opts.paths.includes(MASKING);
  // Without the airlock+policy and airlock+masking paths, no users, policies or other CLIs (older builds have none of them).
  if (!wantPolicy && !wantMasking) return { cp, agent, connect, port: Number(m[1]), url, cli, cliEnv };
  // The policy path: user 'bench' (group bench) through its own `airlock connect`; reviews are approved
  // by 'bench-approver' (group approvers): no self-approval.
  const benchUser = JSON.parse(await cli(['users', 'create', 'bench', '--group', 'bench', '--json']));
  const approver = JSON.parse(await cli(['users', 'create', 'bench-approver', '--group', 'approvers', '--role', 'reviewer', '--json']));
  if (!benchUser.token || !approver.token) throw new Error(`users create returned no token: ${JSON.stringify({ benchUser, approver }).replace(/alk_\w+/g, 'alk_…')}`);
  // The bench user's own `airlock connect` to one connection, with its own AIRLOCK_HOME.
  const userConnect = async (name, connection) => {
    const userHome = path.join(work, `cli-home-${name}`);
    const userEnv = { AIRLOCK_HOME: userHome, HOME: userHome, NO_COLOR: '1' };
    const r = await run(NODE, [CLI_BIN, 'login', '--url', url, '--token', benchUser.token], { env: userEnv, timeoutMs: 60_000 });
    if (r.status !== 0) throw new Error(`airlock login as bench failed (${r.status}):\n${r.stderr}${r.stdout}`);
    const h = startDaemon(`cli-connect-${name}`, NODE, [...nodeArgs, CLI_BIN, 'connect', connection, '--port', String(await freePort()), '--json'], { cwd: work, env: { ...userEnv, ...nodeEnv } });
    const mp = await waitForLog(h, portLine, 30_000);
    return { h, port: Number(mp[1]) };
  };
  const out = { cp, agent, connect, port: Number(m[1]), url, approverToken: approver.token, cli, cliEnv };
  if (wantPolicy) {
    const policyFile = path.join(work, 'policy.yaml');
    fs.writeFileSync(policyFile, POLICY_YAML);
    await cli(['apply', '-f', policyFile]);
    const c = await userConnect('policy', 'pg-policy');
    Object.assign(out, { policyConnect: c.h, policyPort: c.port });
  }
  if (wantMasking) {
    // a third connection to the same database, covered only by the masking policy
    await cli([
      'connections', 'create', 'pg-masking', '--type', 'postgres', '--agent', 'bench-agent', '--host', PGHOST, '--port', String(PGPORT),
      '--database', BENCH_DB, '--user', BENCH_ROLE, '--secret', 'env:BENCH_PG_PASSWORD', '--tls-mode', 'disable',
    ]);
    const maskingFile = path.join(work, 'policy-masking.yaml');
    fs.writeFileSync(maskingFile, MASKING_POLICY_YAML);
    await cli(['apply', '-f', maskingFile]);
    const c = await userConnect('masking', 'pg-masking');
    Object.assign(out, { maskingConnect: c.h, maskingPort: c.port });
  }
  return out;
}

// The policy of the airlock+masking path: every statement allowed (so the agent still judges each
// one, as on airlock+policy), results masked. The column rule hashes pgbench_accounts.filler and the
// bulk table's payload (the text column of every bulk row); the detectors scan every other text value.
// Bulk throughput on this path is measured as a SELECT of the bulk table (see bulkRead), the heaviest
// masking case (every DataRow re-encoded); COPY TO STDOUT is masked field by field as well since
// column rules learned to name COPY's columns, and costs about the same.
const MASKING_POLICY_YAML = `apiVersion: airlock/v1
kind: Policy
metadata: { name: bench-masking }
spec:
  subjects: ["group:bench"]
  connections: ["pg-masking"]
  access: allow
  rules: []
  default: allow
  masking:
    - columns: ["*.filler", "*.payload"]
      mode: hash
    - detect: [email, card]
      mode: redact
`;

// The policy of the airlock+policy path. pgbench -S sends only SELECTs (allowed: evaluated locally by
// the agent, no round trip); the release-latency experiment's UPDATE needs one approval.
const POLICY_YAML = `apiVersion: airlock/v1
kind: Policy
metadata: { name: bench }
spec:
  subjects: ["group:bench"]
  connections: ["pg-policy"]
  access: allow
  rules:
    - match: { statements: [select] }
      action: allow
    - match: { statements: [delete, update, insert] }
      action: review
  default: deny
  review: { reviewers: ["group:approvers"], approvals: 1, rejectOnAny: true, timeout: 15m }
`;

async function startPgbouncer() {
  if (!fs.existsSync(PGBOUNCER)) return undefined;
  const dir = path.join(work, 'pgbouncer');
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'userlist.txt'), `"${BENCH_ROLE}" "${BENCH_PASSWORD}"\n`);
  fs.writeFileSync(
    path.join(dir, 'pgbouncer.ini'),
    `[databases]
* = host=${PGHOST} port=${PGPORT} dbname=${BENCH_DB}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = trust
auth_file = ${path.join(dir, 'userlist.txt')}
pool_mode = session
max_client_conn = 100
default_pool_size = 40
ignore_startup_parameters = extra_float_digits,options,application_name
logfile = ${path.join(dir, 'pgbouncer.log')}
log_connections = 0
log_disconnections = 0
server_tls_sslmode = disable
`,
  );
  let cmd = PGBOUNCER;
  let args = [path.join(dir, 'pgbouncer.ini')];
  if (process.getuid?.() === 0) {
    // pgbouncer refuses to run as root
    spawnSync('chown', ['-R', 'postgres', dir]);
    cmd = 'runuser';
    args = ['-u', 'postgres', '--', PGBOUNCER, ...args];
  }
  const h = startDaemon('pgbouncer', cmd, args, { cwd: dir });
  await waitForPort(port, 15_000, h);
  // the pgbouncer process itself (runuser forks it) for CPU accounting
  let pid = h.pid;
  if (cmd === 'runuser') {
    for (let i = 0; i < 20; i++) {
      const kids = childPids(h.pid);
      if (kids.length) { pid = kids[0]; break; }
      await sleep(50);
    }
  }
  return { h, port, pid };
}

// ---------------------------------------------------------------------------------------------
// measurements
function pgEnv() {
  return { PGPASSWORD: BENCH_PASSWORD, PGCONNECT_TIMEOUT: '20', PGSSLMODE: 'disable' };
}

// pgbench's built-in select-only script reads only abalance (an int: nothing for masking to do);
// FILLER_SCRIPT reads the same row's filler (char(84), which the masking policy hashes).
const FILLER_SCRIPT = `\\set aid random(1, 100000 * :scale)
SELECT aid, filler FROM pgbench_accounts WHERE aid = :aid;
`;
let fillerScriptFile;
async function pgbench(port, clients, seconds, { script } = {}) {
  let mode = ['-S'];
  if (script === 'filler') {
    if (!fillerScriptFile) { fillerScriptFile = path.join(work, 'filler.sql'); fs.writeFileSync(fillerScriptFile, FILLER_SCRIPT); }
    mode = ['-f', fillerScriptFile];
  }
  const args = [...mode, '-n', '-T', String(seconds), '-c', String(clients), '-j', String(Math.min(clients, 2)), '-h', '127.0.0.1', '-p', String(port), '-U', BENCH_ROLE, BENCH_DB];
  const r = await run('pgbench', args, { env: pgEnv(), timeoutMs: (seconds + 60) * 1000 });
  const tps = Number((r.stdout.match(/tps = ([\d.]+) \(without initial connection time\)/) ?? [])[1]);
  const latencyMs = Number((r.stdout.match(/latency average = ([\d.]+) ms/) ?? [])[1]);
  const txns = Number((r.stdout.match(/number of transactions actually processed: (\d+)/) ?? [])[1]);
  const failed = Number((r.stdout.match(/number of failed transactions: (\d+)/) ?? [])[1] ?? 0);
  if (r.status !== 0 || !Number.isFinite(tps) || !txns) throw new Error(`pgbench on port ${port} failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  return { tps, latencyMs, txns, failed };
}

// Bulk COPY with a minimal wire-protocol client: the startup message, then the query, counting
// CopyData payload bytes. Walking message headers costs far less than a general client's per-row
// parsing (pg + pg-copy-streams emits one chunk per row and capped this measurement at ~half of
// what Postgres can send on this machine), so the number reflects the path, not the client.
// Auth: trust / AuthenticationOk (all three paths here), cleartext or md5 if asked.
// With { select: true } the same client sends `SELECT * FROM <table>` instead and counts DataRow bytes
// and rows (the bulk read of the airlock+masking path, where column rules refuse COPY).
function bulkCopy(port, table, timeoutMs, { select = false } = {}) {
  return new Promise((resolve, reject) => {
    let rows = 0;
    const socket = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let state = 'startup';
    let copyBytes = 0;
    let wireBytes = 0;
    let start;
    let error;
    const timer = setTimeout(() => fail(new Error(`bulk COPY on port ${port} timed out after ${timeoutMs} ms`)), timeoutMs);
    function fail(err) {
      if (state === 'done') return;
      state = 'done';
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    }
    function msg(type, body) {
      const b = Buffer.alloc(5 + body.length);
      b[0] = type.charCodeAt(0);
      b.writeInt32BE(4 + body.length, 1);
      body.copy(b, 5);
      return b;
    }
    const cstr = (s) => Buffer.from(`${s}\0`, 'utf8');
    socket.setNoDelay(true);
    socket.once('connect', () => {
      const params = Buffer.concat([cstr('user'), cstr(BENCH_ROLE), cstr('database'), cstr(BENCH_DB), cstr('application_name'), cstr('airlock-bench'), Buffer.from([0])]);
      const head = Buffer.alloc(8);
      head.writeInt32BE(8 + params.length, 0);
      head.writeInt32BE(196608, 4);
      socket.write(Buffer.concat([head, params]));
    });
    socket.on('error', (e) => fail(e));
    socket.on('close', () => fail(new Error(`connection on port ${port} closed during bulk COPY (${state})`)));
    socket.on('data', (chunk) => {
      wireBytes += chunk.length;
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      let off = 0;
      while (buf.length - off >= 5) {
        const type = buf[off];
        const len = buf.readInt32BE(off + 1);
        if (buf.length - off < 1 + len) break;
        const body = buf.subarray(off + 5, off + 1 + len);
        off += 1 + len;
        switch (type) {
          case 0x64: // 'd' CopyData
            copyBytes += body.length;
            break;
          case 0x44: // 'D' DataRow (select mode)
            copyBytes += body.length;
            rows++;
            break;
          case 0x52: { // 'R' authentication
            const code = body.readInt32BE(0);
            if (code === 0) break;
            if (code === 3) socket.write(msg('p', cstr(BENCH_PASSWORD)));
            else if (code === 5) {
              const md5 = (x) => createHash('md5').update(x).digest('hex');
              socket.write(msg('p', cstr(`md5${md5(md5(BENCH_PASSWORD + BENCH_ROLE) + body.subarray(4, 8).toString('latin1'))}`)));
            } else return fail(new Error(`bulk client: unsupported authentication request ${code}`));
            break;
          }
          case 0x45: // 'E' ErrorResponse
            error = body.toString('utf8').replace(/\0/g, ' ').trim();
            break;
          case 0x5a: // 'Z' ReadyForQuery
            if (error) return fail(new Error(`bulk COPY on port ${port}: ${error}`));
            if (state === 'startup') {
              state = 'copy';
              start = process.hrtime.bigint();
              socket.write(msg('Q', cstr(select ? `SELECT * FROM ${table}` : `COPY ${table} TO STDOUT`)));
            } else if (state === 'copy') {
              const seconds = Number(process.hrtime.bigint() - start) / 1e9;
              state = 'done';
              clearTimeout(timer);
              socket.end(msg('X', Buffer.alloc(0)));
              socket.destroy();
              resolve({ bytes: copyBytes, rows, wireBytes, seconds, mibPerSec: copyBytes / 1024 / 1024 / seconds });
            }
            break;
          default: // S, K, H, c, C, N: nothing to do
        }
      }
      buf = off === buf.length ? Buffer.alloc(0) : buf.subarray(off);
    });
  });
}

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// Slow client: psql's \copy of the bulk table into a pipe whose reader sleeps first, sampling RSS.
async function slowReader(port, table, sleepSeconds, procs) {
  const samples = [];
  const peak = {};
  let stop = false;
  const sampler = (async () => {
    const start = Date.now();
    while (!stop) {
      const row = { t: (Date.now() - start) / 1000 };
      for (const [name, pid] of Object.entries(procs)) {
        const m = procMem(pid);
        if (!m) continue;
        row[name] = Math.round(m.rssMiB * 10) / 10;
        peak[name] = Math.max(peak[name] ?? 0, m.rssMiB);
      }
      samples.push(row);
      await sleep(500);
    }
  })();
  const psqlCmd = `psql -X -q -h 127.0.0.1 -p ${port} -U ${BENCH_ROLE} -d ${BENCH_DB} -c '\\copy ${table} to stdout' | (sleep ${sleepSeconds}; wc -c)`;
  const start = Date.now();
  const r = await run('sh', ['-c', psqlCmd], { env: pgEnv(), timeoutMs: (sleepSeconds + 300) * 1000 });
  stop = true;
  await sampler;
  if (r.status !== 0) throw new Error(`slow reader failed:\n${r.stderr}`);
  return { sleepSeconds, bytes: Number(r.stdout.trim()), seconds: (Date.now() - start) / 1000, peakRssMiB: peak, samples };
}

// Before measuring the masking path: its results really are masked (filler and payload differ from
// what direct returns), so its numbers are not a pass-through's. COPY there is masked field by field.
async function checkMasking(port, table) {
  const read = async (p) => {
    const c = new pg.Client({ host: '127.0.0.1', port: p, user: BENCH_ROLE, database: BENCH_DB, password: BENCH_PASSWORD, ssl: false, connectionTimeoutMillis: 20_000 });
    c.on('error', () => undefined);
    await c.connect();
    try {
      const a = (await c.query('SELECT aid, filler FROM pgbench_accounts WHERE aid = 1')).rows[0];
      const b = (await c.query(`SELECT id, payload FROM ${table} ORDER BY id LIMIT 1`)).rows[0];
      return { filler: a?.filler, payload: b?.payload };
    } finally {
      await Promise.race([c.end().catch(() => undefined), sleep(5000)]);
    }
  };
  const [plain, masked] = [await read(PGPORT), await read(port)];
  if (plain.filler === masked.filler || plain.payload === masked.payload) throw new Error(`airlock+masking does not mask: ${JSON.stringify({ plain, masked })}`);
  const copy = await bulkCopy(port, table, 60_000).then(() => 'masked field by field', (e) => `refused (${e.message.slice(0, 120)})`);
  log(`masking check: filler → ${JSON.stringify(String(masked.filler).slice(0, 40))}, payload → ${JSON.stringify(String(masked.payload).slice(0, 40))}; COPY ${copy}`);
}

const pct = (xs, p) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

// Release latency: N statements that need review, one at a time, on one node-postgres connection
// through the policy path. For each: send it; poll the pending reviews until it shows up; t0 just
// before the approve call; t1 when `await fetch(approve)` returns; t2 when the client's query resolves.
// t1 and t2 are taken in their own callbacks, so whichever happens first is timed as it happens
// (t2 − t1 < 0 means the result reached the client before the approve response did).
const RELEASE_SQL = 'update pgbench_branches set bbalance = bbalance where bid = 1';
async function releaseLatency(port, url, token, n) {
  const client = new pg.Client({ host: '127.0.0.1', port, user: BENCH_ROLE, database: BENCH_DB, password: BENCH_PASSWORD, ssl: false, connectionTimeoutMillis: 20_000 });
  let notices = 0;
  client.on('notice', () => { notices++; });
  client.on('error', () => undefined); // surfaced by the pending query
  const auth = { authorization: `Bearer ${token}` };
  const withTimeout = (p, ms, what) => Promise.race([p, sleep(ms).then(() => { throw new Error(`release latency: ${what} took more than ${ms} ms`); })]);
  const samples = [];
  const seen = new Set();
  await withTimeout(client.connect(), 30_000, 'connect');
  try {
    for (let i = 0; i < n; i++) {
      const sent = nowMs();
      let t2;
      const query = client.query(RELEASE_SQL).then((r) => { t2 = nowMs(); return r; });
      query.catch(() => undefined);
      let review;
      const deadline = Date.now() + 15_000;
      while (!review) {
        const res = await fetch(`${url}/v1/reviews?state=pending`, { headers: auth });
        if (!res.ok) throw new Error(`GET /v1/reviews?state=pending: ${res.status} ${await res.text()}`);
        review = (await res.json()).reviews.find((r) => !seen.has(r.id) && r.connection === 'pg-policy' && /pgbench_branches/.test(r.statement ?? ''));
        if (review) break;
        const early = await Promise.race([query.then(() => 'resolved', (e) => e), sleep(2).then(() => undefined)]);
        if (early) throw new Error(`release latency: the statement was not held (${early === 'resolved' ? 'it ran without review' : early.message})`);
        if (Date.now() > deadline) throw new Error('release latency: no pending review appeared within 15 s');
      }
      seen.add(review.id);
      const held = nowMs();
      let t1;
      const t0 = nowMs();
      const approve = fetch(`${url}/v1/reviews/${review.id}/approve`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' })
        .then((res) => { t1 = nowMs(); return res; });
      const res = await withTimeout(approve, 15_000, 'approve');
      const body = await res.text();
      if (!res.ok) throw new Error(`POST /v1/reviews/${review.id}/approve: ${res.status} ${body}`);
      const result = await withTimeout(query, 15_000, `the query after approving review ${review.id}`);
      if (result.rowCount !== 1) throw new Error(`release latency: the released UPDATE touched ${result.rowCount} rows`);
      samples.push({ review: review.id, heldMs: held - sent, approveCallMs: t1 - t0, approveToResultMs: t2 - t1, callToResultMs: t2 - t0 });
    }
  } finally {
    await Promise.race([client.end().catch(() => undefined), sleep(5000)]);
  }
  const col = (k) => samples.map((x) => x[k]);
  const stats = (k) => ({ p50: pct(col(k), 50), p99: pct(col(k), 99), max: Math.max(...col(k)) });
  return {
    n, sql: RELEASE_SQL, notices,
    approveToResultMs: stats('approveToResultMs'), // t2 − t1
    callToResultMs: stats('callToResultMs'), // t2 − t0
    approveCallMs: stats('approveCallMs'), // t1 − t0
    heldMs: stats('heldMs'), // statement sent → seen pending (includes up to ~2 ms of polling)
    samples,
  };
}

// Policy evaluation cost per allowed statement: the repo's own data-agent/src/policy/bench-judge.mjs
// (a ~235-char SELECT, compiled code) and bench/judge-cost.mjs (pgbench's SELECT, with CPU per judgement).
async function policyCost() {
  const out = {};
  const j = await run(NODE, [path.join(ROOT, 'data-agent', 'src', 'policy', 'bench-judge.mjs')], { timeoutMs: 120_000 });
  if (j.status === 0) {
    const line = (re) => { const m = j.stdout.match(re); return m ? { p50: Number(m[1]), p99: Number(m[2]) } : undefined; };
    out.benchJudge = {
      sqlChars: Number((j.stdout.match(/SQL: (\d+) chars/) ?? [])[1]),
      judgeUs: line(/judgeSimpleQuery[^:]*: p50 ([\d.]+) µs, p99 ([\d.]+) µs/),
      evaluateOnlyUs: line(/evaluate only:\s*p50 ([\d.]+) µs, p99 ([\d.]+) µs/),
    };
  } else out.benchJudge = { error: `${j.stderr}${j.stdout}`.slice(-500) };
  const c = await run(NODE, [path.join(HERE, 'judge-cost.mjs'), opts.quick ? '5000' : '20000'], { timeoutMs: 120_000 });
  if (c.status === 0) out.pgbenchSelect = JSON.parse(c.stdout.trim().split('\n').pop());
  else out.pgbenchSelect = { error: `${c.stderr}${c.stdout}`.slice(-500) };
  return out;
}

function gitState() {
  const g = (...a) => spawnSync('git', ['-C', ROOT, ...a], { encoding: 'utf8', timeout: 10_000 }).stdout?.trimEnd() ?? ''; // porcelain lines start with a space
  const dirty = g('status', '--porcelain', '--untracked-files=no').split('\n').filter(Boolean).map((l) => l.slice(3)).filter((f) => !f.startsWith('bench/'));
  return { commit: g('rev-parse', '--short', 'HEAD'), dirtyFiles: dirty };
}

// ---------------------------------------------------------------------------------------------
// report
const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const ratio = (x, base) => (Number.isFinite(x) && Number.isFinite(base) && base !== 0 ? (x / base).toFixed(2) : '—');

function renderTable(res) {
  const paths = res.paths;
  const m = res.medians;
  const P = 'airlock+policy';
  const lines = [];
  // airlock+policy and airlock+masking get a second ratio: to the plain airlock path (their own cost)
  const vsAirlock = (p) => (p === P || p === MASKING) && paths.includes('airlock');
  const head = ['metric', ...paths.flatMap((p) => (p === 'direct' ? ['direct'] : vsAirlock(p) ? [p, `${p} ÷ direct`, `${p} ÷ airlock`] : [p, `${p} ÷ direct`]))];
  lines.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
  const row = (label, key, d) => {
    if (!paths.some((p) => Number.isFinite(m[p]?.[key]))) return; // not measured in this run (e.g. --no-pgbench)
    const cells = [label];
    for (const p of paths) {
      const v = m[p]?.[key];
      cells.push(fmt(v, d));
      if (p !== 'direct') cells.push(ratio(v, m.direct?.[key]));
      if (vsAirlock(p)) cells.push(ratio(v, m.airlock?.[key]));
    }
    lines.push(`| ${cells.join(' | ')} |`);
  };
  row('pgbench -S c=1: TPS', 'tps_c1', 0);
  row('pgbench -S c=1: latency (ms)', 'lat_c1', 3);
  row('pgbench -S c=8 j=2: TPS', 'tps_c8', 0);
  row('pgbench -S c=8 j=2: latency (ms)', 'lat_c8', 3);
  row('pgbench -S c=8: machine CPU busy (cores of ' + os.cpus().length + ')', 'machine_busy_cores_c8', 2);
  row('pgbench -S c=8: machine CPU µs / txn', 'machine_cpu_us_per_txn_c8', 0);
  row('pgbench -S c=8: CPU of unrelated processes (cores; noise)', 'foreign_busy_cores_c8', 2);
  row('pgbench filler script c=1: TPS', 'tps_c1_filler', 0);
  row('pgbench filler script c=1: latency (ms)', 'lat_c1_filler', 3);
  row('pgbench filler script c=8 j=2: TPS', 'tps_c8_filler', 0);
  row('pgbench filler script c=8: machine CPU µs / txn', 'machine_cpu_us_per_txn_c8_filler', 0);
  row('pgbench filler script c=8: CPU of unrelated processes (cores; noise)', 'foreign_busy_cores_c8_filler', 2);
  row('bulk COPY TO STDOUT (MiB/s)', 'bulk_mibs', 0);
  row('bulk COPY: CPU of unrelated processes (cores; noise)', 'bulk_foreign_busy_cores', 2);
  row('bulk SELECT * (MiB/s of the unmasked result)', 'select_mibs', 0);
  const out = [lines.join('\n')];

  const a = m.airlock ?? {};
  const ap = m[P] ?? {};
  const pb = m.pgbouncer ?? {};
  const hasP = paths.includes(P);
  const cpuHead = hasP
    ? '| process | CPU µs / txn c=1: airlock | airlock+policy | CPU µs / txn c=8: airlock | airlock+policy | CPU ms / MiB (bulk, airlock) | RSS after (MiB) | peak RSS VmHWM (MiB) |'
    : '| process | CPU µs / txn c=1 | CPU µs / txn c=8 | CPU ms / MiB (bulk) | RSS after (MiB) | peak RSS VmHWM (MiB) |';
  const cpuLines = [cpuHead, `|${'---|'.repeat(cpuHead.split('|').length - 2)}`];
  const memOf = (k) => res.memory?.[k] ?? {};
  for (const name of ['controlPlane', 'agent', 'cli']) {
    const mem = memOf(name);
    const memP = memOf('cliPolicy');
    const memCell = name === 'cli' && hasP ? `${fmt(mem.rssMiB)} (policy path: ${fmt(memP.rssMiB)})` : fmt(mem.rssMiB);
    const hwmCell = name === 'cli' && hasP ? `${fmt(mem.hwmMiB)} (policy path: ${fmt(memP.hwmMiB)})` : fmt(mem.hwmMiB);
    cpuLines.push(hasP
      ? `| airlock ${name} | ${fmt(a[`cpu_us_per_txn_c1_${name}`])} | ${fmt(ap[`cpu_us_per_txn_c1_${name}`])} | ${fmt(a[`cpu_us_per_txn_${name}`])} | ${fmt(ap[`cpu_us_per_txn_${name}`])} | ${fmt(a[`cpu_ms_per_mib_${name}`], 2)} | ${memCell} | ${hwmCell} |`
      : `| airlock ${name} | ${fmt(a[`cpu_us_per_txn_c1_${name}`])} | ${fmt(a[`cpu_us_per_txn_${name}`])} | ${fmt(a[`cpu_ms_per_mib_${name}`], 2)} | ${memCell} | ${hwmCell} |`);
  }
  const c1Total = (x) => ['controlPlane', 'agent', 'cli'].reduce((s, n) => s + (x[`cpu_us_per_txn_c1_${n}`] ?? NaN), 0);
  cpuLines.push(hasP
    ? `| airlock total (3 processes) | ${fmt(c1Total(a))} | ${fmt(c1Total(ap))} | ${fmt(a.cpu_us_per_txn_total)} | ${fmt(ap.cpu_us_per_txn_total)} | ${fmt(a.cpu_ms_per_mib_total, 2)} | | |`
    : `| airlock total (3 processes) | ${fmt(c1Total(a))} | ${fmt(a.cpu_us_per_txn_total)} | ${fmt(a.cpu_ms_per_mib_total, 2)} | | |`);
  if (paths.includes('pgbouncer')) {
    const mem = memOf('pgbouncer');
    cpuLines.push(hasP
      ? `| pgbouncer | ${fmt(pb.cpu_us_per_txn_c1_pgbouncer)} | | ${fmt(pb.cpu_us_per_txn_pgbouncer)} | | ${fmt(pb.cpu_ms_per_mib_pgbouncer, 2)} | ${fmt(mem.rssMiB)} | ${fmt(mem.hwmMiB)} |`
      : `| pgbouncer | ${fmt(pb.cpu_us_per_txn_c1_pgbouncer)} | ${fmt(pb.cpu_us_per_txn_pgbouncer)} | ${fmt(pb.cpu_ms_per_mib_pgbouncer, 2)} | ${fmt(mem.rssMiB)} | ${fmt(mem.hwmMiB)} |`);
  }
  out.push(cpuLines.join('\n'));

  const mk = m[MASKING] ?? {};
  if (paths.includes(MASKING)) {
    // CPU per txn / per MiB of each airlock process, masking path vs. the plain airlock path
    const cols = [
      ['-S c=1', (n) => `cpu_us_per_txn_c1_${n}`], ['-S c=8', (n) => `cpu_us_per_txn_${n}`],
      ['filler c=1', (n) => `cpu_us_per_txn_c1_filler_${n}`], ['filler c=8', (n) => `cpu_us_per_txn_filler_${n}`],
    ];
    const mh = `| process | ${cols.map(([c]) => `CPU µs / txn ${c}: airlock | airlock+masking`).join(' | ')} | CPU ms / MiB bulk SELECT: airlock | airlock+masking |`;
    const ml = [mh, `|${'---|'.repeat(mh.split('|').length - 2)}`];
    for (const name of ['controlPlane', 'agent', 'cli']) {
      ml.push(`| airlock ${name} | ${cols.map(([, k]) => `${fmt(a[k(name)])} | ${fmt(mk[k(name)])}`).join(' | ')} | ${fmt(a[`cpu_ms_per_mib_select_${name}`], 2)} | ${fmt(mk[`cpu_ms_per_mib_select_${name}`], 2)} |`);
    }
    const sum = (x, k) => ['controlPlane', 'agent', 'cli'].reduce((s, n) => s + (x[k(n)] ?? NaN), 0);
    ml.push(`| airlock total (3 processes) | ${cols.map(([, k]) => `${fmt(sum(a, k))} | ${fmt(sum(mk, k))}`).join(' | ')} | ${fmt(a.cpu_ms_per_mib_select_total, 2)} | ${fmt(mk.cpu_ms_per_mib_select_total, 2)} |`);
    out.push(ml.join('\n'));
  }

  const bd = paths.map((p) => [p, m[p]?.cpu_breakdown_us_per_txn_c8 ?? {}]);
  const groups = [...new Set(bd.flatMap(([, g]) => Object.keys(g)))]
    .map((g) => [g, Math.max(...bd.map(([, x]) => x[g] ?? 0))])
    .filter(([, v]) => v >= 1)
    .sort((a, b) => b[1] - a[1])
    .map(([g]) => g);
  const bdLines = [`| CPU µs / txn at c=8, by process group | ${paths.join(' | ')} |`, `|---|${paths.map(() => '---').join('|')}|`];
  for (const g of groups) bdLines.push(`| ${g} | ${bd.map(([, x]) => fmt(x[g] ?? 0)).join(' | ')} |`);
  out.push(bdLines.join('\n'));

  const t = res.targets;
  const targetLines = [
    `Targets: airlock TPS c=8 ÷ direct = ${fmt(t.tpsC8Ratio, 2)} (target ≥ 0.30: ${t.tpsC8Ratio >= 0.3 ? 'met' : 'MISSED'}); ` +
      `airlock bulk = ${fmt(t.bulkMibs, 0)} MiB/s (target ≥ 150: ${t.bulkMibs >= 150 ? 'met' : 'MISSED'}).`,
  ];
  if (hasP && paths.includes('airlock')) {
    const met = (r) => (r >= 0.95 ? 'met' : 'MISSED');
    targetLines.push(
      `Policy cost on TPS (airlock+policy ÷ airlock, target ≥ 0.95): c=1 ${fmt(t.policyTpsC1Ratio, 3)} (${met(t.policyTpsC1Ratio)}), c=8 ${fmt(t.policyTpsC8Ratio, 3)} (${met(t.policyTpsC8Ratio)}); ` +
        `c=1 latency +${fmt((ap.lat_c1 - a.lat_c1) * 1000, 0)} µs; agent CPU µs / txn c=1 ${fmt(a.cpu_us_per_txn_c1_agent)} → ${fmt(ap.cpu_us_per_txn_c1_agent)}, ` +
        `c=8 ${fmt(a.cpu_us_per_txn_agent)} → ${fmt(ap.cpu_us_per_txn_agent)} (+${fmt(ap.cpu_us_per_txn_agent - a.cpu_us_per_txn_agent)}); ` +
        `machine CPU µs / txn c=8 ${fmt(a.machine_cpu_us_per_txn_c8, 0)} → ${fmt(ap.machine_cpu_us_per_txn_c8, 0)}.`,
    );
  }
  if (paths.includes(MASKING) && paths.includes('airlock')) {
    const rt = (k) => fmt(mk[k] / a[k], 3);
    targetLines.push(
      `Masking cost (airlock+masking ÷ airlock; includes judging each statement, as on airlock+policy): TPS -S c=1 ${rt('tps_c1')}, c=8 ${rt('tps_c8')}; ` +
        `filler script c=1 ${rt('tps_c1_filler')}, c=8 ${rt('tps_c8_filler')}; bulk SELECT MiB/s ${rt('select_mibs')} (${fmt(a.select_mibs, 0)} → ${fmt(mk.select_mibs, 0)}; a SELECT, every DataRow re-encoded). ` +
        `Agent CPU µs / txn: -S c=8 ${fmt(a.cpu_us_per_txn_agent)} → ${fmt(mk.cpu_us_per_txn_agent)}, filler c=1 ${fmt(a.cpu_us_per_txn_c1_filler_agent)} → ${fmt(mk.cpu_us_per_txn_c1_filler_agent)}, ` +
        `filler c=8 ${fmt(a.cpu_us_per_txn_filler_agent)} → ${fmt(mk.cpu_us_per_txn_filler_agent)}; agent CPU ms / MiB (bulk SELECT) ${fmt(a.cpu_ms_per_mib_select_agent, 2)} → ${fmt(mk.cpu_ms_per_mib_select_agent, 2)}.`,
    );
  }
  const r = res.release;
  if (r) {
    targetLines.push(
      `Release latency (${r.n} held UPDATEs through airlock+policy, approved one at a time over REST): approve returned → result at the client ` +
        `p50 ${fmt(r.approveToResultMs.p50, 2)} ms, p99 ${fmt(r.approveToResultMs.p99, 2)} ms (target ≤ 20 ms p99: ${r.approveToResultMs.p99 <= 20 ? 'met' : 'MISSED'}); ` +
        `approve called → result p50 ${fmt(r.callToResultMs.p50, 2)} ms, p99 ${fmt(r.callToResultMs.p99, 2)} ms; the approve call itself p50 ${fmt(r.approveCallMs.p50, 2)} ms, p99 ${fmt(r.approveCallMs.p99, 2)} ms; ` +
        `sent → pending review visible p50 ${fmt(r.heldMs.p50, 1)} ms (2 ms polling).`,
    );
  }
  const pc = res.policy;
  if (pc) {
    const bj = pc.benchJudge?.judgeUs;
    const ev = pc.benchJudge?.evaluateOnlyUs;
    const ps = pc.pgbenchSelect;
    targetLines.push(
      `Policy evaluation per allowed statement: pgbench's SELECT (bench/judge-cost.mjs) p50 ${fmt(ps?.wallP50Us)} µs, p99 ${fmt(ps?.wallP99Us)} µs wall, ${fmt(ps?.cpuUsPerJudgement)} µs CPU (main + parser thread; ${fmt(ps?.inlineParse?.cpuUsPerJudgement)} µs with the parse on the main thread); ` +
        `data-agent/src/policy/bench-judge.mjs (${pc.benchJudge?.sqlChars ?? '?'}-char SELECT) p50 ${fmt(bj?.p50)} µs, p99 ${fmt(bj?.p99)} µs; evaluate() alone p50 ${fmt(ev?.p50)} µs, p99 ${fmt(ev?.p99)} µs.` +
        (pc.benchJudge?.error || ps?.error ? ` (errors: ${pc.benchJudge?.error ?? ''} ${ps?.error ?? ''})` : ''),
    );
  }
  out.push(targetLines.join('\n'));
  if (res.slowReader) {
    const s = res.slowReader;
    out.push(
      `Slow reader (bulk COPY through airlock into a pipe read after ${s.sleepSeconds} s; ${fmt(s.bytes / 1024 / 1024, 0)} MiB in ${fmt(s.seconds, 1)} s): ` +
        `peak RSS control plane ${fmt(s.peakRssMiB.controlPlane)} MiB, agent ${fmt(s.peakRssMiB.agent)} MiB, CLI ${fmt(s.peakRssMiB.cli)} MiB.`,
    );
  }
  return out.join('\n\n');
}

// ---------------------------------------------------------------------------------------------
/** The ssh path (bench/ssh-bulk.mjs) on the running stack; { skipped } when the machine cannot run it. */
async function sshPath(airlock) {
  const why = sshUnavailable();
  if (why) {
    log(`ssh: skipped: ${why}`);
    return { skipped: why };
  }
  return benchSsh(
    {
      work, cli: airlock.cli, cliEnv: airlock.cliEnv, agentName: 'bench-agent', startDaemon, waitForLog, run, freePort, log, node: NODE, cliBin: CLI_BIN, median,
      processes: { controlPlane: airlock.cp.pid, agent: airlock.agent.pid }, cpuSnapshot, cpuDeltaMs,
    },
    { mib: opts.sshMib, rounds: opts.rounds },
  );
}

/** `--paths ssh`: only the scp comparison. */
async function mainSshOnly() {
  log(`options: ${JSON.stringify(opts)}; work dir ${work}`);
  log('starting control plane, agent');
  const airlock = await startAirlock();
  const ssh = await sshPath(airlock);
  const results = { timestamp: new Date().toISOString(), git: gitState(), host: { cpus: os.cpus().length, node: process.version }, options: opts, ssh, targets: { sshUploadRatio: ssh.ratios?.upload, sshDownloadRatio: ssh.ratios?.download } };
  const dir = path.join(HERE, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${results.timestamp.replace(/[:.]/g, '-')}-ssh.json`);
  fs.writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  console.log(`\n## airlock ssh benchmark — ${results.timestamp}\n\n${renderSsh(ssh, fmt)}\n\nJSON: ${path.relative(ROOT, file)}`);
}

/** The http path (bench/http-rps.mjs) on the running stack. */
function httpPath(airlock) {
  return benchHttp(
    {
      work, cli: airlock.cli, cliEnv: airlock.cliEnv, agentName: 'bench-agent', startDaemon, waitForLog, freePort, log, node: NODE, cliBin: CLI_BIN, median,
      processes: { controlPlane: airlock.cp.pid, agent: airlock.agent.pid }, cpuSnapshot, cpuDeltaMs,
    },
    { seconds: opts.seconds, rounds: opts.rounds },
  );
}

/** `--paths http`: only the HTTP requests/s comparison. */
async function mainHttpOnly() {
  log(`options: ${JSON.stringify(opts)}; work dir ${work}`);
  log('starting control plane, agent');
  const http = await httpPath(await startAirlock());
  const results = { timestamp: new Date().toISOString(), git: gitState(), host: { cpus: os.cpus().length, node: process.version }, options: opts, http, targets: { httpRpsC1Ratio: http.ratios.c1, httpRpsC8Ratio: http.ratios.c8 } };
  const dir = path.join(HERE, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${results.timestamp.replace(/[:.]/g, '-')}-http.json`);
  fs.writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  console.log(`\n## airlock http benchmark — ${results.timestamp}\n\n${renderHttp(http, fmt)}\n\nJSON: ${path.relative(ROOT, file)}`);
}

async function main() {
  if (opts.paths && opts.paths.every((p) => p === 'http')) return mainHttpOnly();
  if (opts.paths && opts.paths.every((p) => p === 'ssh')) return mainSshOnly();
  log(`options: ${JSON.stringify(opts)}; work dir ${work}`);
  const git = gitState(); // now: what dist/ was built from (HEAD may move while the bench runs)
  const idleA = machineTicks();
  await sleep(2000);
  const idleB = machineTicks();
  const backgroundCores = ((idleB.busy - idleA.busy) / CLK_TCK) / 2;
  if (backgroundCores > 0.2) log(`WARNING: the machine is already busy (${backgroundCores.toFixed(2)} cores used by other processes before the bench started): numbers will be noisy`);
  const { bulkTable, bulkRows } = setupTarget();
  const bouncer = await startPgbouncer();
  if (!bouncer) log('pgbouncer: not installed (apt-get install pgbouncer); skipping its column');
  log('starting control plane, agent, airlock connect');
  const airlock = await startAirlock();
  const airlockProcs = { controlPlane: airlock.cp.pid, agent: airlock.agent.pid, cli: airlock.connect.pid };
  // the policy path shares the control plane and the agent; its CLI is the bench user's own `airlock connect`
  const policyProcs = { controlPlane: airlock.cp.pid, agent: airlock.agent.pid, cli: airlock.policyConnect?.pid };
  const maskingProcs = { controlPlane: airlock.cp.pid, agent: airlock.agent.pid, cli: airlock.maskingConnect?.pid };
  const procsOf = (p) => (p === 'airlock' ? airlockProcs : p === 'airlock+policy' ? policyProcs : p === MASKING ? maskingProcs : p === 'pgbouncer' ? { pgbouncer: bouncer.pid } : {});
  const ports = { direct: PGPORT, airlock: airlock.port, 'airlock+policy': airlock.policyPort, [MASKING]: airlock.maskingPort, ...(bouncer ? { pgbouncer: bouncer.port } : {}) };
  // each path's CLI, for the by-group CPU table: the path under test's is 'airlock cli', the others idle
  const clis = { airlock: airlock.connect, 'airlock+policy': airlock.policyConnect, [MASKING]: airlock.maskingConnect };
  const paths = PATHS_ALL.filter((p) => ports[p] && (!opts.paths || opts.paths.includes(p)));
  if (!paths.includes('direct')) paths.unshift('direct'); // ratios need it
  const masking = paths.includes(MASKING);
  // With the masking path: pgbench also runs a script that reads the masked column (filler), and the
  // bulk table is also read as a SELECT (the heaviest masking case: every DataRow re-encoded) on direct, airlock and airlock+masking.
  const pgbenchTests = masking ? [{ tag: '', script: undefined }, { tag: '_filler', script: 'filler' }] : [{ tag: '', script: undefined }];
  const selectPaths = masking ? paths.filter((p) => ['direct', 'airlock', MASKING].includes(p)) : [];
  if (masking) await checkMasking(ports[MASKING], bulkTable);

  // Warm-up: every path answers, and the caches (shared buffers, JIT) are warm before measuring.
  log('warm-up');
  if (opts.pgbench) for (const p of paths) for (const t of pgbenchTests) await pgbench(ports[p], 2, 1, t);
  await bulkCopy(PGPORT, bulkTable, 120_000);
  // the unmasked size of the SELECT result: masked MiB/s is reported per MiB of this, not of what the hashes shrink it to
  const selectRef = selectPaths.length ? await bulkCopy(PGPORT, bulkTable, 600_000, { select: true }) : undefined;
  if (selectRef && selectRef.rows !== bulkRows) throw new Error(`SELECT of ${bulkTable} returned ${selectRef.rows} rows, expected ${bulkRows}`);
  if (opts.bulkWarmup) {
    for (const p of paths) if (p !== 'direct' && p !== 'airlock+policy' && p !== MASKING) await bulkCopy(ports[p], bulkTable, 120_000);
    for (const p of selectPaths) if (p !== 'direct') await bulkCopy(ports[p], bulkTable, 600_000, { select: true });
  }

  const raw = Object.fromEntries(paths.map((p) => [p, []]));
  const bulkTimeout = Math.max(120_000, opts.bulkMib * 1000); // ≥ 1 MiB/s or give up
  for (let round = 0; round < opts.rounds; round++) {
    // rotate the order each round so no path always runs first / after the same neighbour
    const order = paths.map((_, i) => paths[(i + round) % paths.length]);
    const rec = Object.fromEntries(paths.map((p) => [p, { round }]));
    // keys of the filler script's runs carry the tag: tps_c1_filler, cpu_us_per_txn_filler_agent, …
    for (const { tag, script } of opts.pgbench ? pgbenchTests : []) for (const p of order) {
      log(`round ${round + 1}/${opts.rounds} ${p}: pgbench ${script ?? '-S'} c=1`);
      const procs = procsOf(p);
      const before = cpuSnapshot(procs);
      const r = await pgbench(ports[p], 1, opts.seconds, { script });
      Object.assign(rec[p], { [`tps_c1${tag}`]: r.tps, [`lat_c1${tag}`]: r.latencyMs, [`txns_c1${tag}`]: r.txns });
      // whole run (incl. connection setup, negligible over the run) ÷ transactions: the cost per statement when not saturated
      for (const [name, ms] of Object.entries(cpuDeltaMs(before, cpuSnapshot(procs)))) rec[p][`cpu_us_per_txn_c1${tag}_${name}`] = (ms * 1000) / r.txns;
    }
    for (const { tag, script } of opts.pgbench ? pgbenchTests : []) for (const p of order) {
      log(`round ${round + 1}/${opts.rounds} ${p}: pgbench ${script ?? '-S'} c=8`);
      const procs = procsOf(p);
      const roles = Object.fromEntries(Object.entries({ ...airlockProcs, ...(bouncer ? { pgbouncer: bouncer.pid } : {}) }).map(([k, v]) => [String(v), k === 'pgbouncer' ? k : `airlock ${k}`]));
      // 'airlock cli' is the CLI of the path under test; the other paths' CLIs are idle meanwhile
      for (const [cp, h] of Object.entries(clis)) if (h) roles[String(h.pid)] = cp === p || (cp === 'airlock' && !clis[p]) ? 'airlock cli' : 'airlock cli (other path)';
      roles[String(process.pid)] = 'bench (this script)';
      // CPU is sampled over a steady-state window inside the run (after the 8 sessions have opened,
      // before pgbench closes them), while pgbench and its backends are still alive to be read.
      const running = pgbench(ports[p], 8, opts.seconds, { script });
      const winStart = Math.min(1, opts.seconds * 0.2);
      const winEnd = Math.max(winStart + 0.2, opts.seconds - Math.min(0.5, opts.seconds * 0.1));
      await sleep(winStart * 1000);
      const snap = () => ({ procs: cpuSnapshot(procs), machine: machineTicks(), all: allProcessTicks(roles), at: process.hrtime.bigint() });
      const a = snap();
      await sleep((winEnd - winStart) * 1000);
      const b = snap();
      const r = await running;
      const window = Number(b.at - a.at) / 1e9;
      const txns = r.tps * window; // steady-state transactions in the window
      const machineBusyMs = ((b.machine.busy - a.machine.busy) * 1000) / CLK_TCK;
      Object.assign(rec[p], {
        [`tps_c8${tag}`]: r.tps, [`lat_c8${tag}`]: r.latencyMs, [`txns_c8${tag}`]: r.txns,
        [`machine_busy_cores_c8${tag}`]: machineBusyMs / 1000 / window, // whole machine: Postgres, pgbench, relays, anything else
        [`machine_cpu_us_per_txn_c8${tag}`]: (machineBusyMs * 1000) / txns,
      });
      const breakdown = Object.fromEntries(Object.entries(groupDelta(a.all, b.all)).map(([g, ms]) => [g, (ms * 1000) / txns]));
      const known = Object.values(breakdown).reduce((x, y) => x + y, 0);
      breakdown['(not in any process: softirq on idle CPUs, exited processes not reaped by a live parent)'] = Math.max(0, (machineBusyMs * 1000) / txns - known);
      rec[p][`cpu_breakdown_us_per_txn_c8${tag}`] = breakdown;
      // CPU of processes that are not part of any measured path (other jobs on the machine): noise
      // (Postgres backends that exited in the window belong to other jobs: ours live through the run.)
      const ours = (g) => !g.startsWith('(exited children of postgres') && /^(\(exited children of )?(airlock |pgbouncer\)?$|postgres|pgbench\)?$|bench \(|\(not in any)/.test(g);
      rec[p][`foreign_busy_cores_c8${tag}`] = Object.entries(breakdown).filter(([g]) => !ours(g)).reduce((x, [, us]) => x + us, 0) * txns / 1e6 / window;
      let total = 0;
      for (const [name, ms] of Object.entries(cpuDeltaMs(a.procs, b.procs))) {
        rec[p][`cpu_us_per_txn${tag}_${name}`] = (ms * 1000) / txns;
        total += ms;
      }
      if (p.startsWith('airlock')) rec[p][`cpu_us_per_txn${tag}_total`] = (total * 1000) / txns;
    }
    for (const p of order) {
      if (p === 'airlock+policy') continue; // COPY is not in the bench policy's rules: default deny
      if (p === MASKING) continue; // column rules: the agent refuses COPY TO STDOUT by design (bulk SELECT below)
      log(`round ${round + 1}/${opts.rounds} ${p}: bulk COPY`);
      const procs = procsOf(p);
      const roles = Object.fromEntries(Object.entries({ ...airlockProcs, ...(bouncer ? { pgbouncer: bouncer.pid } : {}) }).map(([k, v]) => [String(v), k === 'pgbouncer' ? k : `airlock ${k}`]));
      roles[String(process.pid)] = 'bench (this script)';
      const allBefore = allProcessTicks(roles);
      const before = cpuSnapshot(procs);
      const r = await bulkCopy(ports[p], bulkTable, bulkTimeout);
      const cpu = cpuDeltaMs(before, cpuSnapshot(procs));
      const mib = r.bytes / 1024 / 1024;
      // CPU of processes outside the measured path during the copy (other jobs on the machine): noise
      const ours = (g) => /^(\(exited children of )?(airlock |pgbouncer\)?$|bench \()/.test(g) || /^postgres backend [^@]+@(airlock_bench|control-plane store)$/.test(g) || /^postgres (?!backend)/.test(g);
      const foreign = Object.entries(groupDelta(allBefore, allProcessTicks(roles))).filter(([g]) => !ours(g)).sort((x, y) => y[1] - x[1]);
      const foreignMs = foreign.reduce((x, [, ms]) => x + ms, 0);
      Object.assign(rec[p], {
        bulk_mibs: r.mibPerSec, bulk_bytes: r.bytes, bulk_foreign_busy_cores: foreignMs / 1000 / r.seconds,
        bulk_foreign_top: Object.fromEntries(foreign.slice(0, 4).map(([g, ms]) => [g, Math.round(ms)])), // ms, for diagnosis
      });
      let total = 0;
      for (const [name, ms] of Object.entries(cpu)) {
        rec[p][`cpu_ms_per_mib_${name}`] = ms / mib;
        total += ms;
      }
      if (p === 'airlock') rec[p].cpu_ms_per_mib_total = total / mib;
    }
    for (const p of order.filter((x) => selectPaths.includes(x))) {
      log(`round ${round + 1}/${opts.rounds} ${p}: bulk SELECT`);
      const procs = procsOf(p);
      const before = cpuSnapshot(procs);
      const r = await bulkCopy(ports[p], bulkTable, bulkTimeout, { select: true });
      if (r.rows !== selectRef.rows) throw new Error(`bulk SELECT on ${p} returned ${r.rows} rows, expected ${selectRef.rows}`);
      const cpu = cpuDeltaMs(before, cpuSnapshot(procs));
      const mib = selectRef.bytes / 1024 / 1024; // unmasked MiB (what direct sends), also for the masked path
      Object.assign(rec[p], { select_mibs: mib / r.seconds, select_rows_per_s: r.rows / r.seconds, select_bytes_out: r.bytes });
      let total = 0;
      for (const [name, ms] of Object.entries(cpu)) {
        rec[p][`cpu_ms_per_mib_select_${name}`] = ms / mib;
        total += ms;
      }
      if (p.startsWith('airlock')) rec[p].cpu_ms_per_mib_select_total = total / mib;
    }
    for (const p of paths) raw[p].push(rec[p]);
  }

  const medians = {};
  for (const p of paths) {
    medians[p] = {};
    const keys = new Set(raw[p].flatMap((r) => Object.keys(r)));
    keys.delete('round');
    for (const k of keys) {
      if (k.startsWith('cpu_breakdown_us_per_txn_c8')) {
        const groups = new Set(raw[p].flatMap((r) => Object.keys(r[k] ?? {})));
        medians[p][k] = Object.fromEntries([...groups].map((g) => [g, median(raw[p].map((r) => r[k]?.[g] ?? 0))]).sort((a, b) => b[1] - a[1]));
      } else medians[p][k] = median(raw[p].map((r) => r[k]));
    }
  }
  const memory = {};
  for (const [name, pid] of Object.entries({ ...airlockProcs, ...(airlock.policyConnect ? { cliPolicy: airlock.policyConnect.pid } : {}), ...(airlock.maskingConnect ? { cliMasking: airlock.maskingConnect.pid } : {}), ...(bouncer ? { pgbouncer: bouncer.pid } : {}) })) memory[name] = procMem(pid);

  let release;
  if (opts.releases > 0 && paths.includes('airlock+policy')) {
    log(`release latency: ${opts.releases} held statements, approved one at a time`);
    release = await releaseLatency(airlock.policyPort, airlock.url, airlock.approverToken, opts.releases);
  }
  let policy;
  if (paths.includes('airlock+policy')) {
    log('policy evaluation cost (bench-judge.mjs, judge-cost.mjs)');
    policy = await policyCost();
  }

  let slow;
  if (opts.slowReader) {
    log(`slow-reader experiment: bulk COPY through airlock, reader sleeps ${opts.slowSleep} s`);
    slow = await slowReader(airlock.port, bulkTable, opts.slowSleep, airlockProcs);
    slow.hwmAfter = Object.fromEntries(Object.entries(airlockProcs).map(([n, pid]) => [n, procMem(pid)?.hwmMiB]));
  }

  let ssh;
  if (!opts.paths || opts.paths.includes('ssh')) {
    log('ssh path: scp direct vs. through airlock');
    ssh = await sshPath(airlock);
  }

  let http;
  if (!opts.paths || opts.paths.includes('http')) {
    log('http path: requests/s direct vs. through airlock');
    http = await httpPath(airlock);
  }

  const results = {
    timestamp: new Date().toISOString(),
    git,
    host: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version, totalMemMiB: Math.round(os.totalmem() / 1048576) },
    options: opts,
    backgroundCoresBeforeStart: backgroundCores,
    bulk: { table: bulkTable, rows: bulkRows, bytes: medians.direct.bulk_bytes, ...(selectRef ? { selectBytes: selectRef.bytes } : {}) },
    pgbouncer: bouncer ? 'installed' : 'not installed (apt-get install pgbouncer)',
    paths,
    medians,
    rounds: raw,
    memory,
    targets: {
      tpsC8Ratio: medians.airlock?.tps_c8 / medians.direct.tps_c8,
      bulkMibs: medians.airlock?.bulk_mibs,
      policyTpsC1Ratio: medians['airlock+policy']?.tps_c1 / medians.airlock?.tps_c1,
      policyTpsC8Ratio: medians['airlock+policy']?.tps_c8 / medians.airlock?.tps_c8,
      releaseP99Ms: release?.approveToResultMs.p99,
      sshUploadRatio: ssh?.ratios?.upload,
      sshDownloadRatio: ssh?.ratios?.download,
      httpRpsC1Ratio: http?.ratios.c1,
      httpRpsC8Ratio: http?.ratios.c8,
      ...(masking ? Object.fromEntries(['tps_c1', 'tps_c8', 'tps_c1_filler', 'tps_c8_filler', 'select_mibs'].map((k) => [`masking_${k}_ratio`, medians[MASKING]?.[k] / medians.airlock?.[k]])) : {}),
    },
    release,
    policy,
    slowReader: slow,
    ssh,
    http,
  };
  const table = renderTable(results) + (backgroundCores > 0.2 ? `\n\nWARNING: other processes used ${backgroundCores.toFixed(2)} cores before the bench started; see the 'unrelated processes' row.` : '');
  results.table = table;
  const dir = path.join(HERE, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${results.timestamp.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  console.log(`\n## airlock data-path benchmark — ${results.timestamp}\n`);
  console.log(`git ${results.git.commit}${results.git.dirtyFiles.length ? ` + ${results.git.dirtyFiles.length} uncommitted file(s) outside bench/` : ''}; ${results.host.cpus} CPUs, Node ${process.version}.`);
  console.log(`${opts.rounds} interleaved round(s), medians; pgbench -S ${opts.seconds} s per run; bulk = COPY of ${bulkTable} (${fmt(results.bulk.bytes / 1048576, 0)} MiB).`);
  if (!bouncer) console.log('pgbouncer: not installed (apt-get install pgbouncer)');
  console.log(`\n${table}\n`);
  if (ssh) console.log(`${renderSsh(ssh, fmt)}\n`);
  if (http) console.log(`${renderHttp(http, fmt)}\n`);
  console.log(`JSON: ${path.relative(ROOT, file)}`);
}

let failed = false;
const hardLimit = setTimeout(() => {
  log('hard time limit reached (30 min): giving up');
  cleanup(true).finally(() => process.exit(1));
}, 30 * 60_000);
hardLimit.unref();
try {
  await main();
} catch (err) {
  failed = true;
  console.error(`bench failed: ${err?.stack ?? err}`);
} finally {
  await cleanup(failed);
}
process.exit(failed ? 1 : 0);
