import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { replayBatch } from '../../src/engine/wallet-stats.js';
import { HttpClient } from '../../src/polymarket/http-client.js';
import { normalizeMarket } from '../../src/polymarket/market-rows.js';
import { PNL_CHECK_RATE_LIMITS, latestUserPnl, walletClosedPositions } from '../../src/polymarket/pnl-api.js';
import { RateLimiter } from '../../src/polymarket/rate-limiter.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import type { DuckDbWarehouse } from '../../src/warehouse/duckdb/index.js';
import type { PnlBatchInputs } from '../../src/warehouse/warehouse.js';
import { UNTHROTTLED, clockBehind, noSleep, openWarehouse, runBackfill, seedTraders } from '../../testkit/backfill-harness.js';
import { withTempDir } from '../../testkit/temp-dir.js';

/**
 * Positions and wallet_stats as a backfill leaves them, against the simulator's own /v2/positions and /v2/user-pnl
 * (computed there by a replay of its own, not by src/pnl): every wallet's realized profit, in total and per closed
 * token, is exactly the simulator's where the warehouse holds the neg-risk groups its conversions need, and with the
 * members it lacks added where not. A refresh that brings one wallet a new fill rewrites that wallet's rows only.
 */
describe('positions and wallet_stats against the simulator', () => {
  let sim: RunningSimulator;
  let http: HttpClient;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 23, wallets: 24, maxTradesPerWallet: 300, nowSeconds: clockBehind() });
    const limits = Object.fromEntries(Object.keys(PNL_CHECK_RATE_LIMITS).map((key) => [key, UNTHROTTLED['data:trades']]));
    http = new HttpClient({ rateLimiter: new RateLimiter({ ...UNTHROTTLED, ...limits }), timeoutMs: 30_000, maxAttempts: 3, maxInFlight: 4, sleep: noSleep });
  });
  afterAll(async () => {
    await http.close();
    await sim.close();
  });

  const statsOf = async (wh: DuckDbWarehouse) =>
    new Map(
      (await wh.query<{ proxy_wallet: string; realized_pnl: number; stale: boolean; computed_at: unknown; fingerprint: string; skipped: string }>('SELECT proxy_wallet, realized_pnl, stale, computed_at, fingerprint, skipped FROM wallet_stats')).map((r) => [
        r.proxy_wallet,
        r,
      ]),
    );

  /**
   * The warehouse holds the markets its wallets' rows name. A conversion hands out YES of every other question of its
   * neg-risk group, and its price depends on how many questions the group has: members that no wallet traded are not
   * held (Gamma events are fetched without their markets), so the replay skips their YES tokens
   * (skipped.unknown_market_activity) and may count the group short. This adds the simulator's whole groups.
   */
  const withWholeGroups = (inputs: PnlBatchInputs): PnlBatchInputs => {
    const markets = new Map(inputs.markets.map((m) => [m.condition_id, m]));
    for (const market of inputs.markets) {
      if (!market.neg_risk) continue;
      for (const eventId of sim.dataset.eventIdsOfMarket(market.condition_id)) {
        for (const member of (sim.dataset.event(eventId) as { markets: unknown[] }).markets) {
          const record = normalizeMarket(member, new Date(0).toISOString());
          if (!markets.has(record.condition_id)) markets.set(record.condition_id, { ...record, raw: record.raw });
        }
      }
    }
    return { ...inputs, markets: [...markets.values()] };
  };

  it("every wallet's realized profit, in total and per closed token, equals the simulator's, where the warehouse holds its conversions' groups whole; where not, the members it lacks are the only difference", async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());
      const summary = await runBackfill(dir, sim.url);
      expect(summary).toMatchObject({ outcome: 'complete', loaded: 24 });
      expect(summary.stats?.sweep?.wallets).toBe(24);
      const wh = await openWarehouse(dir);
      try {
        const stats = await statsOf(wh);
        expect(stats.size).toBe(24);
        let closedTokens = 0;
        const whole: string[] = [];
        const short: string[] = [];
        const mismatches: string[] = [];
        /** Differences between two figures per closed token (a token missing on one side counts as 0). */
        const differences = (wallet: string, ours: Map<string, number>, theirs: Map<string, number | null>): string[] =>
          [...new Set([...ours.keys(), ...theirs.keys()])]
            .filter((token) => (ours.get(token) ?? 0) !== (theirs.get(token) ?? 0))
            .map((token) => `${wallet} token ${token}: ours ${ours.get(token)} theirs ${theirs.get(token)}`);
        for (const wallet of sim.dataset.wallets()) {
          const ours = stats.get(wallet)!;
          expect(ours.stale, wallet).toBe(false);
          const theirs = await latestUserPnl(http, sim.url, wallet);
          if (theirs === null) {
            expect(ours.realized_pnl, wallet).toBe(0);
            continue;
          }
          const theirClosed = new Map((await walletClosedPositions(http, sim.url, wallet)).map((p) => [p.token_id, p.realized_pnl]));
          closedTokens += theirClosed.size;
          if ((JSON.parse(ours.skipped) as { unknown_market_activity: number }).unknown_market_activity === 0) {
            whole.push(wallet);
            if (ours.realized_pnl !== theirs.realized_pnl) mismatches.push(`${wallet}: ours ${ours.realized_pnl} theirs ${theirs.realized_pnl}`);
            const positions = await wh.query<{ token_id: string; realized_pnl: number }>(`SELECT token_id, realized_pnl FROM positions WHERE proxy_wallet = $w AND status = 'closed'`, { w: wallet });
            mismatches.push(...differences(wallet, new Map(positions.map((p) => [p.token_id, p.realized_pnl])), theirClosed));
          } else {
            // The same rows, with the groups whole: exactly the simulator's.
            short.push(wallet);
            const [rows] = replayBatch([wallet], withWholeGroups(await wh.readPnlInputs([wallet])), 'now');
            if (rows!.stats.realized_pnl !== theirs.realized_pnl) mismatches.push(`${wallet} (whole groups): ours ${String(rows!.stats.realized_pnl)} theirs ${theirs.realized_pnl}`);
            const closed = rows!.positions.filter((p) => p.status === 'closed');
            mismatches.push(...differences(wallet, new Map(closed.map((p) => [String(p.token_id), Number(p.realized_pnl)])), theirClosed));
          }
        }
        expect(mismatches).toEqual([]);
        // The comparison covered every kind of row that moves a position, and both kinds of wallet.
        const types = new Map((await wh.query<{ type: string; n: bigint }>('SELECT type, count(*) AS n FROM activity GROUP BY type')).map((t) => [t.type, Number(t.n)]));
        for (const type of ['SPLIT', 'MERGE', 'REDEEM', 'CONVERSION']) expect(types.get(type) ?? 0, type).toBeGreaterThan(10);
        expect(whole.length).toBeGreaterThan(12);
        expect(short.length).toBeGreaterThan(0);
        expect(closedTokens).toBeGreaterThan(100);
      } finally {
        await wh.close();
      }
    });
  }, 60_000);

  it("a refresh that brings one wallet a new fill rewrites that wallet's rows only, and its new figures are the simulator's", async () => {
    const local = await startSimulator({ seed: 29, wallets: 10, maxTradesPerWallet: 200, nowSeconds: clockBehind() });
    try {
      await withTempDir(async (dir) => {
        await seedTraders(dir, local.dataset.wallets());
        expect(await runBackfill(dir, local.url)).toMatchObject({ outcome: 'complete', loaded: 10 });
        const positionsOf = async (wh: DuckDbWarehouse) =>
          new Map(
            (await wh.query<Record<string, unknown> & { proxy_wallet: string }>('SELECT * FROM positions ORDER BY proxy_wallet, token_id')).reduce((byWallet, row) => {
              byWallet.set(row.proxy_wallet, [...(byWallet.get(row.proxy_wallet) ?? []), JSON.stringify(row, (_, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))]);
              return byWallet;
            }, new Map<string, string[]>()),
          );
        let before = await openWarehouse(dir);
        const statsBefore = await statsOf(before);
        const positionsBefore = await positionsOf(before);
        await before.close();

        // One wallet trades again (walletShare 0 leaves the one the simulator always picks); nothing resolves.
        const step = local.advance({ seconds: 86_400, seed: 5, walletShare: 0, resolveShare: 0 });
        expect(step.wallets).toHaveLength(1);
        const [moved] = step.wallets as [string];
        const refresh = await runBackfill(dir, local.url, { refresh: { overlapSeconds: 3_600, marketRefreshAfterMs: 0 } });
        expect(refresh).toMatchObject({ mode: 'refresh', outcome: 'complete', loaded: 10 });
        expect(refresh.trades).toBe(step.fills);

        before = await openWarehouse(dir);
        try {
          const statsAfter = await statsOf(before);
          const positionsAfter = await positionsOf(before);
          for (const wallet of local.dataset.wallets()) {
            const was = statsBefore.get(wallet)!;
            const is = statsAfter.get(wallet)!;
            expect(is.stale, wallet).toBe(false);
            if (wallet === moved) {
              expect(is.fingerprint, wallet).not.toBe(was.fingerprint);
              expect(positionsAfter.get(wallet), wallet).not.toEqual(positionsBefore.get(wallet));
            } else {
              // Recomputed (the refresh loaded every wallet's window) but found the same figures: nothing rewritten.
              expect(is, wallet).toEqual(was);
              expect(positionsAfter.get(wallet), wallet).toEqual(positionsBefore.get(wallet));
            }
          }
          const theirs = await latestUserPnl(http, local.url, moved);
          expect(statsAfter.get(moved)!.realized_pnl).toBe(theirs?.realized_pnl);
        } finally {
          await before.close();
        }
      });
    } finally {
      await local.close();
    }
  }, 60_000);
});
