import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import type { BackfillOptions } from '../../src/engine/run-options.js';
import { normalizeMarket } from '../../src/polymarket/market-rows.js';
import type { DuckDbWarehouse } from '../../src/warehouse/duckdb/index.js';
import { clockBehind, openWarehouse, paths, runBackfill, seedTraders } from '../../testkit/backfill-harness.js';
import { runArgs, runCli, startCli, waitFor } from '../../testkit/cli.js';
import { expectEqualsGroundTruth } from '../../testkit/ground-truth.js';
import { withTempDir } from '../../testkit/temp-dir.js';

const REFRESH: BackfillOptions['refresh'] = { overlapSeconds: 3_600, marketRefreshAfterMs: 0 };

/** The winner the simulator now serves for a market, as the product derives it from Gamma. */
function expectedWinner(sim: RunningSimulator, conditionId: string): string | null {
  return normalizeMarket(sim.dataset.market(conditionId), new Date().toISOString()).winning_label;
}

async function marketState(wh: DuckDbWarehouse, ids: string[]): Promise<Map<string, { closed: boolean; winning_label: string | null }>> {
  const rows = await wh.query<{ condition_id: string; closed: boolean; winning_label: string | null }>('SELECT condition_id, closed, winning_label FROM markets');
  return new Map(rows.filter((r) => ids.includes(r.condition_id)).map((r) => [r.condition_id, r]));
}

/**
 * After the backfill, the world moves on: new fills (twins in one transaction, a transaction on the
 * overlap boundary, new markets) and resolutions. `refresh` brings the warehouse to the new ground
 * truth, fetching only what is new: one request per quiet wallet, never a refetch of history.
 */
