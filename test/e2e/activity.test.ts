import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { openWarehouse, runBackfill, seedTraders } from '../../testkit/backfill-harness.js';
import { expectEqualsGroundTruth } from '../../testkit/ground-truth.js';
import { withTempDir } from '../../testkit/temp-dir.js';

/**
 * Activity beside the fills: a wallet is complete when its fills, its activity (splits, merges, redemptions,
 * conversions, rewards, rebates, combo rows) and the markets both touch are loaded. Wallets completed by a version
 * that did not collect activity get it on the next run without their fills being fetched again.
 */
describe('wallet activity against the simulator', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 19, wallets: 30, maxTradesPerWallet: 400 });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('wallets completed before activity was collected get their activity only: no trade or market request, and the warehouse ends equal to the ground truth', async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());
      expect(await runBackfill(dir, sim.url)).toMatchObject({ outcome: 'complete', loaded: 30 });

      // The warehouse as a version before activity left it: completed wallets, no activity, no per-kind columns.
      const old = await openWarehouse(dir);
      await old.query('UPDATE backfill_checkpoint SET fills_loaded = NULL, activity_loaded = NULL, activity_count = NULL, last_activity_at = NULL');
      await old.query('DELETE FROM activity');
      await old.query('DELETE FROM combo_activity');
      expect(await old.status()).toMatchObject({ completed: 30, failed: 0 });
      await old.close();

      sim.resetStats();
      const summary = await runBackfill(dir, sim.url);
      expect(summary).toMatchObject({ outcome: 'complete', planned: 30, loaded: 30, failed: 0, trades: 0 });
      expect(summary.activity).toBeGreaterThan(100);
      const requests = sim.stats().requests;
      expect(requests['data:trades'] ?? 0).toBe(0);
      expect(requests['gamma:markets'] ?? 0).toBe(0);
      expect(requests['data:activity']).toBeGreaterThanOrEqual(30);
      expect(requests['data:activity-combos']).toBeGreaterThanOrEqual(30);

      const check = await openWarehouse(dir);
      try {
        const report = await expectEqualsGroundTruth(check, sim.dataset);
        expect(report.activity).toBeGreaterThan(100);
        expect(await check.status()).toMatchObject({ completed: 30, failed: 0, activity: { loaded_wallets: 30, pending_wallets: 0 } });
      } finally {
        await check.close();
      }

      // Nothing left to do: a third run asks nothing.
      sim.resetStats();
      expect(await runBackfill(dir, sim.url)).toMatchObject({ planned: 0 });
      expect(sim.stats().requests['data:activity'] ?? 0).toBe(0);
    });
  });
});
