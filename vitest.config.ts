import { defineConfig } from 'vitest/config';

/**
 * Tests that measure how fast something answers from another process (a status during a run, a
 * dashboard beside one) run alone, after the rest: on two cores another test file's DuckDB load
 * beside them measures the machine, not the product.
 */
const TIMED = ['test/e2e/live-status.test.ts', 'test/dashboard/dashboard-live-run.test.ts', 'test/polymarket/rate-limiter-lateness.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    setupFiles: ['test/setup.ts'],
    allowOnly: !process.env.CI,
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['test/**/*.test.ts'],
          exclude: TIMED,
          // DuckDB and the simulator are CPU-bound; two cores do not gain from more workers.
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'timed',
          include: TIMED,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
