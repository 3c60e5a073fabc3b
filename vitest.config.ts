import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Store suites share PostgreSQL databases and ports: files run in parallel, tests inside sequentially.
    pool: 'forks',
  },
});
