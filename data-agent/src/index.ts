export { startAgent, AgentStartError } from './main.js';
export type { RunningAgent } from './main.js';
export { loadAgentConfig, AgentConfigError } from './config.js';
export type { AgentConfig } from './config.js';
export { createLogger } from './logger.js';
