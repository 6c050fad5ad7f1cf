import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ApiClient } from '../lib/api.js';
import { parsePort } from '../lib/arguments.js';
import { CliError, NotFoundError } from '../lib/errors.js';
import { saveProfile } from '../lib/profile.js';
import { startChild } from '../dev/child-process.js';
import type { Child } from '../dev/child-process.js';
import { startDemoTarget } from '../dev/demo-target.js';
import type { DemoTarget } from '../dev/demo-target.js';
import { loadOrCreateDevToken } from '../dev/dev-token.js';
import { DEMO_REVIEWER, ensureDemoPolicy, reviewerHome } from '../dev/demo-policy.js';

interface DevOptions {
  port: number;
  demoPort: number;
  dataDir: string;
}

const DEV_AGENT = 'dev-agent';
const DEMO_CONNECTION = 'demo';
const DEMO_SECRET_ENV = 'AIRLOCK_DEMO_PASSWORD';

export function registerDev(program: Command): void {
  program
    .command('dev')
    .description('run a local airlock: control plane (embedded Postgres), one agent and a demo Postgres target')
    .option('--port <port>', 'control plane port on 127.0.0.1', parsePort, 7070)
    .option('--demo-port <port>', 'demo Postgres target port on 127.0.0.1', parsePort, 5544)
    .option('--data-dir <dir>', 'where dev state lives (kept across restarts)', '.airlock/dev')
    .action(async (options: DevOptions) => runDev(options));
}

function binOf(pkg: string, bin: string): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve(`${pkg}/package.json`)), 'bin', bin);
}

async function runDev(options: DevOptions): Promise<void> {
  const dataDir = resolve(options.dataDir);
  const url = `http://127.0.0.1:${options.port}`;
  const token = loadOrCreateDevToken(dataDir);
  const children: Child[] = [];
  let demo: DemoTarget | undefined;
  const stopAll = async () => {
    for (const child of children.reverse()) await child.stop();
    await demo?.stop();
  };
  try {
    demo = await startDemoTarget(join(dataDir, 'demo-target'), options.demoPort).catch((error: NodeJS.ErrnoException) => {
      throw new CliError(`cannot start the demo target on 127.0.0.1:${options.demoPort}: ${error.code === 'EADDRINUSE' ? 'the port is in use (try --demo-port)' : error.message}`);
    });
    const controlPlane = startChild('control-plane', [binOf('@airlock/control-plane', 'airlock-control-plane.js')], {
      ...process.env,
      AIRLOCK_HOST: '127.0.0.1',
      AIRLOCK_PORT: String(options.port),
      AIRLOCK_DATA_DIR: join(dataDir, 'control-plane'),
      AIRLOCK_BOOTSTRAP_TOKEN: token,
      // The token belongs to a local admin user marked dev-only; no identity provider is needed.
      AIRLOCK_DEV_MODE: 'true',
      DATABASE_URL: '',
      // Dev mode is plaintext on loopback only (the control plane refuses plaintext anywhere else).
      AIRLOCK_INSECURE_PLAINTEXT: '1',
      AIRLOCK_TLS_CERT: '',
      AIRLOCK_TLS_KEY: '',
    });
    children.push(controlPlane);
    await waitHealthy(url, controlPlane);
    const api = new ApiClient({ url, token });
    saveProfile({ url, token });
    const agent = await startDevAgent(api, url, join(dataDir, 'agent'));
    children.push(agent);
    await ensureDemoConnection(api, demo);
    await ensureDemoPolicy(api, url, dataDir);
    await waitAgentConnected(api, agent);
    process.stdout.write(banner(url, options, demo));
    const firstExit = await Promise.race([waitForSignal(), ...children.map((c) => c.exited.then(() => c))]);
    if (typeof firstExit === 'object') throw new CliError(`${firstExit.name} exited unexpectedly; stopping airlock dev`);
  } finally {
    await stopAll();
  }
}

