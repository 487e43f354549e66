import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openBackfill, resolveConfig } from '../../src/index.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { DuckDbWarehouse } from '../../src/warehouse/duckdb/index.js';
import { withTempDir } from '../../testkit/temp-dir.js';
import { UNTHROTTLED_SPEC } from '../../testkit/cli.js';

/** The package's library entry point, used as README shows it, against the simulator. */
describe('openBackfill (the library under the CLI)', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 11, wallets: 15, maxTradesPerWallet: 400 });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('runs a backfill from code with the same defaults as the CLI, and a second run over the same warehouse while the first holds the lease is refused', async () => {
    await withTempDir(async (dir) => {
      const config = resolveConfig(
        { warehouse: join(dir, 'wh.duckdb'), stage: join(dir, 'stage'), dataApiUrl: sim.url, gammaApiUrl: sim.url, rateLimit: UNTHROTTLED_SPEC },
        {},
      );
      expect(config.run.commitEvery).toBe(50);
      expect(config.exitCodes).toBe('strict');
      const setup = openBackfill(config);
      expect(await setup.addTraders(sim.dataset.wallets(), 'library')).toBe(15);
      await setup.close();
      // Two runners of one warehouse (one process here; the lease is taken before the file is opened).
      const backfill = openBackfill(config);
      const other = openBackfill({ ...config, stage: join(dir, 'another-stage') });
      try {
        const results = await Promise.all([backfill.run(), other.run()]);
        const finished = results.filter((r) => r.kind === 'finished');
        const refused = results.filter((r) => r.kind === 'lock-held');
        expect(finished).toEqual([expect.objectContaining({ summary: expect.objectContaining({ outcome: 'complete', loaded: 15 }) })]);
        expect(refused).toEqual([expect.objectContaining({ location: `${join(dir, 'wh.duckdb')}.leases/all.lease` })]);
      } finally {
        await backfill.close();
        await other.close();
      }
      const after = openBackfill(config);
      try {
        expect(await after.status()).toMatchObject({ completed: 15, total: 15, percent_complete: 100 });
        expect(await after.failed()).toEqual([]);
      } finally {
        await after.close();
      }
      // The finished run is recorded once, with its figures (no bytes billed on DuckDB).
      const check = await DuckDbWarehouse.open({ path: join(dir, 'wh.duckdb') });
      try {
        const runs = await check.query<{ mode: string; outcome: string; planned: bigint; loaded: bigint; failed: bigint; trades: bigint; bytes_billed: bigint; finished_at: unknown; started_at: unknown }>('SELECT * FROM backfill_runs');
        const trades = sim.dataset.wallets().reduce((sum, w) => sum + sim.dataset.tradeCount(w), 0);
        expect(runs).toHaveLength(1);
        expect(runs[0]).toMatchObject({ mode: 'backfill', outcome: 'complete', planned: 15n, loaded: 15n, failed: 0n, trades: BigInt(trades), bytes_billed: 0n });
        expect(runs[0]!.finished_at).toBeInstanceOf(Date);
        expect((runs[0]!.finished_at as Date).getTime()).toBeGreaterThanOrEqual((runs[0]!.started_at as Date).getTime());
      } finally {
        await check.close();
      }
    });
  });

  it('run --refresh with a missing --wallets file fails before the backfill starts: no request, no checkpoint', async () => {
    await withTempDir(async (dir) => {
      const config = resolveConfig(
        { warehouse: join(dir, 'wh.duckdb'), stage: join(dir, 'stage'), dataApiUrl: sim.url, gammaApiUrl: sim.url, wallets: join(dir, 'missing.txt') },
        {},
      );
      const backfill = openBackfill(config);
      try {
        await backfill.addTraders(sim.dataset.wallets(), 'library');
        sim.resetStats();
        await expect(backfill.run({ refresh: true })).rejects.toThrow(/missing\.txt/);
        expect(sim.stats().requests['data:trades'] ?? 0).toBe(0);
        expect(await backfill.status()).toMatchObject({ completed: 0, failed: 0 });
      } finally {
        await backfill.close();
      }
    });
  });

  it('resolves every default once, lets flags beat the environment, and refuses out-of-range options naming the range', () => {
    expect(resolveConfig({}, { BACKFILL_WAREHOUSE: '/env.duckdb' }).warehouse).toBe('/env.duckdb');
    expect(resolveConfig({ warehouse: '/flag.duckdb' }, { BACKFILL_WAREHOUSE: '/env.duckdb' }).warehouse).toBe('/flag.duckdb');
    expect(resolveConfig({}, { CLOUD_RUN_JOB: 'job' })).toMatchObject({ exitCodes: 'schedule', logFormat: 'gcp' });
    expect(() => resolveConfig({ concurrency: '100000' }, {})).toThrow(/--concurrency "100000" must be a whole number from 1 to 256/);
    expect(() => resolveConfig({ leaseTtl: '0' }, {})).toThrow(/--lease-ttl "0" is out of range. Allowed: 1s to 1h/);
    expect(() => resolveConfig({ logLevel: 'silly' }, {})).toThrow(/--log-level "silly" is not one of fatal, error, warn, info, debug, trace, silent/);
    expect(() => resolveConfig({ exitCodes: 'lenient' }, {})).toThrow(/--exit-codes/);
  });
});
