import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Each file boots Nest against its own fresh database; PGlite cold start takes seconds.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // PGlite (typeorm-pglite) is a process-wide singleton, so test files get their own processes.
    pool: 'forks',
  },
});
