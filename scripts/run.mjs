#!/usr/bin/env node
// airlock's entry point for developers and CI: `npm run dev`, `npm test`.
// Plain Node ESM with zero dependencies: it runs before anything is installed.
//
//   node scripts/run.mjs install   install the workspace (pnpm 12, frozen lockfile) if needed
//   node scripts/run.mjs build     install + build if any source changed
//   node scripts/run.mjs dev ...   install + build, then `node cli/bin/airlock.js dev ...`
//   node scripts/run.mjs test      install + build, check test services, run every package's vitest,
//                                  then e2e, and print `N passed, N failed`
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, accessSync, constants as fsc } from 'node:fs';
import { tmpdir, constants as osc } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PNPM_VERSION = '12.21.0';
const INSTALL_STAMP = join(ROOT, 'node_modules', '.airlock-install.stamp');
const BUILD_STAMP = join(ROOT, 'node_modules', '.airlock-build.stamp');
const CLI_BIN = join(ROOT, 'cli', 'bin', 'airlock.js');

// Test order is fixed. passWithNoTests: a unit package without test files is skipped, but e2e must run tests.
// Workspace packages not listed here run after the listed unit packages (before e2e), with passWithNoTests.
const TEST_PACKAGES = [
  { dir: 'proto', passWithNoTests: true },
  { dir: 'data-agent', passWithNoTests: true },
  { dir: 'control-plane', passWithNoTests: true },
  { dir: 'cli', passWithNoTests: true },
  { dir: 'e2e', passWithNoTests: false },
];

const TEST_PG_URL_DEFAULT = 'postgres://postgres@127.0.0.1:5432/test';
const APT_TIMEOUT_MS = 5 * 60_000;
const PG_START_WAIT_MS = 30_000;

const log = (msg) => console.log(`[airlock] ${msg}`);

class Fatal extends Error {}
const fatal = (msg) => { throw new Fatal(msg); };

// ---------------------------------------------------------------- pnpm

let pnpmCmd; // [command, ...prefixArgs]
function pnpm() {
  if (pnpmCmd) return pnpmCmd;
  const r = spawnSync('pnpm', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const v = r.status === 0 ? r.stdout.trim() : '';
  if (/^12\./.test(v)) {
    pnpmCmd = ['pnpm'];
  } else {
    log(`pnpm 12 not on PATH${v ? ` (found ${v})` : ''}: using npx --yes pnpm@${PNPM_VERSION}`);
    pnpmCmd = ['npx', '--yes', `pnpm@${PNPM_VERSION}`];
  }
  return pnpmCmd;
}

// Runs pnpm with inherited stdio; returns the exit code.
function runPnpm(args, opts = {}) {
  const [cmd, ...pre] = pnpm();
  const r = spawnSync(cmd, [...pre, ...args], {
    cwd: ROOT,
    stdio: opts.stdio ?? 'inherit',
    env: { ...process.env, npm_config_update_notifier: 'false', ...opts.env },
  });
  if (r.error) fatal(`could not run ${cmd}: ${r.error.message}`);
  return r.status ?? 1;
}

// ---------------------------------------------------------------- file helpers

const mtime = (p) => { try { return statSync(p).mtimeMs; } catch { return 0; } };

function workspaceDirs() {
  const dirs = [];
  try {
    const y = readFileSync(join(ROOT, 'pnpm-workspace.yaml'), 'utf8');
    const block = y.split(/^packages:\s*$/m)[1];
    if (block) {
      for (const line of block.split('\n')) {
        if (/^\S/.test(line)) break; // next top-level key
        const m = line.match(/^\s+-\s+['"]?([^'"#\s]+)['"]?/);
        if (m && !m[1].includes('*')) dirs.push(m[1]);
      }
    }
  } catch { /* fall through */ }
  return dirs.length ? dirs : TEST_PACKAGES.map((p) => p.dir);
}

function readJson(p) {
  try { return JSON.parse(readFileSync(p, 'utf8')); } catch { return undefined; }
}

// Newest mtime (files AND directories, so deletions count) below dir, skipping node_modules/dist.
function newestUnder(dir, filter, countDirs = true) {
  let newest = 0;
  let newestPath = '';
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop();
    let entries;
    try { entries = readdirSync(d, { withFileTypes: true }); } catch { continue; }
    const dm = countDirs ? mtime(d) : 0;
    if (dm > newest) { newest = dm; newestPath = d; }
    for (const e of entries) {
      if (e.name === 'node_modules' || e.name === 'dist' || e.name === '.git' || e.name === '.logs') continue;
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (filter(p)) {
        const m = mtime(p);
        if (m > newest) { newest = m; newestPath = p; }
      }
    }
  }
  return { newest, newestPath };
}

