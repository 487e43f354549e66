/**
 * One runner at a time and graceful stops, through the real CLI in child processes: a second runner
 * is refused by the lease, a SIGKILLed holder is taken over at once, SIGTERM and --max-runtime
 * commit what is staged and exit 3. (The warehouse-fault half of crash safety is crash-safety.test.ts.)
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { openWarehouse, paths, seedTraders } from '../../testkit/backfill-harness.js';
import { runArgs, runCli, startCli, waitFor } from '../../testkit/cli.js';
import { expectEqualsGroundTruth } from '../../testkit/ground-truth.js';
import { withTempDir } from '../../testkit/temp-dir.js';

describe('one runner at a time, graceful stop (real child processes)', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    // Enough wallets that a signal lands mid-run under the latencies set below; the runs that finish
    // the job afterwards load them all, so more would only cost time.
    // Enough wallets that a run at the latencies below outlasts every signal and --max-runtime 5s (60 wallets × about
    // three 100 ms round trips, two at a time, is 9 s), few fills each: what is measured is stopping, not loading.
    sim = await startSimulator({ seed: 13, wallets: 60, maxTradesPerWallet: 400 });
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
