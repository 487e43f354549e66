import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { HttpClient } from '../../src/polymarket/http-client.js';
import { PNL_CHECK_RATE_LIMITS, latestUserPnl, walletClosedPositions } from '../../src/polymarket/pnl-api.js';
import { RateLimiter } from '../../src/polymarket/rate-limiter.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import type { DuckDbWarehouse } from '../../src/warehouse/duckdb/index.js';
import { UNTHROTTLED, clockBehind, noSleep, openWarehouse, runBackfill, seedTraders } from '../../testkit/backfill-harness.js';
import { withTempDir } from '../../testkit/temp-dir.js';
import { listen } from '../fakes/http-util.js';

/**
 * Positions and wallet_stats as a backfill leaves them, against the simulator's own /v2/positions and /v2/user-pnl
 * (computed there by a replay of its own, not by src/pnl): every wallet's realized profit, in total and per closed
 * token, is exactly the simulator's, the backfill having loaded every member of the neg-risk groups its wallets
 * converted in. A refresh that brings one wallet a new fill rewrites that wallet's rows only.
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

  /** Every member market of every neg-risk event the simulator lists a market of `ids` in. */
  const groupMembers = (ids: Iterable<string>): Set<string> => {
    const members = new Set<string>();
    for (const id of ids) {
      for (const eventId of sim.dataset.eventIdsOfMarket(id)) {
        const event = sim.dataset.event(eventId) as { negRisk?: boolean; markets: { conditionId: string }[] };
        if (event.negRisk) for (const m of event.markets) members.add(m.conditionId.toLowerCase());
      }
    }
    return members;
  };

  it("every wallet's realized profit, in total and per closed token, equals the simulator's: the warehouse holds every neg-risk group whole, members no wallet traded included", async () => {
    await withTempDir(async (dir) => {
      await seedTraders(dir, sim.dataset.wallets());
      const summary = await runBackfill(dir, sim.url);
      expect(summary).toMatchObject({ outcome: 'complete', loaded: 24 });
      expect(summary.stats?.sweep?.wallets).toBe(24);
      const wh = await openWarehouse(dir);
      try {
        // The groups are whole: every member of a group any wallet touched is held, though no wallet traded some.
        const traded = new Set(sim.dataset.wallets().flatMap((w) => sim.dataset.conditionIds(w).resolvable));
        const members = groupMembers(traded);
        const held = new Set((await wh.query<{ id: string }>('SELECT condition_id AS id FROM markets')).map((r) => r.id));
        expect([...members].filter((id) => !held.has(id))).toEqual([]);
        const untraded = [...members].filter((id) => !traded.has(id));
        expect(untraded.length).toBeGreaterThan(0);

        const stats = await statsOf(wh);
        expect(stats.size).toBe(24);
        let closedTokens = 0;
        let withUntradedMembers = 0;
        const mismatches: string[] = [];
        for (const wallet of sim.dataset.wallets()) {
          const ours = stats.get(wallet)!;
          expect(ours.stale, wallet).toBe(false);
          expect(JSON.parse(ours.skipped), wallet).toMatchObject({ unknown_market_activity: 0 });
          const conversions = [...sim.dataset.activity(wallet)].filter((a) => a.type === 'CONVERSION').map((a) => a.condition_id);
          if ([...groupMembers(conversions)].some((id) => !traded.has(id))) withUntradedMembers += 1;
          const theirs = await latestUserPnl(http, sim.url, wallet);
          if (theirs === null) {
            expect(ours.realized_pnl, wallet).toBe(0);
            continue;
          }
          if (ours.realized_pnl !== theirs.realized_pnl) mismatches.push(`${wallet}: ours ${ours.realized_pnl} theirs ${theirs.realized_pnl}`);
          const theirClosed = new Map((await walletClosedPositions(http, sim.url, wallet)).map((p) => [p.token_id, p.realized_pnl]));
          closedTokens += theirClosed.size;
          const positions = await wh.query<{ token_id: string; realized_pnl: number }>(`SELECT token_id, realized_pnl FROM positions WHERE proxy_wallet = $w AND status = 'closed'`, { w: wallet });
          const ourClosed = new Map(positions.map((p) => [p.token_id, p.realized_pnl]));
          // A token missing on one side counts as 0.
          for (const token of new Set([...ourClosed.keys(), ...theirClosed.keys()])) {
            if ((ourClosed.get(token) ?? 0) !== (theirClosed.get(token) ?? 0)) mismatches.push(`${wallet} token ${token}: ours ${ourClosed.get(token)} theirs ${theirClosed.get(token)}`);
          }
        }
        expect(mismatches).toEqual([]);
        // The comparison covered every kind of row that moves a position, and wallets converting in groups whose
        // members no wallet traded (the ones a warehouse without them gets wrong).
        const types = new Map((await wh.query<{ type: string; n: bigint }>('SELECT type, count(*) AS n FROM activity GROUP BY type')).map((t) => [t.type, Number(t.n)]));
        for (const type of ['SPLIT', 'MERGE', 'REDEEM', 'CONVERSION']) expect(types.get(type) ?? 0, type).toBeGreaterThan(10);
        expect(withUntradedMembers).toBeGreaterThan(0);
        expect(closedTokens).toBeGreaterThan(100);
      } finally {
        await wh.close();
      }
    });
  }, 60_000);

  it('a warehouse filled before events came with their markets (groups held without the members no wallet traded, market_ids NULL) gets them on the next run, and every wallet then agrees with the simulator; the run after asks nothing', async () => {
    // Gamma as the product asked it before: events without their markets.
    const oldGamma = await listen((req, res) => {
      const url = new URL(req.url ?? '/', sim.url);
      if (url.pathname === '/events' || url.pathname === '/events/keyset') url.searchParams.set('include_markets', 'false');
      void fetch(url).then(async (answer) => {
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
        res.end(Buffer.from(await answer.arrayBuffer()));
      });
    });
    const agreeing = async (dir: string) => {
      const wh = await openWarehouse(dir);
      try {
        const stats = await statsOf(wh);
        const differ: string[] = [];
        for (const wallet of sim.dataset.wallets()) {
          const theirs = (await latestUserPnl(http, sim.url, wallet))?.realized_pnl ?? 0;
          if (stats.get(wallet)!.realized_pnl !== theirs) differ.push(wallet);
        }
        return differ;
      } finally {
        await wh.close();
      }
    };
    try {
      await withTempDir(async (dir) => {
        await seedTraders(dir, sim.dataset.wallets());
        expect(await runBackfill(dir, sim.url, {}, { gammaApiUrl: oldGamma.url })).toMatchObject({ outcome: 'complete', loaded: 24 });
        const traded = new Set(sim.dataset.wallets().flatMap((w) => sim.dataset.conditionIds(w).resolvable));
        const untraded = [...groupMembers(traded)].filter((id) => !traded.has(id));
        let wh = await openWarehouse(dir);
        const negRiskEvents = (await wh.query<{ n: bigint }>('SELECT count(*) AS n FROM events WHERE neg_risk AND market_ids IS NULL'))[0]!.n;
        const marketsBefore = (await wh.query<{ n: bigint }>('SELECT count(*) AS n FROM markets'))[0]!.n;
        await wh.close();
        expect(Number(negRiskEvents)).toBeGreaterThan(0);
        expect((await agreeing(dir)).length).toBeGreaterThan(0);

        const next = await runBackfill(dir, sim.url);
        expect(next).toMatchObject({ outcome: 'complete', planned: 0 });
        expect(next.lookups).toMatchObject({ groups: Number(negRiskEvents), members: untraded.length });
        wh = await openWarehouse(dir);
        try {
          expect(Number((await wh.query<{ n: bigint }>('SELECT count(*) AS n FROM markets'))[0]!.n)).toBe(Number(marketsBefore) + untraded.length);
          expect(await wh.query('SELECT event_id FROM events WHERE neg_risk AND market_ids IS NULL')).toEqual([]);
        } finally {
          await wh.close();
        }
        expect(await agreeing(dir)).toEqual([]);
        expect((await runBackfill(dir, sim.url)).lookups).toBeUndefined();

        // A member lost after its event was listed (a crash between loads, a row removed by hand) is asked again too.
        wh = await openWarehouse(dir);
        await wh.query('DELETE FROM markets WHERE condition_id = $id', { id: untraded[0]! });
        await wh.close();
        const refreshed = await runBackfill(dir, sim.url, { refresh: { overlapSeconds: 3_600, marketRefreshAfterMs: 60_000 } });
        expect(refreshed.lookups).toMatchObject({ groups: 1, members: 1 });
        expect(await agreeing(dir)).toEqual([]);
      });
    } finally {
      await oldGamma.close();
    }
  }, 90_000);

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
