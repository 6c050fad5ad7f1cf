import { hostname } from 'node:os';
import { ConnectionType, GrpcChannel, KillSession, OpenSession } from '@airlock/proto';
import type { ControlResponse } from '@airlock/proto';
import type { AgentConfig } from './config.js';
import { loadCredentials, saveCredentials } from './credentials.js';
import type { AgentCredentials } from './credentials.js';
import { ControlLink } from './link/control-link.js';
import { enrollAgent } from './link/enroll.js';
import { createLogger } from './logger.js';
import type { Logger } from './logger.js';
import { engineFor } from './protocols/registry.js';
import { resolveSecret } from './secrets.js';
import { DecisionBroker } from './reviews/decision-broker.js';
import { gateFactory } from './reviews/gate-factory.js';
import { maskingFactory } from './masking/session-masking.js';
import { ParserPool } from './policy/index.js';
import { SessionRunner } from './tunnel/session-runner.js';
import { StatementBatcher } from './recording/statement-batcher.js';
import { AGENT_VERSION } from './version.js';

export class AgentStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentStartError';
  }
}

export interface RunningAgent {
  readonly credentials: AgentCredentials;
  readonly link: ControlLink;
  readonly sessions: SessionRunner;
  /** Resolves when the control plane refuses this agent for good. */
  readonly rejected: Promise<string>;
  stop(): Promise<void>;
}

/** Loads the stored key, or enrols with the join token on first start. */
async function obtainCredentials(config: AgentConfig, logger: Logger): Promise<AgentCredentials> {
  const stored = loadCredentials(config.stateDir);
  if (stored) {
    // A restart with the same arguments must not spend the (already used) join token again.
    if (config.joinToken) logger.info('already enrolled; ignoring the join token', { agent: stored.agentName });
    return { ...stored, url: config.url ?? stored.url };
  }
  if (!config.url) throw new AgentStartError('no control plane URL: pass --url or set AIRLOCK_URL');
  if (!config.joinToken) {
    throw new AgentStartError(
      `this agent is not enrolled (no key in ${config.stateDir}): pass --join-token from \`airlock agents create NAME\``,
    );
  }
  const credentials = await enrollAgent(config.url, config.joinToken, config.caPem).catch((err: Error) => {
    throw new AgentStartError(`enrolment failed: ${err.message}`);
  });
  saveCredentials(config.stateDir, credentials);
  logger.info('enrolled', { agent: credentials.agentName, stateDir: config.stateDir });
  return credentials;
}

export async function startAgent(config: AgentConfig, logger: Logger = createLogger()): Promise<RunningAgent> {
  const credentials = await obtainCredentials(config, logger);
  const log = logger.child({ agent: credentials.agentName });
  const channel = new GrpcChannel(credentials.url, { token: () => credentials.agentKey, ca: config.caPem });
  let rejectAgent!: (message: string) => void;
  const rejected = new Promise<string>((resolve) => (rejectAgent = resolve));
  // The link and the runner refer to each other: orders come in on the link, events go out on it.
  let sessions: SessionRunner | undefined;
  let decisions: DecisionBroker | undefined;
  const link = new ControlLink({
    channel,
    heartbeatMs: config.heartbeatMs,
    logger: log,
    activeSessions: () => sessions?.activeCount ?? 0,
    hello: () => ({
      message: {
        case: 'hello',
        value: {
          version: AGENT_VERSION,
          hostname: hostname(),
          capabilities: [ConnectionType.POSTGRES, ConnectionType.TCP],
          heldRequestIds: decisions?.heldRequestIds() ?? [],
        },
      },
    }),
    onConnected: () => decisions?.resendAll(),
    onOrder: (message: ControlResponse) => dispatchOrder(message, sessions!, decisions!, log),
    onRejected: (message) => rejectAgent(message),
  });
  decisions = new DecisionBroker((message) => link.send(message));
  const parsers = new ParserPool();
  sessions = new SessionRunner({
    channel,
    link,
    logger: log,
    engineFor,
    resolveSecret: (ref) => resolveSecret(ref),
    decisions,
    statements: new StatementBatcher(link),
    gateFor: gateFactory(parsers, decisions),
    maskingFor: maskingFactory(credentials.agentKey),
  });
  link.start();
  return {
    credentials,
    link,
    sessions,
    rejected,
    async stop() {
      sessions!.killAll('the agent is stopping');
      await link.stop();
      channel.close();
      await parsers.close();
    },
  };
}

function dispatchOrder(message: ControlResponse, sessions: SessionRunner, decisions: DecisionBroker, logger: Logger): void {
  switch (message.message.case) {
    case 'openSession':
      sessions.open(message.message.value as OpenSession);
      return;
    case 'killSession': {
      const kill = message.message.value as KillSession;
      sessions.kill(kill.sessionId, kill.reason);
      return;
    }
    case 'decisionUpdate':
      decisions.onUpdate(message.message.value);
      return;
    case 'welcome':
    case 'heartbeatAck':
      return;
    default:
      logger.warn('ignoring an order this agent does not know; is the agent older than the control plane?');
  }
}
