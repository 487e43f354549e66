import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RunEvents } from '../../src/engine/run-events.js';
import { reloadStaged } from '../../src/engine/reload-staged.js';
import { LocalStageStore } from '../../src/staging/local/local-stage-store.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { TEST_RUN_OPTIONS, openWarehouse, paths, runBackfill, seedTraders } from '../../testkit/backfill-harness.js';
import { runArgs, runCli, startCli, waitFor } from '../../testkit/cli.js';
import { withWarehouseFaults } from '../../testkit/faulty-warehouse.js';
import { expectEqualsGroundTruth } from '../../testkit/ground-truth.js';
import { withTempDir } from '../../testkit/temp-dir.js';

describe('crash safety', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    // Small: every property here is about one or two wallets among the others, not about volume.
    sim = await startSimulator({ seed: 11, wallets: 30, maxTradesPerWallet: 600 });
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
      expect(summary).toMatchObject({ outcome: 'complete', loaded: 30, failed: 0, checkpointWriteFailures: 0 });
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
      expect(first).toMatchObject({ outcome: 'some-failed', failed: 1, loaded: 29 });
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
      expect(first).toMatchObject({ outcome: 'some-failed', failed: 1, loaded: 29 });
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

describe('one runner at a time, graceful stop (real child processes)', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    // Enough wallets that a signal lands mid-run under the latencies set below; the runs that finish
    // the job afterwards load them all, so more would only cost time.
    sim = await startSimulator({ seed: 13, wallets: 80, maxTradesPerWallet: 800 });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('of two runners started at once exactly one works; the other exits 75 naming the holder; a SIGKILLed holder is taken over at once by the next run', async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());
      sim.setLatency({ min: 5, max: 15 });
      // The simulator is shared by this block: count only this test's requests.
      sim.resetStats();
      // A long TTL: only the dead-holder check can explain a take-over within this test.
      const args = runArgs(paths(dir), sim.url, ['--lease-ttl', '10m', '--concurrency', '4']);
      const a = startCli(args);
      const b = startCli(args);
      const first = await Promise.race([a.result.then((r) => ({ r, other: b })), b.result.then((r) => ({ r, other: a }))]);
      expect(first.r.code).toBe(75);
      expect(first.r.stdout).toMatch(/another run holds the lock .*run .*; nothing done/);
      const holder = first.other;

      await waitFor(() => (sim.stats().requests['data:trades'] ?? 0) > 20);
      holder.child.kill('SIGKILL');
      await holder.result;
      // The dead holder's lease is far from expiry, but its process is gone: the next run takes over at once.
      sim.setLatency({ min: 0, max: 0 });
      const started = Date.now();
      const takeover = await runCli([...args, '--log-level', 'warn']);
      expect(takeover.stdout).not.toContain('another run holds the lock');
      expect(takeover.stderr).toMatch(/took over the run lease of .*: its process is gone/);
      expect(takeover.code).toBe(0);
      expect(Date.now() - started).toBeLessThan(60_000);
      const check = await openWarehouse(dir);
      await expectEqualsGroundTruth(check, sim.dataset);
      await check.close();
    });
  });

  it('two runners of one warehouse with two different --stage directories: the second is refused by the lease (not by DuckDB), exit 75, naming the lease', async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());
      // Slow enough that the first run is surely still working when the second starts, even on a loaded machine.
      sim.setLatency({ min: 100, max: 200 });
      // Counted from zero: requests left over from an earlier test of this block once let the second
      // runner start before the first held the lease, so the second won it and finished (exit 0).
      sim.resetStats();
      const first = startCli(runArgs(paths(dir), sim.url, ['--concurrency', '2']));
      await waitFor(() => (sim.stats().requests['data:trades'] ?? 0) > 0 && existsSync(`${paths(dir).warehouse}.leases/all.lease`));
      const second = await runCli(runArgs({ warehouse: paths(dir).warehouse, stage: `${dir}/other-stage` }, sim.url));
      first.child.kill('SIGTERM');
      await first.result;
      sim.setLatency({ min: 0, max: 0 });
      expect(second.code).toBe(75);
      expect(second.stdout).toContain(`another run holds the lock ${paths(dir).warehouse}.leases/all.lease`);
      expect(second.stderr).not.toMatch(/Could not open DuckDB|Could not set lock/);
    });
  });

  it('--max-runtime stops a run the same way: commits what is staged, exits 3, and says why', async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());
      // --max-runtime counts from process start (as a platform's task timeout does), so it must
      // cover Node's and DuckDB's start-up on a loaded machine, and the work must outlast it.
      sim.setLatency({ min: 80, max: 120 });
      const result = await runCli(runArgs(paths(dir), sim.url, ['--concurrency', '2', '--max-runtime', '5s', '--json', '--commit-interval', '100ms']));
      sim.setLatency({ min: 0, max: 0 });
      expect(result.code).toBe(3);
      const summary = JSON.parse(result.stdout.trim().split('\n').pop()!) as { outcome: string; stopReason: string; loaded: number };
      expect(summary).toMatchObject({ outcome: 'stopped' });
      expect(summary.stopReason).toContain('--max-runtime 5s');
      expect(summary.loaded).toBeGreaterThan(0);
      const check = await openWarehouse(dir);
      expect((await check.status()).completed).toBe(summary.loaded);
      await check.close();
    });
  });

  it('on SIGTERM a run stops taking wallets, commits what is staged, exits 3 within 8 s, and the next run finishes the job', async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());
      sim.setLatency({ min: 5, max: 15 });
      sim.resetStats();
      const run = startCli(runArgs(paths(dir), sim.url, ['--concurrency', '4', '--commit-every', '5', '--commit-interval', '100ms']));
      await waitFor(() => (sim.stats().requests['data:trades'] ?? 0) > 30);
      const sent = Date.now();
      run.child.kill('SIGTERM');
      const result = await run.result;
      const tookMs = Date.now() - sent;
      expect(result.code).toBe(3);
      expect(tookMs).toBeLessThan(8_000);
      sim.setLatency({ min: 0, max: 0 });
      const partial = await openWarehouse(dir);
      const status = await partial.status();
      await partial.close();
      expect(status.completed).toBeGreaterThan(0);
      expect(status.failed).toBe(0);
      const rest = await runCli(runArgs(paths(dir), sim.url));
      expect(rest.code).toBe(0);
      const check = await openWarehouse(dir);
      await expectEqualsGroundTruth(check, sim.dataset);
      await check.close();
    });
  });
});
