import { hostname } from 'node:os';
import { ConnectionType, GrpcChannel, KillSession, OpenSession } from '@airlock/proto';
import type { ControlResponse } from '@airlock/proto';
import type { AgentConfig } from './config.js';
import { CredentialsError, hasLegacyCredentials, keyFingerprint, loadIdentity, saveCredentials } from './credentials.js';
import type { AgentCredentials, AgentIdentity } from './credentials.js';
import { signAgentAssertion } from './link/agent-assertion.js';
import { ControlLink } from './link/control-link.js';
import { enrollAgent } from './link/enroll.js';
import { createLogger } from './logger.js';
import type { Logger } from './logger.js';
import { engineFor } from './protocols/registry.js';
import { installAgentHostKey, loadOrCreateHostKey } from './protocols/ssh/host-key.js';
import { resolveSecret } from './secrets.js';
import { DecisionBroker } from './reviews/decision-broker.js';
import { gateFactory } from './reviews/gate-factory.js';
import { maskingFactory } from './masking/session-masking.js';
import { ParserPool } from './policy/index.js';
import { SessionRunner } from './tunnel/session-runner.js';
import { StatementBatcher } from './recording/statement-batcher.js';
import { EventJournal } from './recording/event-journal.js';
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

/** Loads the stored identity, or creates a key pair and enrols with the join token on first start. */
async function obtainIdentity(config: AgentConfig, logger: Logger): Promise<AgentIdentity> {
  let stored: AgentIdentity | undefined;
  try {
    stored = loadIdentity(config.stateDir);
  } catch (err) {
    if (err instanceof CredentialsError) throw new AgentStartError(err.message);
    throw err;
  }
  if (stored) {
    // A restart with the same arguments must not spend the (already used) join token again.
    if (config.joinToken) logger.info('already enrolled; ignoring the join token', { agent: stored.credentials.agentName });
    return { ...stored, credentials: { ...stored.credentials, url: config.url ?? stored.credentials.url } };
  }
  if (!config.url) throw new AgentStartError('no control plane URL: pass --url or set AIRLOCK_URL');
  if (!config.joinToken) {
    throw new AgentStartError(
      hasLegacyCredentials(config.stateDir)
        ? `${config.stateDir} holds a shared agent key from an older airlock; agents now enrol with a key pair: pass --join-token from \`airlock agents create NAME\``
        : `this agent is not enrolled (no key in ${config.stateDir}): pass --join-token from \`airlock agents create NAME\``,
    );
  }
  const identity = await enrollAgent(config.url, config.joinToken, config.stateDir, config.caPem).catch((err: Error) => {
    throw new AgentStartError(`enrolment failed: ${err.message}`);
  });
  saveCredentials(config.stateDir, identity.credentials);
  logger.info('enrolled', { agent: identity.credentials.agentName, stateDir: config.stateDir, keyFingerprint: keyFingerprint(identity.privateKey) });
  return identity;
}

export async function startAgent(config: AgentConfig, logger: Logger = createLogger()): Promise<RunningAgent> {
  const { credentials, privateKey } = await obtainIdentity(config, logger);
  const log = logger.child({ agent: credentials.agentName });
  // The SSH host key `ssh` clients pin (`airlock connect` writes it to known_hosts): made once, kept in the state dir.
  const sshHostKey = loadOrCreateHostKey(config.stateDir);
  installAgentHostKey(sshHostKey);
  // Every call (the control stream, each reconnect, each session stream) proves itself afresh.
  const assertion = () => signAgentAssertion({ agentId: credentials.agentId, audience: credentials.audience, privateKey });
  const channel = new GrpcChannel(credentials.url, { token: assertion, ca: config.caPem });
  let rejectAgent!: (message: string) => void;
  const rejected = new Promise<string>((resolve) => (rejectAgent = resolve));
  // The link and the runner refer to each other: orders come in on the link, events go out on it.
  let sessions: SessionRunner | undefined;
  let decisions: DecisionBroker | undefined;
  let journal: EventJournal | undefined;
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
          capabilities: [ConnectionType.POSTGRES, ConnectionType.TCP, ConnectionType.SSH, ConnectionType.HTTP, ConnectionType.KUBERNETES],
          heldRequestIds: decisions?.heldRequestIds() ?? [],
          sshHostKey: sshHostKey.publicKey,
        },
      },
    }),
    onConnected: () => {
      journal?.onConnected();
      decisions?.resendAll();
    },
    onOrder: (message: ControlResponse) => dispatchOrder(message, sessions!, decisions!, journal!, log),
    onRejected: (message) => rejectAgent(message),
  });
  decisions = new DecisionBroker((message) => link.send(message));
  journal = new EventJournal({
    send: (message) => link.send(message),
    isConnected: () => link.state === 'connected',
    stopSession: (sessionId, reason) => sessions?.kill(sessionId, reason),
    logger: log,
  });
  const events = journal;
  const parsers = new ParserPool();
  sessions = new SessionRunner({
    channel,
    link,
    logger: log,
    engineFor,
    resolveSecret: (ref) => resolveSecret(ref),
    decisions,
    statements: new StatementBatcher(events),
    events,
    gateFor: gateFactory(parsers, decisions),
    // Hash masking needs a key stable across restarts and unknown to clients: derived from the private key.
    maskingFor: maskingFactory(privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64')),
  });
  link.start();
  return {
    credentials,
    link,
    sessions,
    rejected,
    async stop() {
      sessions!.killAll('the agent is stopping');
      events.close();
      await link.stop();
      channel.close();
      await parsers.close();
    },
  };
}

function dispatchOrder(message: ControlResponse, sessions: SessionRunner, decisions: DecisionBroker, journal: EventJournal, logger: Logger): void {
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
    case 'eventsStored':
      journal.onStored(message.message.value.throughBatch);
      return;
    case 'welcome':
    case 'heartbeatAck':
      return;
    default:
      logger.warn('ignoring an order this agent does not know; is the agent older than the control plane?');
  }
}
