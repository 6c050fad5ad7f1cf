import { AGENT_USAGE, AgentConfigError, loadAgentConfig } from './config.js';
import { createLogger } from './logger.js';
import { AgentStartError, startAgent } from './main.js';

async function main(): Promise<void> {
  const logger = createLogger();
  let config;
  try {
    config = loadAgentConfig(process.argv.slice(2));
  } catch (err) {
    if (err instanceof AgentConfigError) {
      process.stderr.write(`airlock-agent: ${err.message}\n\n${AGENT_USAGE}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (config === 'help') {
    process.stdout.write(AGENT_USAGE + '\n');
    return;
  }
  try {
    const agent = await startAgent(config, logger);
    const shutdown = async (signal: string) => {
      logger.info('stopping', { signal });
      await agent.stop();
      process.exit(0);
    };
    process.once('SIGINT', () => void shutdown('SIGINT'));
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
    const reason = await agent.rejected;
    process.stderr.write(`airlock-agent: the control plane refused this agent: ${reason}\n`);
    await agent.stop();
    process.exit(3);
  } catch (err) {
    if (err instanceof AgentStartError) {
      process.stderr.write(`airlock-agent: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

void main();
