import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RunEvents } from '../../src/engine/run-events.js';
import { reloadStaged } from '../../src/engine/reload-staged.js';
import { LocalStageStore } from '../../src/staging/local/local-stage-store.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { TEST_RUN_OPTIONS, openWarehouse, paths, runBackfill, seedTraders } from '../../testkit/backfill-harness.js';
import { withWarehouseFaults } from '../../testkit/faulty-warehouse.js';
import { expectEqualsGroundTruth } from '../../testkit/ground-truth.js';
import { withTempDir } from '../../testkit/temp-dir.js';

describe('crash safety', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    // Small: every property here is about one or two wallets among the others, not about volume.
    sim = await startSimulator({ seed: 11, wallets: 15, maxTradesPerWallet: 400 });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('retries a load that fails twice and a checkpoint write that fails four times, losing and duplicating nothing', async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());
      let counts: { loadFailures: number; checkpointFailures: number } | undefined;
      const summary = await runBackfill(dir, sim.url, { commit: { ...TEST_RUN_OPTIONS.commit, maxWallets: 100, maxDelayMs: 60_000 } }, {}, undefined, (w) => {
        const faulty = withWarehouseFaults(w, { failLoads: 2, failCheckpoints: 4 });
        counts = faulty.counts;
        return faulty.warehouse;
      });
      expect(summary).toMatchObject({ outcome: 'complete', loaded: 15, failed: 0, checkpointWriteFailures: 0 });
      expect(counts).toMatchObject({ loadFailures: 2, checkpointFailures: 4 });
      const check = await openWarehouse(dir);
      await expectEqualsGroundTruth(check, sim.dataset);
      await check.close();
    });
  });

  it('a wallet whose load keeps failing on a warehouse outage is recorded failed with its staged files kept; once the outage is over the next run loads it without any trade request for it', async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());
      const poison = sim.dataset.wallets().find((w) => sim.dataset.tradeCount(w) > 0)!;
      const first = await runBackfill(dir, sim.url, {}, {}, undefined, (w) => withWarehouseFaults(w, { poisonWallet: poison, poisonKind: 'transient' }).warehouse);
      expect(first).toMatchObject({ outcome: 'some-failed', failed: 1, loaded: 14 });
      const check = await openWarehouse(dir);
      const [failed] = await check.failedWallets();
      expect(failed).toMatchObject({ wallet_address: poison, attempts: 0, parked: false });
      expect(failed!.error).toContain('staged files kept');
      await check.close();

      const requestsBefore = sim.stats().tradeRequestsByWallet[poison] ?? 0;
      const second = await runBackfill(dir, sim.url);
      expect(second).toMatchObject({ outcome: 'complete', loaded: 1, reusedStaged: 1 });
      expect(sim.stats().tradeRequestsByWallet[poison] ?? 0).toBe(requestsBefore);
      const final = await openWarehouse(dir);
      await expectEqualsGroundTruth(final, sim.dataset);
      await final.close();
    });
  });

  it('a wallet whose staged files the warehouse refuses (a permanent load failure) is fetched again from the API by the next run instead of reloading the same files; the recorded error says so', async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());
      const poison = sim.dataset.wallets().find((w) => sim.dataset.tradeCount(w) > 0)!;
      const refused = (w: Parameters<typeof withWarehouseFaults>[0]) => withWarehouseFaults(w, { poisonWallet: poison }).warehouse;
      const first = await runBackfill(dir, sim.url, {}, {}, undefined, refused);
      expect(first).toMatchObject({ outcome: 'some-failed', failed: 1, loaded: 14 });
      const check = await openWarehouse(dir);
      const [failed] = await check.failedWallets();
      await check.close();
      expect(failed).toMatchObject({ wallet_address: poison, attempts: 1, parked: false });
      expect(failed!.error).toMatch(/^load failed permanently: injected: load of 0x[0-9a-f]{40} always fails; its staged files are set aside: the next `backfill run` fetches the wallet again from the API$/);

      // Refused again: every run asks the API again, none is spent on the same files.
      let requestsBefore = sim.stats().tradeRequestsByWallet[poison] ?? 0;
      const damaged: string[] = [];
      const events = new RunEvents();
      events.on('wallet:damaged', ({ wallet, reason }) => damaged.push(`${wallet}: ${reason}`));
      const second = await runBackfill(dir, sim.url, {}, {}, events, refused);
      expect(second).toMatchObject({ planned: 1, failed: 1, reusedStaged: 0 });
      expect(sim.stats().tradeRequestsByWallet[poison] ?? 0).toBeGreaterThan(requestsBefore);
      expect(damaged).toEqual([expect.stringMatching(new RegExp(`^${poison}: its staged files were refused by the warehouse in run `))]);

      // The warehouse now takes the wallet's rows: fetched once more, loaded, equal to the ground truth.
      requestsBefore = sim.stats().tradeRequestsByWallet[poison] ?? 0;
      const third = await runBackfill(dir, sim.url);
      expect(third).toMatchObject({ outcome: 'complete', planned: 1, loaded: 1, reusedStaged: 0 });
      expect(sim.stats().tradeRequestsByWallet[poison] ?? 0).toBeGreaterThan(requestsBefore);
      const final = await openWarehouse(dir);
      await expectEqualsGroundTruth(final, sim.dataset);
      await final.close();
    });
  });

  it('a failed wallet\'s checkpoint records the trades the warehouse holds for it, not the rows it staged: the mission\'s failed-wallets query shows 0 for a first load that failed', async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());
      const poison = sim.dataset.wallets().find((w) => sim.dataset.tradeCount(w) > 0)!;
      await runBackfill(dir, sim.url, {}, {}, undefined, (w) => withWarehouseFaults(w, { poisonWallet: poison }).warehouse);
      const check = await openWarehouse(dir);
      try {
        const failed = await check.query<{ wallet_address: string; trade_count: number }>(
          'SELECT wallet_address, trade_count, processed_at FROM backfill_checkpoint WHERE completed = true AND upload_successful = false',
        );
        expect(failed.map((r) => ({ wallet_address: r.wallet_address, trade_count: Number(r.trade_count) }))).toEqual([{ wallet_address: poison, trade_count: 0 }]);
        const [held] = await check.query<{ n: bigint }>('SELECT count(*) AS n FROM trades WHERE proxy_wallet = $w', { w: poison });
        expect(Number(held!.n)).toBe(0);
      } finally {
        await check.close();
      }
    });
  });

  it('`reload` loads failed wallets from their staged files with no API request at all', async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());
      const poison = sim.dataset.wallets().find((w) => sim.dataset.tradeCount(w) > 0)!;
      await runBackfill(dir, sim.url, {}, {}, undefined, (w) => withWarehouseFaults(w, { poisonWallet: poison }).warehouse);
      sim.resetStats();
      const warehouse = await openWarehouse(dir);
      const summary = await reloadStaged(
        { stage: new LocalStageStore(paths(dir).stage), warehouse, events: new RunEvents() },
        { commit: TEST_RUN_OPTIONS.commit, runId: 'reload-test', includeParked: false },
      );
      expect(summary).toMatchObject({ reloaded: 1, failed: 0, withoutStagedFiles: [] });
      expect(Object.values(sim.stats().requests).reduce((a, b) => a + b, 0)).toBe(0);
      await expectEqualsGroundTruth(warehouse, sim.dataset);
      await warehouse.close();
    });
  });

  it('parks a wallet after the configured number of failed runs and skips it until --retry-parked', async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());
      const poison = sim.dataset.wallets()[3]!;
      const wrap = (w: Parameters<typeof withWarehouseFaults>[0]) => withWarehouseFaults(w, { poisonWallet: poison }).warehouse;
      const commit = { ...TEST_RUN_OPTIONS.commit, maxFailedAttempts: 2 };
      await runBackfill(dir, sim.url, { commit }, {}, undefined, wrap);
      const second = await runBackfill(dir, sim.url, { commit }, {}, undefined, wrap);
      expect(second.planned).toBe(1);
      const third = await runBackfill(dir, sim.url, { commit });
      expect(third.planned).toBe(0);
      const check = await openWarehouse(dir);
      expect((await check.failedWallets())[0]).toMatchObject({ wallet_address: poison, parked: true, attempts: 2 });
      await check.close();
      const retried = await runBackfill(dir, sim.url, { commit, retryParked: true });
      expect(retried).toMatchObject({ planned: 1, loaded: 1, outcome: 'complete' });
    });
  });

  it('stops early with outcome "stopped" when the API is down, instead of failing every wallet', async () => {
    const down = await startSimulator({ seed: 12, wallets: 300, maxTradesPerWallet: 50, faults: { serverError: 1 } });
    try {
      await withTempDir(async (dir) => {
        await seedTraders(dir, down.dataset.wallets());
        const summary = await runBackfill(dir, down.url, { concurrency: 4, breaker: { window: 10, threshold: 0.8 } }, { maxAttempts: 2 });
        expect(summary.outcome).toBe('stopped');
        expect(summary.stopReason).toContain('circuit breaker');
        expect(summary.failed).toBeGreaterThanOrEqual(8);
        expect(summary.failed).toBeLessThan(20);
        // An outage says nothing about the wallets: none of them moves towards parking.
        const check = await openWarehouse(dir);
        const failed = await check.failedWallets();
        await check.close();
        expect(failed.length).toBe(summary.failed);
        expect(failed.every((f) => f.attempts === 0 && !f.parked)).toBe(true);
      });
    } finally {
      await down.close();
    }
  });
});