// ---------------------------------------------------------------- install

function installInputs() {
  return [
    join(ROOT, 'package.json'),
    join(ROOT, 'pnpm-lock.yaml'),
    join(ROOT, 'pnpm-workspace.yaml'),
    ...workspaceDirs().map((d) => join(ROOT, d, 'package.json')),
  ];
}

function ensureInstalled() {
  const stamp = mtime(INSTALL_STAMP);
  const modules = mtime(join(ROOT, 'node_modules', '.modules.yaml'));
  let reason = '';
  if (!modules) reason = 'node_modules missing';
  else if (!stamp) reason = 'no install stamp';
  else {
    const changed = installInputs().find((p) => mtime(p) > stamp);
    if (changed) reason = `${changed.slice(ROOT.length + 1)} changed`;
  }
  if (!reason) return;
  log(`installing dependencies (${reason}): pnpm install --frozen-lockfile`);
  const code = runPnpm(['install', '--frozen-lockfile']);
  if (code !== 0) fatal(`pnpm install --frozen-lockfile failed (exit ${code})`);
  writeFileSync(INSTALL_STAMP, new Date().toISOString() + '\n');
}

// ---------------------------------------------------------------- build

function buildInputsNewest() {
  let newest = mtime(join(ROOT, 'tsconfig.base.json'));
  let newestPath = 'tsconfig.base.json';
  const bump = (m, p) => { if (m > newest) { newest = m; newestPath = p; } };
  for (const d of workspaceDirs()) {
    const pkgDir = join(ROOT, d);
    for (const f of ['tsconfig.json', 'tsconfig.build.json', 'buf.yaml', 'buf.gen.yaml']) bump(mtime(join(pkgDir, f)), join(pkgDir, f));
    const src = newestUnder(join(pkgDir, 'src'), (p) => !/\.test\.[cm]?[jt]sx?$/.test(p));
    bump(src.newest, src.newestPath);
    const protos = newestUnder(pkgDir, (p) => p.endsWith('.proto'), false);
    bump(protos.newest, protos.newestPath);
  }
  return { newest, newestPath };
}

// Packages with a build script whose dist/ is missing (e.g. after a clean).
function missingDist() {
  return workspaceDirs().filter((d) => {
    const pj = readJson(join(ROOT, d, 'package.json'));
    return pj?.scripts?.build && !existsSync(join(ROOT, d, 'dist'));
  });
}

