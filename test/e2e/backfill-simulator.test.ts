import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { expectEqualsGroundTruth } from '../../testkit/ground-truth.js';
import { openWarehouse, paths, runBackfill, seedTraders } from '../../testkit/backfill-harness.js';
import { withTempDir } from '../../testkit/temp-dir.js';
import { UNTHROTTLED_SPEC } from '../../testkit/cli.js';

const CLI = 'dist/cli/main.js';

/** Wallets of the run that is SIGKILLed once about half of them have asked for their fills. */
const KILLED_RUN_WALLETS = 40;

describe('backfill against the simulator over real HTTP into a real DuckDB file', () => {
  let sim: RunningSimulator;

  beforeAll(async () => {
    // 120 wallets: three commit batches and every market and event path, five of them over a page of fills
    // (13,381 in all); the 1,000-wallet run with its ground-truth check is `npm run bench` section 1.
    sim = await startSimulator({ seed: 42, wallets: 120, maxTradesPerWallet: 1500 });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('loads 120 wallets equal to the ground truth; a second run does no work and requests no trades', async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());

      sim.resetStats();
      const first = await runBackfill(dir, sim.url);
      expect(first).toMatchObject({ outcome: 'complete', loaded: 120, failed: 0, planned: 120 });

      const check = await openWarehouse(dir);
      const report = await expectEqualsGroundTruth(check, sim.dataset);
      expect(report.trades).toBeGreaterThan(10_000);
      // Activity (splits, merges, redemptions, conversions, rebates…) and resolutions are part of the ground truth.
      expect(report.activity).toBeGreaterThan(1_000);
      expect(report.resolutions).toBeGreaterThan(10);
      await check.close();

      sim.resetStats();
      const second = await runBackfill(dir, sim.url);
      expect(second).toMatchObject({ outcome: 'complete', planned: 0, loaded: 0 });
      expect(sim.stats().requests['data:trades'] ?? 0).toBe(0);
      expect(sim.stats().requests['gamma:markets'] ?? 0).toBe(0);
      expect(sim.stats().requests['data:activity'] ?? 0).toBe(0);
      expect(sim.stats().requests['data:resolutions'] ?? 0).toBe(0);
    });
  });

  it('a run SIGKILLed part-way, then run again, ends equal to the ground truth with no duplicate', async () => {
    expect(existsSync(CLI), `${CLI} missing: run npm run build first`).toBe(true);
    await withTempDir(async (dir) => {
      const wallets = sim.dataset.wallets().slice(0, KILLED_RUN_WALLETS);
      await seedTraders(dir, wallets);

      sim.resetStats();
      sim.setLatency({ min: 2, max: 8 });
      const { warehouse: whPath, stage } = paths(dir);
      const child = spawn(
        process.execPath,
        [CLI, 'run', '--warehouse', whPath, '--stage', stage, '--data-api-url', sim.url, '--gamma-api-url', sim.url,
          '--rate-limit', UNTHROTTLED_SPEC,
          '--concurrency', '8', '--commit-every', '10', '--commit-interval', '50ms', '--log-level', 'error'],
        { stdio: 'ignore' },
      );
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      // Kill once roughly half the wallets have been fetched: mid-fetch, mid-commit, wherever it is.
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          if ((sim.stats().requests['data:trades'] ?? 0) >= KILLED_RUN_WALLETS / 2) {
            clearInterval(timer);
            resolve();
          }
        }, 5);
      });
      child.kill('SIGKILL');
      expect(await exited).toBeNull();
      sim.setLatency({ min: 0, max: 0 });

      const partial = await openWarehouse(dir);
      const before = await partial.status();
      await partial.close();
      expect(before.completed).toBeGreaterThan(0);
      expect(before.completed).toBeLessThan(KILLED_RUN_WALLETS);

      const resumed = await runBackfill(dir, sim.url);
      expect(resumed.outcome).toBe('complete');
      expect(resumed.planned).toBe(KILLED_RUN_WALLETS - before.completed);
      const check = await openWarehouse(dir);
      await expectEqualsGroundTruth(check, sim.dataset, wallets);
      await check.close();
    });
  });
});

describe('backfill with faults injected at the API', () => {
  it('repeated runs end equal to the ground truth despite 429s, 5xx, HTML pages, truncated bodies and resets', async () => {
    const sim = await startSimulator({
      seed: 7,
      wallets: 50,
      // Three wallets over a page of fills, so faults land inside cursor walks too.
      maxTradesPerWallet: 1500,
      faults: {
        rateLimitedWithRetryAfter: 0.05,
        rateLimitedWithoutRetryAfter: 0.05,
        unavailable: 0.05,
        serverError: 0.05,
        htmlErrorPage: 0.04,
        truncatedJson: 0.04,
        connectionReset: 0.04,
      },
      retryAfterSeconds: 0,
    });
    try {
      await withTempDir(async (dir) => {
        await seedTraders(dir, sim.dataset.wallets());
        const outcomes: string[] = [];
        for (let attempt = 0; attempt < 8; attempt += 1) {
          // Few HTTP attempts, so some wallets fail outright and must be picked up by the next run.
          const summary = await runBackfill(dir, sim.url, {}, { maxAttempts: 3 });
          outcomes.push(`${summary.loaded}/${summary.failed}`);
          if (summary.outcome === 'complete' && summary.planned === 0) break;
        }
        const faults = sim.stats().faultsInjected;
        for (const kind of ['rateLimitedWithRetryAfter', 'rateLimitedWithoutRetryAfter', 'unavailable', 'serverError', 'htmlErrorPage', 'truncatedJson', 'connectionReset']) {
          expect(faults[kind] ?? 0, kind).toBeGreaterThan(0);
        }
        const check = await openWarehouse(dir);
        await expectEqualsGroundTruth(check, sim.dataset);
        expect((await check.status()).failed).toBe(0);
        await check.close();
        // Some wallets failed outright in a run and were picked up by a later one.
        expect(outcomes.length, outcomes.join(', ')).toBeGreaterThan(1);
      });
    } finally {
      await sim.close();
    }
  });
});
