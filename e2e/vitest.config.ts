import { defineConfig } from 'vitest/config';

// End-to-end tests start real processes and talk to the machine's services. Each file has its own stack
// (free ports, its own store database, temp dirs), so two files run at a time; generous limits.
export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', '.logs/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    fileParallelism: true,
    maxWorkers: 2,
    setupFiles: ['./support/stop-processes.ts'],
  },
});