// Returns true when the build is up to date or succeeded.
function ensureBuilt() {
  const stamp = mtime(BUILD_STAMP);
  let reason = '';
  if (!stamp) reason = 'no build stamp';
  else {
    const missing = missingDist();
    if (missing.length) reason = `no dist/ in ${missing.join(', ')}`;
    else {
      const { newest, newestPath } = buildInputsNewest();
      if (newest > stamp) reason = `${newestPath.slice(ROOT.length + 1) || newestPath} changed`;
    }
  }
  if (!reason) return true;
  log(`building (${reason}): pnpm -r --workspace-concurrency=1 run build`);
  const started = Date.now();
  const code = runPnpm(['-r', '--workspace-concurrency=1', 'run', 'build']);
  if (code !== 0) {
    rmSync(BUILD_STAMP, { force: true });
    log(`build FAILED (exit ${code})`);
    return false;
  }
  writeFileSync(BUILD_STAMP, new Date().toISOString() + '\n');
  log(`build done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return true;
}

// ---------------------------------------------------------------- test services

const isExecutable = (p) => { try { accessSync(p, fsc.X_OK); return statSync(p).isFile(); } catch { return false; } };

function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && isExecutable(join(dir, cmd))) return join(dir, cmd);
  }
  return undefined;
}

function pgBinDirs() {
  const base = '/usr/lib/postgresql';
  let versions = [];
  try { versions = readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)); } catch { /* none */ }
  return versions.map((v) => join(base, v, 'bin'));
}

const isRootCi = () => process.getuid?.() === 0 && /^(1|true)$/i.test(process.env.CI ?? '');

let aptUpdated = false;
function aptInstall(pkgs) {
  if (!isRootCi() || !which('apt-get')) return false;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    log('apt-get update');
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env, timeout: APT_TIMEOUT_MS });
    aptUpdated = true;
  }
  log(`apt-get install -y ${pkgs.join(' ')}`);
  const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env, timeout: APT_TIMEOUT_MS });
  return r.status === 0;
}

// Finds a PostgreSQL tool. An explicit env override that is not executable is an error (no fallback).
function findPgTool(tool, { envVar, aptPkg, what }) {
  const need = `airlock tests need ${tool} (${what})`;
  const override = envVar && process.env[envVar];
  if (override) {
    if (isExecutable(override)) return override;
    fatal(`${need}: ${envVar}=${override} is not an executable file; unset it or point it at ${tool}`);
  }
  const find = () => which(tool) ?? pgBinDirs().map((d) => join(d, tool)).find(isExecutable);
  let found = find();
  if (!found && aptInstall([aptPkg])) found = find();
  if (!found) fatal(`${need}: apt-get install ${aptPkg}`);
  return found;
}

function findPgBinDir() {
  const need = 'airlock tests need initdb and pg_ctl (PostgreSQL server binaries)';
  const override = process.env.AIRLOCK_TEST_PG_BINDIR;
  const ok = (d) => isExecutable(join(d, 'initdb')) && isExecutable(join(d, 'pg_ctl'));
  if (override) {
    if (ok(override)) return override;
    fatal(`${need}: AIRLOCK_TEST_PG_BINDIR=${override} has no initdb/pg_ctl; unset it or fix it`);
  }
  let dir = pgBinDirs().find(ok);
  if (!dir && aptInstall(['postgresql'])) dir = pgBinDirs().find(ok);
  if (!dir) fatal(`${need}: apt-get install postgresql`);
  return dir;
}

function tcpOpen(host, port, timeoutMs = 1000) {
  return new Promise((res) => {
    const s = createConnection({ host, port });
    const done = (v) => { s.destroy(); res(v); };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function psqlQuery(psql, url, sql) {
  return spawnSync(psql, ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql], {
    encoding: 'utf8', timeout: 15_000, env: { ...process.env, PGCONNECT_TIMEOUT: '5' },
  });
}

async function ensureTestServices() {
  const psql = findPgTool('psql', { envVar: 'AIRLOCK_TEST_PSQL', aptPkg: 'postgresql-client', what: 'PostgreSQL client' });
  const bindir = findPgBinDir();
  const pgbench = findPgTool('pgbench', { envVar: 'AIRLOCK_TEST_PGBENCH', aptPkg: 'postgresql', what: 'PostgreSQL benchmark tool' });

  const url = process.env.AIRLOCK_TEST_PG_URL || TEST_PG_URL_DEFAULT;
  const u = new URL(url);
  const host = u.hostname || '127.0.0.1';
  const port = Number(u.port || 5432);

  if (!(await tcpOpen(host, port))) {
    const versions = (() => { try { return readdirSync('/etc/postgresql'); } catch { return []; } })();
    const machinePg = ['127.0.0.1', 'localhost'].includes(host) && port === 5432;
    if (machinePg && which('pg_ctlcluster') && versions.length) {
      const v = versions.sort((a, b) => Number(b) - Number(a))[0];
      log(`PostgreSQL not answering on ${host}:${port}: pg_ctlcluster --skip-systemctl-redirect ${v} main start`);
      spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', v, 'main', 'start'], { stdio: 'inherit', timeout: PG_START_WAIT_MS });
      const deadline = Date.now() + PG_START_WAIT_MS;
      while (Date.now() < deadline && !(await tcpOpen(host, port))) await sleep(500);
    }
    if (!(await tcpOpen(host, port))) {
      fatal(`airlock tests need PostgreSQL listening on ${host}:${port} (trust auth): start it with 'pg_ctlcluster --skip-systemctl-redirect <version> main start' or set AIRLOCK_TEST_PG_URL`);
    }
  }

  // The server may still be starting up: retry for a bounded time. Create the test database if it is missing.
  const deadline = Date.now() + PG_START_WAIT_MS;
  for (;;) {
    const r = psqlQuery(psql, url, 'select 1');
    if (r.status === 0) break;
    const err = (r.stderr || r.error?.message || '').trim().split('\n')[0];
    const dbMissing = err.match(/database "([^"]+)" does not exist/);
    if (dbMissing) {
      const admin = new URL(url); admin.pathname = '/postgres';
      log(`creating database ${dbMissing[1]}`);
      const c = psqlQuery(psql, admin.toString(), `create database "${dbMissing[1].replace(/"/g, '""')}"`);
      if (c.status === 0) continue;
    }
    if (Date.now() > deadline || /password|authentication|role .* does not exist/i.test(err)) {
      fatal(`airlock tests need PostgreSQL at ${url} (trust auth, superuser): ${err || `psql exited ${r.status}`}`);
    }
    await sleep(500);
  }

  process.env.AIRLOCK_TEST_PG_URL = url;
  process.env.AIRLOCK_TEST_PG_BINDIR = bindir;
  process.env.AIRLOCK_TEST_PSQL = psql;
  process.env.AIRLOCK_TEST_PGBENCH = pgbench;
  log(`test services: ${url}; psql ${psql}; pg binaries ${bindir}`);
}

