/**
 * Every process a test file started (control planes, agents, `airlock connect`, `airlock dev`) is
 * stopped when the file ends, even if the file forgot one or failed half-way.
 */
import { afterAll } from 'vitest';
import { stopAll } from './processes.js';

afterAll(async () => {
  await stopAll();
});
