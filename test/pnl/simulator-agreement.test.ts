import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pnlMarketFromRecord, replayWallet, summarizeWallet } from '../../src/pnl/index.js';
import type { PnlMarket, PnlResolution, WalletHistory } from '../../src/pnl/index.js';
import { HttpClient } from '../../src/polymarket/http-client.js';
import { normalizeMarket } from '../../src/polymarket/market-rows.js';
import { PNL_CHECK_RATE_LIMITS, latestUserPnl, walletClosedPositions } from '../../src/polymarket/pnl-api.js';
import { RateLimiter } from '../../src/polymarket/rate-limiter.js';
import type { RunningSimulator, SimDataset } from '../../src/simulator/index.js';
import { startSimulator } from '../../src/simulator/index.js';
import { UNTHROTTLED, noSleep } from '../../testkit/backfill-harness.js';
import { NOW, SMALL } from '../simulator/helpers.js';

const MARKET = /^0x[0-9a-f]{64}$/;

/** A wallet's history as a complete backfill holds it: the simulator's ground truth, and Gamma's markets and events. */
function historyOf(dataset: SimDataset, wallet: string): WalletHistory {
  const fills = [...dataset.fills(wallet)].map((fill) => ({ ...fill, outcome_index: null }));
  const activity = [...dataset.activity(wallet)].map((row) => ({ ...row, condition_id: row.condition_id || null, token_id: row.token_id || null }));
  const ids = new Set([...fills.map((fill) => fill.condition_id), ...activity.flatMap((row) => (row.condition_id ? [row.condition_id] : []))].filter((id) => MARKET.test(id)));
  const markets = new Map<string, PnlMarket>();
  for (const id of ids) {
    const raw = dataset.market(id);
    if (!raw) continue;
    const market = pnlMarketFromRecord(normalizeMarket(raw, new Date(0).toISOString()));
    markets.set(market.condition_id, market);
    // A conversion hands out YES of every question of the group: the warehouse holds the event's markets.
    if (market.neg_risk) {
      for (const eventId of dataset.eventIdsOfMarket(id)) {
        const event = dataset.event(eventId) as { markets: unknown[] };
        for (const member of event.markets) {
          const record = pnlMarketFromRecord(normalizeMarket(member, new Date(0).toISOString()));
          markets.set(record.condition_id, record);
        }
      }
    }
  }
  const resolutions: PnlResolution[] = [...markets.keys()].flatMap((id) => {
    const row = dataset.resolution(id) as { status: string; payouts: number[] | null } | undefined;
    return row ? [{ condition_id: id, status: row.status, payouts: row.payouts }] : [];
  });
  return { wallet, fills, activity, markets: [...markets.values()], resolutions };
}

describe('src/pnl over the simulator\'s ground truth, against the simulator\'s own /v2/positions and /v2/user-pnl', () => {
  let sim: RunningSimulator;
  let http: HttpClient;

  beforeAll(async () => {
    sim = await startSimulator({ ...SMALL, nowSeconds: NOW });
    http = new HttpClient({ rateLimiter: new RateLimiter({ ...UNTHROTTLED, ...Object.fromEntries(Object.keys(PNL_CHECK_RATE_LIMITS).map((key) => [key, UNTHROTTLED['data:trades']!])) }), timeoutMs: 30_000, maxAttempts: 3, maxInFlight: 4, sleep: noSleep });
  });
  afterAll(async () => {
    await http.close();
    await sim.close();
  });

  it('every wallet\'s realized profit, in total and per closed token, is exactly the simulator\'s', async () => {
    const seen = { wallets: 0, closedTokens: 0, withProfit: 0, types: new Map<string, number>() };
    for (const wallet of sim.dataset.wallets()) {
      const history = historyOf(sim.dataset, wallet);
      for (const row of history.activity) seen.types.set(row.type, (seen.types.get(row.type) ?? 0) + 1);
      const replay = replayWallet(history);
      const ours = summarizeWallet(replay, history.fills);
      const theirs = await latestUserPnl(http, sim.url, wallet);
      const closed = await walletClosedPositions(http, sim.url, wallet);
      if (history.fills.length === 0) {
        expect(theirs, wallet).toBeNull();
        continue;
      }
      expect(theirs?.realized_pnl, wallet).toBe(ours.realized_pnl);
      // Per token. A market Gamma does not know shows the warehouse only the tokens its fills name: a split there
      // also mints the other outcome, which only the simulator lists. Bought and merged at 0.50 and never traded,
      // such a token realizes exactly 0, so a token missing on one side counts as 0.
      const ourClosed = new Map(replay.positions.filter((p) => p.status === 'closed').map((p) => [p.token_id, p.realized_pnl]));
      const theirClosed = new Map(closed.map((p) => [p.token_id, p.realized_pnl]));
      for (const token of new Set([...ourClosed.keys(), ...theirClosed.keys()])) {
        expect(ourClosed.get(token) ?? 0, `${wallet} token ${token}`).toBe(theirClosed.get(token) ?? 0);
      }
      seen.wallets += 1;
      seen.closedTokens += theirClosed.size;
      if (ours.realized_pnl !== 0) seen.withProfit += 1;
    }
    // The comparison covered what it must: many wallets, many closed tokens, every kind of row that moves a position.
    expect(seen.wallets).toBeGreaterThan(20);
    expect(seen.withProfit).toBeGreaterThan(20);
    expect(seen.closedTokens).toBeGreaterThan(200);
    for (const type of ['SPLIT', 'MERGE', 'REDEEM', 'CONVERSION']) expect(seen.types.get(type) ?? 0, type).toBeGreaterThan(0);
  });

  it('the simulator told to misreport a wallet answers a different figure for it, and only for it', async () => {
    const wallets = sim.dataset.wallets();
    const target = wallets.find((wallet) => [...sim.dataset.fills(wallet)].length > 50)!;
    const other = wallets.find((wallet) => wallet !== target && [...sim.dataset.fills(wallet)].length > 0)!;
    const liar = await startSimulator({ ...SMALL, nowSeconds: NOW, misreport: { wallet: target, usdc: 25 } });
    try {
      for (const wallet of [target, other]) {
        const truth = (await latestUserPnl(http, sim.url, wallet))!.realized_pnl!;
        const told = (await latestUserPnl(http, liar.url, wallet))?.realized_pnl;
        expect(told, wallet).toBeCloseTo(wallet === target ? truth + 25 : truth, 6);
      }
      const sum = (rows: { realized_pnl: number | null }[]): number => rows.reduce((total, row) => total + (row.realized_pnl ?? 0), 0);
      expect(sum(await walletClosedPositions(http, liar.url, target)) - sum(await walletClosedPositions(http, sim.url, target))).toBeCloseTo(25, 6);
    } finally {
      await liar.close();
    }
  });
});
