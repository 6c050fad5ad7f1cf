import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

export interface AgentConfig {
  /** The control plane's URL; the agent only ever dials out to it. */
  url: string | undefined;
  joinToken: string | undefined;
  stateDir: string;
  caPem: string | undefined;
  /** Overrides the heartbeat interval the control plane asks for (tests use a short one). */
  heartbeatMs: number | undefined;
}

export class AgentConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentConfigError';
  }
}

export const AGENT_USAGE = `Usage: airlock-agent [--url URL] [--join-token TOKEN] [--state-dir DIR] [--ca-file PEM]

Runs an airlock data agent. It dials out to the control plane and needs no inbound port.
First start: give the join token printed by \`airlock agents create NAME\`; the agent creates its
own Ed25519 key pair, keeps the private key in the state dir (mode 0600), and registers only the
public key. Later starts need only the state dir: each call is proved by a fresh signed assertion.

Options (each also read from the environment):
  --url URL          control plane URL                 AIRLOCK_URL
  --join-token T     one-time join token               AIRLOCK_JOIN_TOKEN
  --state-dir DIR    where the agent keeps its key     AIRLOCK_AGENT_STATE_DIR (default ~/.airlock-agent)
  --ca-file PEM      the CA to trust for https URLs,   AIRLOCK_CA_FILE
                     instead of the system's CAs
Target secrets are read from this process's environment (env:VAR) or files (file:/path).`;

export function loadAgentConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): AgentConfig | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        url: { type: 'string' },
        'join-token': { type: 'string' },
        'state-dir': { type: 'string' },
        'ca-file': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
  } catch (err) {
    throw new AgentConfigError((err as Error).message);
  }
  const values = parsed.values;
  if (values.help) return 'help';
  const caFile = values['ca-file'] ?? env.AIRLOCK_CA_FILE;
  const url = values.url ?? env.AIRLOCK_URL;
  if (url !== undefined && !/^https?:\/\/[^/]+/.test(url)) {
    throw new AgentConfigError(`--url must look like http://host:port or https://host:port, got "${url}"`);
  }
  return {
    url: url?.replace(/\/+$/, ''),
    joinToken: values['join-token'] ?? env.AIRLOCK_JOIN_TOKEN,
    stateDir: values['state-dir'] ?? env.AIRLOCK_AGENT_STATE_DIR ?? join(homedir(), '.airlock-agent'),
    caPem: caFile ? readCaFile(caFile) : undefined,
    heartbeatMs: env.AIRLOCK_AGENT_HEARTBEAT_MS ? Number(env.AIRLOCK_AGENT_HEARTBEAT_MS) : undefined,
  };
}

function readCaFile(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AgentConfigError(`--ca-file cannot be read: ${(err as Error).message}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new AgentConfigError(`--ca-file ${file} holds no PEM certificate`);
  return pem;
}
