import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Builds dist/ once so the tests can run the real `bin/airlock.js`.
    globalSetup: ['src/test/build-cli.global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 120_000,
  },
});