async function startDevAgent(api: ApiClient, url: string, stateDir: string): Promise<Child> {
  const args = [binOf('@airlock/data-agent', 'airlock-agent.js'), '--url', url, '--state-dir', stateDir];
  if (!existsSync(join(stateDir, 'agent.json')) || !existsSync(join(stateDir, 'agent.key'))) {
    // A previous dev run may have created the agent and died before enrolling (or enrolled it with
    // a shared key, before agents had key pairs): start it over.
    await api.deleteConnection(DEMO_CONNECTION).catch(ignoreNotFound);
    await api.deleteAgent(DEV_AGENT).catch(ignoreNotFound);
    const created = await api.createAgent(DEV_AGENT);
    args.push('--join-token', created.joinToken);
  }
  return startChild('agent', args, { ...process.env, AIRLOCK_LOG_FORMAT: 'json', [DEMO_SECRET_ENV]: 'demo' });
}

async function ensureDemoConnection(api: ApiClient, demo: DemoTarget): Promise<void> {
  const existing = await api.getConnection(DEMO_CONNECTION).catch(ignoreNotFound);
  if (existing && existing.port === demo.port && existing.agent === DEV_AGENT) return;
  if (existing) await api.deleteConnection(DEMO_CONNECTION);
  await api.createConnection({
    name: DEMO_CONNECTION,
    type: 'postgres',
    agent: DEV_AGENT,
    host: demo.host,
    port: demo.port,
    database: 'postgres',
    user: 'postgres',
    secret: `env:${DEMO_SECRET_ENV}`,
    tlsMode: 'disable',
  });
}

function ignoreNotFound(error: unknown): undefined {
  if (error instanceof NotFoundError) return undefined;
  throw error;
}

async function waitHealthy(url: string, child: Child): Promise<void> {
  const deadline = Date.now() + 90_000;
  let exited = false;
  void child.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new CliError('the control plane exited during start-up; see its log above');
    const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (ok) return;
    await sleep(250);
  }
  throw new CliError(`the control plane did not answer on ${url} within 90s`);
}

async function waitAgentConnected(api: ApiClient, child: Child): Promise<void> {
  const deadline = Date.now() + 60_000;
  let exited = false;
  void child.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new CliError('the agent exited during start-up; see its log above');
    const agents = await api.listAgents();
    if (agents.some((a) => a.name === DEV_AGENT && a.connected)) return;
    await sleep(200);
  }
  throw new CliError('the agent did not connect within 60s');
}

function banner(url: string, options: DevOptions, demo: DemoTarget): string {
  return `
airlock dev is running. Dev mode: plaintext HTTP and gRPC (no TLS) on 127.0.0.1 only, and a local
admin user (dev-admin) with no identity provider: DEV ONLY, never for production (see "Deploying with TLS" in the README).

  control plane  ${url}   (API docs ${url}/docs)
  agent          ${DEV_AGENT}, connected
  demo target    Postgres (PGlite) on ${demo.host}:${demo.port}, reachable as connection "${DEMO_CONNECTION}"
  state          ${resolve(options.dataDir)}
  CLI            logged in as user:dev-admin (admin, dev-only)

Try it from another terminal in this checkout:
  npx airlock connect ${DEMO_CONNECTION}
  psql "host=127.0.0.1 port=5433 dbname=postgres sslmode=disable" -c "select name, email from customers"
  npx airlock exec ${DEMO_CONNECTION} -c "select country, count(*) from customers group by 1"

Writes wait for a reviewer (policy "demo"). Hold one, then approve it as ${DEMO_REVIEWER} (group dba):
  psql "host=127.0.0.1 port=5433 dbname=postgres sslmode=disable" -c "delete from orders where status = 'refunded'"
  AIRLOCK_HOME=${reviewerHome(resolve(options.dataDir))} npx airlock reviews list --pending
  AIRLOCK_HOME=${reviewerHome(resolve(options.dataDir))} npx airlock reviews approve <ID>
  npx airlock sessions list

Press Ctrl-C to stop.
`;
}

function waitForSignal(): Promise<'signal'> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('signal'));
    process.once('SIGTERM', () => resolve('signal'));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
