/**
 * The whole airlock path as a user runs it: the real control-plane and agent binaries as
 * processes, the real CLI binary, the machine's Postgres as the control plane's store, and a
 * throwaway password-protected Postgres cluster as the target.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestCertificates, createTestDatabase, freePort, REPO_ROOT, runCli, spawnCli, startProcess } from '../support/index.js';
import type { ProcessHandle, RunResult, TestCertificates, TestDatabase } from '../support/index.js';

export const CONTROL_PLANE_BIN = join(REPO_ROOT, 'control-plane', 'bin', 'airlock-control-plane.js');
export const AGENT_BIN = join(REPO_ROOT, 'data-agent', 'bin', 'airlock-agent.js');

export interface StackOptions {
  /** Serve HTTPS and gRPC over TLS with a throwaway CA that the CLI and agents pin (default: plaintext on loopback). */
  tls?: boolean;
  /** More environment for the control plane (e.g. AIRLOCK_OIDC_ISSUER for identity tests). */
  controlPlaneEnv?: NodeJS.ProcessEnv;
}

export interface Stack {
  url: string;
  token: string;
  /** Set with `tls`: the CA the CLI and agents pin, and another one to pin by mistake. */
  certificates?: TestCertificates;
  /** AIRLOCK_HOME of the logged-in admin CLI. */
  home: string;
  store: TestDatabase;
  controlPlane: ProcessHandle;
  cli(args: string[], env?: NodeJS.ProcessEnv): Promise<RunResult>;
  /** `--json` output of a CLI command, parsed; fails the test with the CLI's stderr otherwise. */
  cliJson<T>(args: string[]): Promise<T>;
  startAgent(name: string, env: NodeJS.ProcessEnv): Promise<AgentProcess>;
  /** `airlock apply -f` of a policy document, as the admin; throws with the CLI's error. */
  applyPolicy(document: string): Promise<void>;
  /**
   * Creates a local user in `groups` and returns an AIRLOCK_HOME logged in as them. Deciding reviews
   * addressed to a group needs `role: 'reviewer'` (default `user`).
   */
  userHome(name: string, groups: string[], role?: 'admin' | 'reviewer' | 'user' | 'auditor'): Promise<string>;
  /** `airlock connect` as the admin, or as the user whose AIRLOCK_HOME is `userHome`. */
  connect(connection: string, userHome?: string): Promise<{ port: number; process: ProcessHandle }>;
  /** SIGKILL: a crash, nothing flushed. */
  restartControlPlane(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

export interface AgentProcess {
  process: ProcessHandle;
  stateDir: string;
  /** Already spent by the first start: kept so tests can try to spend it again. */
  joinToken: string;
  restart(): Promise<void>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const work = mkdtempSync(join(tmpdir(), 'airlock-e2e-'));
  const home = join(work, 'cli-home');
  const store = await createTestDatabase('airlock_e2e_cp');
  let port = await freePort();
  const certificates = options.tls ? createTestCertificates() : undefined;
  const scheme = certificates ? 'https' : 'http';
  let url = `${scheme}://127.0.0.1:${port}`;
  const token = `alk_admin_e2e_${randomBytes(16).toString('hex')}`;
  const cpEnv = () => ({
    DATABASE_URL: store.url,
    AIRLOCK_HOST: '127.0.0.1',
    AIRLOCK_PORT: String(port),
    AIRLOCK_DATA_DIR: join(work, 'control-plane'),
    AIRLOCK_BOOTSTRAP_TOKEN: token,
    ...(certificates ? { AIRLOCK_TLS_CERT: certificates.certFile, AIRLOCK_TLS_KEY: certificates.keyFile } : { AIRLOCK_INSECURE_PLAINTEXT: '1' }),
    ...options.controlPlaneEnv,
  });
  const caArgs = certificates ? ['--ca-file', certificates.caFile] : [];
  /**
   * A port found free can be taken before the control plane binds it (with two e2e files at a time,
   * by another file's outbound connection): the first start then takes another port; a restart, which
   * must keep its URL, waits and tries the same one again.
   */
  const startControlPlane = async (keepPort: boolean): Promise<ProcessHandle> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await startProcess('control-plane', process.execPath, [CONTROL_PLANE_BIN], { env: cpEnv(), readyPattern: /control plane listening/, timeoutMs: 60_000 });
      } catch (error) {
        if (attempt >= 5 || !/EADDRINUSE/.test(String(error))) throw error;
        if (keepPort) await new Promise((r) => setTimeout(r, 1_000));
        else {
          port = await freePort();
          url = `${scheme}://127.0.0.1:${port}`;
        }
      }
    }
  };
  let controlPlane = await startControlPlane(false);
  const agents: AgentProcess[] = [];
  const connects: ProcessHandle[] = [];
  let policies = 0;
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { home, env, timeoutMs: 120_000 });
  const login = await cli(['login', '--url', url, '--token', token, ...caArgs]);
  if (login.code !== 0) throw new Error(`login failed: ${login.stderr}`);

  const stack: Stack = {
    url,
    token,
    certificates,
    home,
    store,
    get controlPlane() {
      return controlPlane;
    },
    cli,
    async cliJson<T>(args: string[]) {
      const result = await cli([...args, '--json']);
      if (result.code !== 0) throw new Error(`airlock ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
      return JSON.parse(result.stdout) as T;
    },
    async startAgent(name, env) {
      const created = await stack.cliJson<{ joinToken: string }>(['agents', 'create', name]);
      const stateDir = join(work, `agent-${name}`);
      const args = [AGENT_BIN, '--url', url, '--join-token', created.joinToken, '--state-dir', stateDir, ...caArgs];
      const start = () =>
        startProcess(`agent-${name}`, process.execPath, args, { env: { AIRLOCK_AGENT_HEARTBEAT_MS: '1000', ...env }, readyPattern: /connected to the control plane/, timeoutMs: 60_000 });
      const agent: AgentProcess = {
        process: await start(),
        stateDir,
        joinToken: created.joinToken,
        async restart() {
          await agent.process.stop();
          agent.process = await start();
        },
      };
      agents.push(agent);
      return agent;
    },
    async applyPolicy(document) {
      const file = join(work, `policy-${++policies}.yaml`);
      writeFileSync(file, document);
      const applied = await cli(['apply', '-f', file]);
      if (applied.code !== 0) throw new Error(`airlock apply failed: ${applied.stderr}`);
    },
    async userHome(name, groups, role) {
      const created = await stack.cliJson<{ token: string }>(['users', 'create', name, ...groups.flatMap((g) => ['--group', g]), ...(role ? ['--role', role] : [])]);
      const userHome = join(work, `home-${name}`);
      const login = await runCli(['login', '--url', url, '--token', created.token, ...caArgs], { home: userHome });
      if (login.code !== 0) throw new Error(`login as ${name} failed: ${login.stderr}`);
      return userHome;
    },
    async connect(connection, userHome = home) {
      const handle = await spawnCli(['connect', connection, '--port', String(await freePort()), '--json'], {
        home: userHome,
        readyPattern: /"port"/,
        timeoutMs: 30_000,
        name: `connect-${connection}`,
      });
      connects.push(handle);
      const line = handle.stdout.split('\n').find((l) => l.includes('"port"'))!;
      return { port: (JSON.parse(line) as { port: number }).port, process: handle };
    },
    async restartControlPlane(signal: NodeJS.Signals = 'SIGTERM') {
      await controlPlane.stop(signal);
      controlPlane = await startControlPlane(true);
    },
    async stop() {
      for (const connect of connects) await connect.stop().catch(() => undefined);
      for (const agent of agents) await agent.process.stop().catch(() => undefined);
      await controlPlane.stop().catch(() => undefined);
      await store.drop().catch(() => undefined);
      rmSync(work, { recursive: true, force: true });
      certificates?.remove();
    },
  };
  return stack;
}

/** A stack whose agent reaches `target` as `role`, registered as a postgres connection. */
export async function addPostgresConnection(
  stack: Stack,
  options: { agent: string; connection: string; target: { port: number; database: string }; role: { user: string; password: string } },
): Promise<AgentProcess> {
  const secretVar = `AIRLOCK_E2E_${options.connection.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_PASSWORD`;
  const agent = await stack.startAgent(options.agent, { [secretVar]: options.role.password });
  const created = await stack.cli([
    'connections', 'create', options.connection, '--type', 'postgres', '--agent', options.agent,
    '--host', '127.0.0.1', '--port', String(options.target.port), '--database', options.target.database,
    '--user', options.role.user, '--secret', `env:${secretVar}`, '--tls-mode', 'disable',
  ]);
  if (created.code !== 0) throw new Error(`connections create failed: ${created.stderr}`);
  return agent;
}
