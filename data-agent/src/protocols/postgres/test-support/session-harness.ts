/**
 * Test harness: a SessionContext that collects records and logs, and a loopback TCP listener that
 * hands each accepted socket to an engine, as the tunnel will. Reusable by e2e tests.
 */
import net from 'node:net';
import type { ConnectionTarget, ProtocolEngine, SessionContext, SessionSummary, StatementRecord } from '../../engine.js';

export interface TestContext extends SessionContext {
  records: StatementRecord[];
  logs: { level: string; msg: string; fields?: Record<string, unknown> }[];
  abort: AbortController;
  /** How many times the secret was read. */
  secretReads: number;
}

export function makeTarget(overrides: Partial<ConnectionTarget> = {}): ConnectionTarget {
  return {
    name: 'demo', type: 'postgres', host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres',
    secretRef: 'env:TEST_PG_PASSWORD', tlsMode: 'disable', options: {}, ...overrides,
  };
}

let nextSession = 1;

/** `secret` is what resolveSecret returns (undefined: it throws like a missing env var). */
export function makeContext(target: ConnectionTarget, secret?: string): TestContext {
  const abort = new AbortController();
  const ctx: TestContext = {
    sessionId: `test-${nextSession++}`,
    target,
    records: [],
    logs: [],
    abort,
    secretReads: 0,
    signal: abort.signal,
    resolveSecret(ref: string) {
      ctx.secretReads++;
      if (secret === undefined) throw new Error(`secret ${ref} is not set`);
      return secret;
    },
    recorder: { record: (s) => ctx.records.push(s) },
    logger: {
      info: (msg, fields) => ctx.logs.push({ level: 'info', msg, fields }),
      warn: (msg, fields) => ctx.logs.push({ level: 'warn', msg, fields }),
      error: (msg, fields) => ctx.logs.push({ level: 'error', msg, fields }),
    },
  };
  return ctx;
}

export interface ServedSession {
  ctx: TestContext;
  socket: net.Socket;
  summary: Promise<SessionSummary>;
}

export interface AgentListener {
  port: number;
  sessions: ServedSession[];
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 and serves every connection with `engine`, each with a fresh context. */
export function startAgentListener(engine: ProtocolEngine, newContext: () => TestContext): Promise<AgentListener> {
  const sessions: ServedSession[] = [];
  // allowHalfOpen: a tunnel carries a half-close through, so the reply can still flow after the client ends.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const ctx = newContext();
    sessions.push({ ctx, socket, summary: engine.serveTunnel(socket, ctx) });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        sessions,
        close: async () => {
          for (const s of sessions) s.ctx.abort.abort();
          await Promise.all(sessions.map((s) => s.summary));
          await new Promise<void>((r) => server.close(() => r()));
        },
      });
    });
  });
}

/** Waits until `check` holds, polling; fails after timeoutMs. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
