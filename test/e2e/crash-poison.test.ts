import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { openWarehouse, paths, seedTraders } from '../../testkit/backfill-harness.js';
import { runArgs, startCli, waitFor } from '../../testkit/cli.js';
import { expectEqualsGroundTruth } from '../../testkit/ground-truth.js';
import { withTempDir } from '../../testkit/temp-dir.js';

/**
 * A wallet whose processing kills the whole process (out of memory on a hostile response, a native
 * crash) never gets a checkpoint of its own. Its attempt is recorded before its fetch, so every run
 * that dies with it in flight counts one; the next run tries it alone, first; at the limit it is parked.
 */
describe('crash-poison wallets', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 21, wallets: 20, maxTradesPerWallet: 300 });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('a wallet that makes the process die (SIGKILL whenever it is in flight) is parked after 3 runs; innocents in flight with it are never parked; all others complete', async () => {
    await withTempDir(async (dir) => {
      const wallets = [...sim.dataset.wallets()].sort();
      const poison = wallets.filter((w) => sim.dataset.tradeCount(w) > 0)[8]!;
      await seedTraders(dir, wallets);
      const args = runArgs(paths(dir), sim.url, ['--max-failed-attempts', '3', '--concurrency', '4', '--commit-interval', '2s', '--lease-ttl', '10m', '--json']);

      let deaths = 0;
      let finished: { code: number | null; stdout: string } | undefined;
      for (let run = 0; run < 8 && !finished; run += 1) {
        const before = sim.stats().tradeRequestsByWallet[poison] ?? 0;
        const cli = startCli(args);
        const exited = cli.result.then(() => true);
        // The "crash": the process dies as soon as the poison wallet is being fetched.
        const poisoned = await Promise.race([waitFor(() => (sim.stats().tradeRequestsByWallet[poison] ?? 0) > before).then(() => false), exited]);
        if (poisoned) {
          finished = await cli.result;
          break;
        }
        cli.child.kill('SIGKILL');
        await cli.result;
        deaths += 1;
      }
      expect(deaths).toBe(3);
      expect(finished?.code).toBe(2);
      const summary = JSON.parse(finished!.stdout.trim().split('\n').pop()!) as { failed: number; outcome: string };
      expect(summary).toMatchObject({ outcome: 'some-failed', failed: 1 });

      const check = await openWarehouse(dir);
      try {
        const failed = await check.failedWallets();
        expect(failed).toEqual([
          expect.objectContaining({
            wallet_address: poison,
            attempts: 3,
            parked: true,
            error: expect.stringMatching(/^the process died while this wallet was in flight \(run .*\): failed attempt 3 of 3 before it is parked$/),
          }),
        ]);
        await expectEqualsGroundTruth(
          check,
          sim.dataset,
          wallets.filter((w) => w !== poison),
        );
        // Nothing is left marked in flight, and no innocent is still a suspect.
        expect(await check.query('SELECT wallet_address FROM backfill_checkpoint WHERE in_flight_run_id IS NOT NULL OR (crash_suspect AND NOT parked)')).toEqual([]);
      } finally {
        await check.close();
      }
    });
  });
});