describe('incremental refresh against a simulator with a time axis', () => {
  let sim: RunningSimulator;
  beforeEach(async () => {
    sim = await startSimulator({ seed: 61, wallets: 25, maxTradesPerWallet: 600, nowSeconds: clockBehind() });
  });
  afterEach(async () => {
    await sim.close();
  });

  it('brings the warehouse to the new ground truth: new fills once each (the overlap inserts nothing again), resolved markets carry their winners, quiet wallets cost one request', async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());
      expect(await runBackfill(dir, sim.url)).toMatchObject({ outcome: 'complete', loaded: 25 });

      const step = sim.advance({ seconds: 3 * 86_400, seed: 7 });
      expect(step.fills).toBeGreaterThan(0);
      expect(step.resolvedMarkets.length).toBeGreaterThan(0);
      sim.resetStats();
      const summary = await runBackfill(dir, sim.url, { refresh: REFRESH });
      expect(summary).toMatchObject({ mode: 'refresh', outcome: 'complete', loaded: 25, failed: 0 });
      // Markets held as open were looked up again (those first listed in this step were fetched already closed).
      expect(summary.markets?.resolved).toBeGreaterThan(0);
      // New activity (the redemptions of markets resolved in this step among it) and the new resolutions came too.
      expect(summary.activity).toBeGreaterThan(0);
      expect(summary.resolutions?.resolved).toBeGreaterThan(0);

      const stats = sim.stats();
      const quiet = sim.dataset.wallets().filter((w) => !step.wallets.includes(w));
      expect(quiet.length).toBeGreaterThan(0);
      for (const wallet of quiet) expect(stats.tradeRequestsByWallet[wallet], wallet).toBe(1);
      // The windows re-served rows already held (the overlap), yet the warehouse holds each fill once.
      expect(stats.tradeRowsServed).toBeGreaterThan(step.fills);
      const check = await openWarehouse(dir);
      try {
        await expectEqualsGroundTruth(check, sim.dataset);
        // Resolved markets that some wallet traded (the others were never the warehouse's business).
        const touched = new Set(sim.dataset.wallets().flatMap((w) => sim.dataset.conditionIds(w).resolvable));
        const resolved = step.resolvedMarkets.filter((id) => touched.has(id));
        expect(resolved.length).toBeGreaterThan(0);
        const markets = await marketState(check, resolved);
        for (const id of resolved) {
          expect(markets.get(id), id).toEqual({ condition_id: id, closed: true, winning_label: expectedWinner(sim, id) });
          expect(markets.get(id)?.winning_label, id).not.toBeNull();
        }
        const refreshed = await check.query<{ n: bigint }>('SELECT count(*) AS n FROM backfill_checkpoint WHERE refreshed_at IS NOT NULL AND refresh_error IS NULL AND last_trade_at IS NOT NULL');
        expect(Number(refreshed[0]!.n)).toBe(sim.dataset.wallets().filter((w) => sim.dataset.tradeCount(w) > 0).length);
        // The mission's monitoring figures still answer: every wallet done.
        expect(await check.status()).toMatchObject({ completed: 25, total: 25, percent_complete: 100, failed: 0, refresh: { failed: 0 } });
      } finally {
        await check.close();
      }

      // A second refresh with nothing new: one request per wallet, nothing loaded twice.
      sim.resetStats();
      await runBackfill(dir, sim.url, { refresh: REFRESH });
      const perWallet = Object.values(sim.stats().tradeRequestsByWallet);
      expect(perWallet).toHaveLength(25);
      expect(perWallet.every((n) => n === 1)).toBe(true);
      const again = await openWarehouse(dir);
      await expectEqualsGroundTruth(again, sim.dataset);
      await again.close();
    });
  });

  it('a refresh killed part-way (SIGKILL), then run again, ends in the same state; a failed refresh keeps the wallet completed and is shown apart', async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());
      expect((await runCli(runArgs(paths(dir), sim.url))).code).toBe(0);
      sim.advance({ seconds: 2 * 86_400, seed: 9, walletShare: 0.6 });

      sim.setLatency({ min: 20, max: 40 });
      const args = [...runArgs(paths(dir), sim.url, ['--concurrency', '2', '--market-refresh-after', '0s']), '--log-level', 'error'];
      args[0] = 'refresh';
      const killed = startCli(args);
      const before = sim.stats().requests['data:trades'] ?? 0;
      await waitFor(() => (sim.stats().requests['data:trades'] ?? 0) > before + 5);
      killed.child.kill('SIGKILL');
      await killed.result;
      sim.setLatency({ min: 0, max: 0 });
      const rerun = await runCli(args);
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(rerun.stdout).toMatch(/^refresh .*: complete — 25 wallet\(s\) refreshed/m);
      const check = await openWarehouse(dir);
      try {
        await expectEqualsGroundTruth(check, sim.dataset);
        const [status] = [await check.status()];
        expect(status).toMatchObject({ completed: 25, failed: 0 });
      } finally {
        await check.close();
      }

      // A refresh failure (the API down for one wallet) is recorded apart; the wallet stays completed.
      const wallet = sim.dataset.wallets()[3]!;
      const wh = await openWarehouse(dir);
      await wh.query("UPDATE backfill_checkpoint SET refresh_error = 'GET … failed with HTTP 503', refresh_attempts = 1 WHERE wallet_address = $w", { w: wallet });
      await wh.close();
      const failed = await runCli(['failed', '--json', '--warehouse', paths(dir).warehouse, '--stage', paths(dir).stage]);
      expect(failed.stdout.trim()).toBe('');
      const refreshFailed = await runCli(['failed', '--refresh', '--json', '--warehouse', paths(dir).warehouse, '--stage', paths(dir).stage]);
      expect(JSON.parse(refreshFailed.stdout.trim())).toMatchObject({ wallet_address: wallet, error: 'GET … failed with HTTP 503', attempts: 1 });
      const status = JSON.parse((await runCli(['status', '--json', '--warehouse', paths(dir).warehouse, '--stage', paths(dir).stage])).stdout) as {
        completed: number;
        failed: number;
        refresh: { failed: number };
      };
      expect(status).toMatchObject({ completed: 25, failed: 0, refresh: { failed: 1 } });
    });
  });

  it('`run --refresh` is one scheduled job: the backfill first, then the refresh; after the world moves on, the next one catches up', async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());
      const args = runArgs(paths(dir), sim.url, ['--refresh', '--market-refresh-after', '0s']);
      const first = await runCli(args);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/^run .*: complete — 25 wallet\(s\) loaded/m);
      expect(first.stdout).toMatch(/^refresh .*: complete — 25 wallet\(s\) refreshed, 0 failed, 0 invalid, \d+ new trades/m);
      sim.advance({ seconds: 86_400, seed: 3 });
      const second = await runCli(args);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toMatch(/^run .*: complete — 0 wallet\(s\) loaded/m);
      const check = await openWarehouse(dir);
      await expectEqualsGroundTruth(check, sim.dataset);
      await check.close();
    });
  });

  it('`traders discover --leaderboard` adds the board\'s wallets once each, tagged with their source', async () => {
    await withTempDir(async (dir) => {
      const store = ['--warehouse', paths(dir).warehouse, '--stage', paths(dir).stage, '--data-api-url', sim.url];
      const first = await runCli(['traders', 'discover', '--leaderboard', '--period', 'all', '--order-by', 'volume', '--count', '10', ...store]);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/leaderboard leaderboard:overall:all:VOLUME: 10 wallet\(s\) found, 10 new in traders/);
      // The category as typed is normalised before it is sent, and the source tag names what was sent.
      const again = await runCli(['traders', 'discover', '--leaderboard', '--category', ' OVERALL ', '--period', 'all', '--order-by', 'VOLUME', '--count', '15', ...store]);
      expect(again.stdout).toMatch(/15 wallet\(s\) found, 5 new in traders/);
      const wh = await openWarehouse(dir);
      const rows = await wh.query<{ wallet_address: string; source: string }>('SELECT wallet_address, source FROM traders');
      await wh.close();
      expect(rows).toHaveLength(15);
      expect(new Set(rows.map((r) => r.source))).toEqual(new Set(['leaderboard:overall:all:VOLUME']));
      for (const r of rows) expect(sim.dataset.wallets()).toContain(r.wallet_address);
      const bad = await runCli(['traders', 'discover', '--leaderboard', '--period', 'decade', ...store]);
      expect(bad.code).toBe(64);
    });
  });

  it('keyset-only and legacy-only Gamma give the same warehouse', async () => {
    const tables = async (gamma: 'keyset' | 'legacy') => {
      const server = await startSimulator({ seed: 62, wallets: 15, maxTradesPerWallet: 300, gamma });
      try {
        return await withTempDir(async (dir) => {
          await seedTraders(dir, server.dataset.wallets());
          expect(await runBackfill(dir, server.url)).toMatchObject({ outcome: 'complete' });
          const wh = await openWarehouse(dir);
          try {
            await expectEqualsGroundTruth(wh, server.dataset);
            return {
              markets: await wh.query('SELECT * EXCLUDE (fetched_at, loaded_at) FROM markets ORDER BY condition_id'),
              events: await wh.query('SELECT * EXCLUDE (fetched_at, loaded_at) FROM events ORDER BY event_id'),
              paging: server.stats().requestsByPath,
            };
          } finally {
            await wh.close();
          }
        });
      } finally {
        await server.close();
      }
    };
    const keyset = await tables('keyset');
    const legacy = await tables('legacy');
    expect(keyset.markets.length).toBeGreaterThan(0);
    expect(keyset.markets).toEqual(legacy.markets);
    expect(keyset.events).toEqual(legacy.events);
    expect(Object.keys(keyset.paging).some((p) => p.includes('keyset'))).toBe(true);
    expect(Object.keys(legacy.paging).some((p) => p.includes('keyset') && (legacy.paging[p] ?? 0) > 2)).toBe(false);
  });
});
