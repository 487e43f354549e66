import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { HttpClient } from '../../src/polymarket/http-client.js';
import { PNL_CHECK_RATE_LIMITS, latestUserPnl, walletClosedPositions } from '../../src/polymarket/pnl-api.js';
import { RateLimiter } from '../../src/polymarket/rate-limiter.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import type { DuckDbWarehouse } from '../../src/warehouse/duckdb/index.js';
import { UNTHROTTLED, clockBehind, noSleep, openWarehouse, runBackfill, seedTraders } from '../../testkit/backfill-harness.js';
import { withTempDir } from '../../testkit/temp-dir.js';

/**
 * Positions and wallet_stats as a backfill leaves them, against the simulator's own /v2/positions and /v2/user-pnl
 * (computed there by a replay of its own, not by src/pnl): every wallet's realized profit, in total and per closed
 * token, is exactly the simulator's. A refresh that brings one wallet a new fill rewrites that wallet's rows only.
 */
describe('positions and wallet_stats against the simulator', () => {
  let sim: RunningSimulator;
  let http: HttpClient;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 23, wallets: 30, maxTradesPerWallet: 400, nowSeconds: clockBehind() });
    const limits = Object.fromEntries(Object.keys(PNL_CHECK_RATE_LIMITS).map((key) => [key, UNTHROTTLED['data:trades']]));
    http = new HttpClient({ rateLimiter: new RateLimiter({ ...UNTHROTTLED, ...limits }), timeoutMs: 30_000, maxAttempts: 3, maxInFlight: 4, sleep: noSleep });
  });
  afterAll(async () => {
    await http.close();
    await sim.close();
  });

  const statsOf = async (wh: DuckDbWarehouse) =>
    new Map(
      (await wh.query<{ proxy_wallet: string; realized_pnl: number; stale: boolean; computed_at: unknown; fingerprint: string }>('SELECT proxy_wallet, realized_pnl, stale, computed_at, fingerprint FROM wallet_stats')).map((r) => [
        r.proxy_wallet,
        r,
      ]),
    );

  it("every wallet's realized profit, in total and per closed token, equals the simulator's after a backfill", async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());
      const summary = await runBackfill(dir, sim.url);
      expect(summary).toMatchObject({ outcome: 'complete', loaded: 30 });
      expect(summary.stats?.recomputed).toBe(30);
      const wh = await openWarehouse(dir);
      try {
        const stats = await statsOf(wh);
        expect(stats.size).toBe(30);
        let compared = 0;
        let closedTokens = 0;
        const mismatches: string[] = [];
        for (const wallet of sim.dataset.wallets()) {
          const ours = stats.get(wallet)!;
          expect(ours.stale, wallet).toBe(false);
          const theirs = await latestUserPnl(http, sim.url, wallet);
          if (theirs === null) {
            expect(ours.realized_pnl, wallet).toBe(0);
            continue;
          }
          if (ours.realized_pnl !== theirs.realized_pnl) mismatches.push(`${wallet}: ours ${ours.realized_pnl} theirs ${theirs.realized_pnl}`);
          const positions = await wh.query<{ token_id: string; realized_pnl: number }>(`SELECT token_id, realized_pnl FROM positions WHERE proxy_wallet = $w AND status = 'closed'`, { w: wallet });
          const ourClosed = new Map(positions.map((p) => [p.token_id, p.realized_pnl]));
          const theirClosed = new Map((await walletClosedPositions(http, sim.url, wallet)).map((p) => [p.token_id, p.realized_pnl]));
          for (const token of new Set([...ourClosed.keys(), ...theirClosed.keys()])) {
            if ((ourClosed.get(token) ?? 0) !== (theirClosed.get(token) ?? 0)) mismatches.push(`${wallet} token ${token}: ours ${ourClosed.get(token)} theirs ${theirClosed.get(token)}`);
          }
          compared += 1;
          closedTokens += theirClosed.size;
        }
        expect(mismatches).toEqual([]);
        // The comparison covered every kind of row that moves a position.
        const types = new Map((await wh.query<{ type: string; n: bigint }>('SELECT type, count(*) AS n FROM activity GROUP BY type')).map((t) => [t.type, Number(t.n)]));
        for (const type of ['SPLIT', 'MERGE', 'REDEEM', 'CONVERSION']) expect(types.get(type) ?? 0, type).toBeGreaterThan(10);
        expect(compared).toBeGreaterThan(20);
        expect(closedTokens).toBeGreaterThan(100);
      } finally {
        await wh.close();
      }
    });
  }, 60_000);

  it("a refresh that brings one wallet a new fill rewrites that wallet's rows only, and its new figures are the simulator's", async () => {
    const local = await startSimulator({ seed: 29, wallets: 12, maxTradesPerWallet: 300, nowSeconds: clockBehind() });
    try {
      await withTempDir(async (dir) => {
        await seedTraders(dir, local.dataset.wallets());
        expect(await runBackfill(dir, local.url)).toMatchObject({ outcome: 'complete', loaded: 12 });
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
        expect(refresh).toMatchObject({ mode: 'refresh', outcome: 'complete', loaded: 12 });
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
