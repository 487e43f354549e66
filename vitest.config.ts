import { accessSync, constants, mkdirSync } from 'node:fs';

import { defineConfig } from 'vitest/config';
import { BaseSequencer } from 'vitest/node';
import type { TestSpecification } from 'vitest/node';

/**
 * The tests' DuckDB files, stages and leases live in RAM when the machine has a tmpfs at /dev/shm (and no TMPDIR
 * was chosen): DuckDB checkpoints with fsyncs on every close and the stage writes durably, and on this machine's
 * disk those waits were a large share of the suite's time while proving nothing a test can observe. Set here,
 * before the workers start, so they and every CLI child they spawn inherit it.
 */
function ramTempDir(): string | undefined {
  if (process.env.TMPDIR) return undefined;
  try {
    accessSync('/dev/shm', constants.W_OK);
    const dir = '/dev/shm/polycopy-backfill-tests';
    mkdirSync(dir, { recursive: true });
    return dir;
  } catch {
    return undefined;
  }
}
const ramTemp = ramTempDir();
if (ramTemp) process.env.TMPDIR = ramTemp;

/**
 * Tests that measure how fast something answers from another process (a status during a run, a
 * dashboard beside one) run alone, after the rest: on two cores another test file's DuckDB load
 * beside them measures the machine, not the product.
 */
const TIMED = ['test/e2e/live-status.test.ts', 'test/dashboard/dashboard-live-run.test.ts', 'test/polymarket/rate-limiter-lateness.test.ts'];

/**
 * The files that start real runs (end-to-end, the cloud fakes, the deploy scripts) start first. Without durations of
 * an earlier run (a fresh clone, CI) vitest orders by file size, and a long file started last leaves one worker idle
 * while the other finishes it. Within each group vitest's own order stands; the timed project stays after the suite.
 */
class RealRunsFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => spec.project.config.sequence.groupOrder * 2 + (/\/test\/(e2e|gcp|deploy)\//.test(spec.moduleId) ? 0 : 1);
    return sorted.map((spec, index) => ({ spec, index })).sort((a, b) => rank(a.spec) - rank(b.spec) || a.index - b.index).map(({ spec }) => spec);
  }
}

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    setupFiles: ['test/setup.ts'],
    // Spies are put back after every test: with files sharing a worker's modules (isolate: false
    // below), one left in place would reach the next file.
    restoreMocks: true,
    allowOnly: !process.env.CI,
    sequence: { sequencer: RealRunsFirst },
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['test/**/*.test.ts'],
          exclude: TIMED,
          // DuckDB and the simulator are CPU-bound; two cores do not gain from more workers.
          maxWorkers: 2,
          // Files share their worker's loaded modules instead of importing the product again each
          // (the suite's import time was about a tenth of its run time). Safe because no test mocks a
          // module, spies are restored (restoreMocks) and timers made real again after each test (setup.ts).
          isolate: false,
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