// ---------------------------------------------------------------- test

function testPlan() {
  const listed = TEST_PACKAGES.map((p) => p.dir);
  const extra = workspaceDirs().filter((d) => !listed.includes(d)).map((dir) => ({ dir, passWithNoTests: true }));
  const units = TEST_PACKAGES.filter((p) => p.dir !== 'e2e');
  const e2e = TEST_PACKAGES.filter((p) => p.dir === 'e2e');
  return [...units, ...extra, ...e2e];
}

function countResults(file) {
  const j = readJson(file);
  if (!j) return undefined;
  // A file that failed outside any test (import error, failing beforeAll/afterAll) has no failed assertion of its
  // own (its tests are missing or skipped): count each such file as one failure.
  const brokenFiles = (j.testResults ?? []).filter(
    (t) => t.status === 'failed' && !(t.assertionResults ?? []).some((a) => a.status === 'failed'),
  ).length;
  return {
    passed: j.numPassedTests ?? 0,
    failed: (j.numFailedTests ?? 0) + brokenFiles,
    skipped: (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0),
    files: (j.testResults ?? []).length,
  };
}

/**
 * Runs one package's vitest with its output in `log`; resolves to its summary row and counts. Package
 * suites are independent (own ports, databases and temp dirs), so the unit suites run side by side.
 */
