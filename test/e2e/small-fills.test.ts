import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { openWarehouse, paths, runBackfill, seedTraders } from '../../testkit/backfill-harness.js';
import { runArgs, runCli } from '../../testkit/cli.js';
import { withWarehouseFaults } from '../../testkit/faulty-warehouse.js';
import { expectEqualsGroundTruth } from '../../testkit/ground-truth.js';
import { withTempDir } from '../../testkit/temp-dir.js';
import { startFilterAmountRefusingApi } from '../fakes/filter-amount-refusing-api.js';
import type { RunningRefusingApi } from '../fakes/filter-amount-refusing-api.js';

/**
 * Fills under 0.01 shares, end to end over loopback HTTP and real DuckDB files. The Data API v2
 * document says `filter_amount` "defaults to 0.01, and 0 means the same": a client sending 0 loses
 * them. Ours asks with 0.000001 and gets them; against an API that refuses the parameter it falls
 * back to the default, warns once, and every checkpoint of the run says the small fills are missing.
 */

const DUST = 0.01;

describe('fills under 0.01 shares', () => {
  let sim: RunningSimulator;
  let refusing: RunningRefusingApi;
  let wallets: string[];
  beforeAll(async () => {
    sim = await startSimulator({ seed: 23, wallets: 8, maxTradesPerWallet: 2500 });
    refusing = await startFilterAmountRefusingApi(sim.url);
    wallets = sim.dataset.wallets();
  });
  afterAll(async () => {
    await refusing.close();
    await sim.close();
  });

  const dustIn = (wallet: string) => [...sim.dataset.fills(wallet)].filter((fill) => fill.size < DUST).length;

  /** Trades held per wallet, and of those the ones under 0.01 shares. */
  async function held(dir: string): Promise<Map<string, { all: number; dust: number }>> {
    const warehouse = await openWarehouse(dir);
    try {
      const rows = await warehouse.query<{ w: string; all: bigint; dust: bigint }>(
        'SELECT proxy_wallet AS w, count(*) AS "all", count(*) FILTER (WHERE size < $dust) AS dust FROM trades GROUP BY 1',
        { dust: DUST },
      );
      return new Map(rows.map((r) => [r.w, { all: Number(r.all), dust: Number(r.dust) }]));
    } finally {
      await warehouse.close();
    }
  }

  async function flags(dir: string): Promise<Record<string, unknown>> {
    const warehouse = await openWarehouse(dir);
    try {
      const rows = await warehouse.query<{ w: string; x: unknown; ok: boolean }>(
        'SELECT wallet_address AS w, small_fills_excluded AS x, upload_successful AS ok FROM backfill_checkpoint ORDER BY 1',
      );
      expect(rows.every((r) => r.ok)).toBe(true);
      return Object.fromEntries(rows.map((r) => [r.w, r.x]));
    } finally {
      await warehouse.close();
    }
  }

  it('filter_amount=0 drops them, as the document says; a run asks with 0.000001 and loads every one (ground truth, dust included)', async () => {
    const withDust = wallets.filter((wallet) => dustIn(wallet) > 0);
    expect(withDust.length).toBeGreaterThan(0);
    const wallet = withDust[0]!;
    // What a client sending filter_amount=0 gets: every fill but the small ones.
    let rows = 0;
    let cursor: string | null = null;
    do {
      const response: Response = await fetch(
        `${sim.url}/v2/trades?user=${wallet}&taker_only=false&start=1&limit=1000&filter_amount=0${cursor ? `&cursor=${cursor}` : ''}`,
      );
      const body = (await response.json()) as { data: { size: number }[]; pagination: { next_cursor: string | null } };
      expect(body.data.every((row) => row.size >= DUST)).toBe(true);
      rows += body.data.length;
      cursor = body.pagination.next_cursor;
    } while (cursor !== null);
    expect(rows).toBe(sim.dataset.tradeCount(wallet) - dustIn(wallet));

    await withTempDir(async (dir) => {
      await seedTraders(dir, wallets);
      const summary = await runBackfill(dir, sim.url);
      expect(summary).toMatchObject({ outcome: 'complete', loaded: wallets.length });
      const check = await openWarehouse(dir);
      await expectEqualsGroundTruth(check, sim.dataset);
      await check.close();
      const counts = await held(dir);
      for (const w of withDust) expect(counts.get(w)?.dust, w).toBe(dustIn(w));
      expect(Object.values(await flags(dir))).toEqual(wallets.map(() => false));
    });
  });

  it('against an API that refuses filter_amount: exit 0, one warning for the run, every fill of 0.01 shares or more loaded, and every checkpoint says small_fills_excluded', async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, wallets);
      const result = await runCli(runArgs(paths(dir), refusing.url, ['--log-level', 'warn', '--concurrency', '4']));
      expect(result.code, result.stderr).toBe(0);
      const warnings = result.stderr.split('\n').filter((line) => line.includes('refused filter_amount=0.000001'));
      expect(warnings, result.stderr).toHaveLength(1);
      expect(warnings[0]).toContain('for the rest of this run /v2/trades is asked without it');
      // The walks that asked before the first refusal came back, and none after it.
      expect(refusing.refused()).toBeGreaterThanOrEqual(1);
      expect(refusing.refused()).toBeLessThanOrEqual(4);

      const counts = await held(dir);
      for (const wallet of wallets) {
        expect(counts.get(wallet), wallet).toEqual({ all: sim.dataset.tradeCount(wallet) - dustIn(wallet), dust: 0 });
      }
      expect(Object.values(await flags(dir))).toEqual(wallets.map(() => true));
    });
  });

  it('a bundle staged under the fallback keeps saying so when a later run loads it from the stage without calling the API', async () => {
    await withTempDir(async (dir) => {
      const [wallet] = wallets;
      await seedTraders(dir, [wallet!]);
      // Run 1 stages under the fallback, and its load fails (a warehouse outage): the staged bundle stays.
      const first = await runBackfill(dir, refusing.url, {}, {}, undefined, (inner) => withWarehouseFaults(inner, { failLoads: 100 }).warehouse);
      expect(first).toMatchObject({ loaded: 0, failed: 1 });
      // Run 2 talks to an API that accepts filter_amount, but reuses the staged bundle instead.
      sim.resetStats();
      const second = await runBackfill(dir, sim.url);
      expect(second).toMatchObject({ outcome: 'complete', loaded: 1 });
      expect(sim.stats().requests['data:trades']).toBe(0);
      expect(await flags(dir)).toEqual({ [wallet!]: true });
    });
  });
});
