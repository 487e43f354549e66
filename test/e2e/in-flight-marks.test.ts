import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { openWarehouse, runBackfill, seedTraders } from '../../testkit/backfill-harness.js';
import { withTempDir } from '../../testkit/temp-dir.js';

/**
 * Each wallet's attempt is marked before its fetch starts, and the plan waits for the mark. One statement per wallet
 * capped an embedded run at the rate DuckDB commits them (about 20 a second beside the loads, measured: a per-wallet
 * refresh of 100,000 wallets would have spent an hour and a half marking); the embedded warehouse marks a window of
 * the next wallets per statement, as a remote one does.
 */
describe('in-flight marks', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 33, wallets: 96, maxTradesPerWallet: 5 });
  });
  afterAll(async () => {
    await sim.close();
  });

  /** The warehouse, counting the wallets of each in-flight mark statement. */
  function counting(marks: number[]): (warehouse: Warehouse) => Warehouse {
    return (warehouse) =>
      new Proxy(warehouse, {
        get(target, key) {
          const value = Reflect.get(target, key, target) as unknown;
          if (key === 'markInFlight') return (wallets: readonly string[], runId: string) => (marks.push(wallets.length), target.markInFlight(wallets, runId));
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
  }

  it('a backfill and a refresh of 96 wallets on DuckDB each mark them in a few statements, every wallet marked once, none left marked', async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());
      const marks: number[] = [];
      expect(await runBackfill(dir, sim.url, {}, {}, undefined, counting(marks))).toMatchObject({ outcome: 'complete', loaded: 96 });
      expect(marks.length).toBeLessThanOrEqual(4);
      expect(marks.reduce((a, b) => a + b, 0)).toBe(96);

      const refreshMarks: number[] = [];
      const refresh = await runBackfill(dir, sim.url, { refresh: { overlapSeconds: 3_600, marketRefreshAfterMs: 0 } }, {}, undefined, counting(refreshMarks));
      expect(refresh).toMatchObject({ mode: 'refresh', outcome: 'complete', loaded: 96 });
      expect(refreshMarks.length).toBeLessThanOrEqual(4);
      expect(refreshMarks.reduce((a, b) => a + b, 0)).toBe(96);

      const check = await openWarehouse(dir);
      const left = await check.query('SELECT wallet_address FROM backfill_checkpoint WHERE in_flight_run_id IS NOT NULL OR crash_suspect');
      await check.close();
      expect(left).toEqual([]);
    });
  });
});