function runPackageTests({ dir, passWithNoTests }, outDir) {
  const pj = readJson(join(ROOT, dir, 'package.json'));
  if (!pj) return Promise.resolve({ row: `  ${dir}: no package.json, skipped` });
  const hasVitest = existsSync(join(ROOT, dir, 'node_modules', '.bin', 'vitest'));
  if (!hasVitest || !pj.scripts?.test) {
    return Promise.resolve(passWithNoTests ? { row: `  ${dir}: no vitest, skipped` } : { row: `  ${dir}: FAILED (no vitest or no test script)`, failed: 1 });
  }
  const base = join(outDir, dir.replace(/\W+/g, '_'));
  const out = `${base}.json`;
  const args = ['--filter', pj.name ?? `./${dir}`, 'exec', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`];
  if (passWithNoTests) args.push('--passWithNoTests');
  const [cmd, ...pre] = pnpm();
  const started = Date.now();
  const log = [];
  return new Promise((resolveRun) => {
    const child = spawn(cmd, [...pre, ...args], { cwd: ROOT, env: { ...process.env, npm_config_update_notifier: 'false', FORCE_COLOR: '0' } });
    child.stdout.on('data', (d) => log.push(d));
    child.stderr.on('data', (d) => log.push(d));
    child.on('error', (e) => log.push(Buffer.from(`could not run ${cmd}: ${e.message}\n`)));
    child.on('close', (status) => {
      const code = status ?? 1;
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      // Each package's output in one piece, as it finishes, so parallel runs do not interleave.
      console.log(`\n[airlock] ===== ${dir}: vitest run (${secs} s) =====`);
      process.stdout.write(Buffer.concat(log));
      const c = countResults(out);
      if (!c) return resolveRun({ row: `  ${dir}: FAILED (vitest exited ${code}, no results) ${secs} s`, failed: 1 });
      // Non-zero exit with nothing counted as failed (e.g. no tests found in e2e, unhandled error): one failure.
      if (code !== 0 && c.failed === 0) c.failed = 1;
      const what = c.files === 0 ? (code === 0 ? 'no test files' : 'FAILED: no test files (this package must have tests)') : `${c.passed} passed, ${c.failed} failed${c.skipped ? `, ${c.skipped} skipped` : ''}`;
      resolveRun({ row: `  ${dir}: ${what}${code !== 0 ? ` (vitest exit ${code})` : ''}, ${secs} s`, passed: c.passed, failed: c.failed, skipped: c.skipped });
    });
  });
}

async function test(buildOk) {
  const outDir = mkdtempSync(join(tmpdir(), 'airlock-test-'));
  const rows = [];
  let passed = 0, failed = buildOk ? 0 : 1, skipped = 0;
  const add = (r) => {
    rows.push(r.row);
    passed += r.passed ?? 0; failed += r.failed ?? 0; skipped += r.skipped ?? 0;
  };
  try {
    const plan = testPlan();
    const units = plan.filter((p) => p.dir !== 'e2e');
    const serial = process.env.AIRLOCK_TEST_SERIAL === '1';
    console.log(`\n[airlock] unit tests of ${units.map((u) => u.dir).join(', ')} ${serial ? 'one after another' : 'side by side'} (AIRLOCK_TEST_SERIAL=1 for one at a time)`);
    if (serial) for (const u of units) add(await runPackageTests(u, outDir));
    else (await Promise.all(units.map((u) => runPackageTests(u, outDir)))).forEach(add);
    for (const e of plan.filter((p) => p.dir === 'e2e')) add(await runPackageTests(e, outDir));
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
  console.log('\n[airlock] ===== summary =====');
  if (!buildOk) console.log('  build: FAILED (counted as 1 failure)');
  for (const r of rows) console.log(r);
  if (skipped) console.log(`${skipped} skipped`);
  if (passed + failed === 0) console.log('no tests ran');
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 || passed === 0 ? 1 : 0;
}

// ---------------------------------------------------------------- dev

function dev(args) {
  if (!existsSync(CLI_BIN)) fatal(`${CLI_BIN.slice(ROOT.length + 1)} does not exist (cli package not built or not written yet)`);
  const child = spawn(process.execPath, [CLI_BIN, 'dev', ...args], { cwd: ROOT, stdio: 'inherit' });
  // A Ctrl-C in a terminal reaches the child directly and, through npm, us as well (sometimes twice):
  // forward each signal kind at most once per 500 ms so the child sees one press as one press.
  const lastSent = {};
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      const now = Date.now();
      if (now - (lastSent[sig] ?? 0) < 500) return;
      lastSent[sig] = now;
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    });
  }
  return new Promise((res) => {
    child.on('error', (e) => { console.error(`[airlock] could not start ${CLI_BIN}: ${e.message}`); res(1); });
    child.on('exit', (code, signal) => res(code ?? 128 + (osc.signals[signal] ?? 1)));
  });
}

// ---------------------------------------------------------------- main

async function main() {
  const [cmd, ...rest] = process.argv.slice(2);
  switch (cmd) {
    case 'install':
      ensureInstalled();
      return 0;
    case 'build':
      ensureInstalled();
      return ensureBuilt() ? 0 : 1;
    case 'dev':
      ensureInstalled();
      if (!ensureBuilt()) return 1;
      return dev(rest);
    case 'test': {
      ensureInstalled();
      await ensureTestServices(); // first, so a missing tool stops the run at once
      return test(ensureBuilt());
    }
    default:
      console.error('usage: node scripts/run.mjs <dev|test|install|build> [args...]');
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof Fatal) console.error(err.message);
    else console.error(err?.stack ?? String(err));
    process.exit(1);
  },
);
