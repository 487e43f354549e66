import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // DuckDB and the simulator are CPU-bound; two cores do not gain from more workers.
    maxWorkers: 2,
    allowOnly: !process.env.CI,
  },
});
