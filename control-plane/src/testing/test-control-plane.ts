import { buildConfig, type ConfigInput } from '../config/config.js';
import type { Clock } from '../common/clock.js';
import { type RunningControlPlane, startControlPlane } from '../main.js';

export const TEST_ADMIN_TOKEN = 'alk_admin_TestOnlyBootstrapToken0123456789';

export interface TestControlPlane extends RunningControlPlane {
  /** Everything written to the operator's terminal (the token banner). */
  readonly announced: string[];
  /** Structured log lines, parsed. */
  readonly logs: Array<Record<string, unknown>>;
}

/** Starts a control plane on an ephemeral loopback port, capturing what it prints. */
export async function startTestControlPlane(input: ConfigInput, clock?: Clock): Promise<TestControlPlane> {
  const announced: string[] = [];
  const logs: Array<Record<string, unknown>> = [];
  // Loopback and plaintext unless the test brings its own certificate (input.transport.tlsCert).
  const config = buildConfig({ host: '127.0.0.1', port: 0, logLevel: 'info', ...input, transport: { insecurePlaintext: '1', ...input.transport } });
  const running = await startControlPlane(config, {
    clock,
    announce: (text) => announced.push(text),
    logSink: (line) => logs.push(JSON.parse(line) as Record<string, unknown>),
  });
  return Object.assign(running, { announced, logs });
}

export interface ApiResponse {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read whatever the API returned
  headers: Headers;
}

/** A tiny HTTP client for tests: JSON in, JSON out, bearer token optional. */
export function apiClient(baseUrl: string, token?: string) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
  };
}

/** A clock tests can move forward. */
export class ManualClock implements Clock {
  constructor(private current = new Date('2026-11-25T10:00:00.000Z')) {}

  now(): Date {
    return new Date(this.current);
  }

  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}
