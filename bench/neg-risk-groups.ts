/**
 * What holding every neg-risk group whole costs: one backfill of simulated wallets (API limits lifted, as the suite
 * runs them), its Gamma and resolution requests, the `markets` and `events` rows it leaves (members no wallet traded
 * counted apart), how many wallets' realized profit then differs from the simulator's own, and the bytes of the
 * touched events with and without their nested markets (what `include_markets=true` adds to each answer).
 *   node --import tsx bench/neg-risk-groups.ts [--wallets 1000] [--seed 2026] [--max-trades 2000]
 * Request counts move a little from run to run: concurrent wallets' look-ups coalesce into batches as they happen to
 * arrive.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { HttpClient } from '../src/polymarket/http-client.js';
import { PNL_CHECK_RATE_LIMITS, latestUserPnl } from '../src/polymarket/pnl-api.js';
import { RateLimiter } from '../src/polymarket/rate-limiter.js';
import { startSimulator } from '../src/simulator/index.js';
import { UNTHROTTLED, noSleep, openWarehouse, runBackfill, seedTraders } from '../testkit/backfill-harness.js';

const { values } = parseArgs({
  options: {
    wallets: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '2026' },
    'max-trades': { type: 'string', default: '2000' },
  },
});
const wallets = Number(values.wallets);
const sim = await startSimulator({ seed: Number(values.seed), wallets, maxTradesPerWallet: Number(values['max-trades']) });
const dir = await mkdtemp(join(tmpdir(), 'bench-neg-risk-'));
const limits = Object.fromEntries(Object.keys(PNL_CHECK_RATE_LIMITS).map((key) => [key, UNTHROTTLED['data:trades']]));
const http = new HttpClient({ rateLimiter: new RateLimiter({ ...UNTHROTTLED, ...limits }), timeoutMs: 30_000, maxAttempts: 3, maxInFlight: 8, sleep: noSleep });
try {
  await seedTraders(dir, sim.dataset.wallets());
  const started = Date.now();
  const summary = await runBackfill(dir, sim.url);
  const seconds = (Date.now() - started) / 1000;
  const wh = await openWarehouse(dir);
  const count = async (sql: string) => Number((await wh.query<{ n: bigint }>(sql))[0]!.n);
  const markets = await count('SELECT count(*) AS n FROM markets');
  const events = await count('SELECT count(*) AS n FROM events');
  const negRiskEvents = await count('SELECT count(*) AS n FROM events WHERE neg_risk');
  const stats = new Map((await wh.query<{ w: string; p: number }>('SELECT proxy_wallet AS w, realized_pnl AS p FROM wallet_stats')).map((r) => [r.w, r.p]));
  const eventIds = (await wh.query<{ id: string }>('SELECT event_id AS id FROM events')).map((r) => r.id);
  await wh.close();

  const traded = new Set(sim.dataset.wallets().flatMap((w) => sim.dataset.conditionIds(w).resolvable));
  let differ = 0;
  let difference = 0;
  for (const wallet of sim.dataset.wallets()) {
    const theirs = (await latestUserPnl(http, sim.url, wallet))?.realized_pnl ?? 0;
    const ours = stats.get(wallet) ?? 0;
    if (ours !== theirs) {
      differ += 1;
      difference += Math.abs(ours - theirs);
    }
  }
  let withMarkets = 0;
  let withoutMarkets = 0;
  for (const id of eventIds) {
    const { markets: nested, ...rest } = sim.dataset.event(id) as Record<string, unknown>;
    withoutMarkets += JSON.stringify(rest).length;
    withMarkets += JSON.stringify({ ...rest, markets: nested }).length;
  }
  console.log(
    JSON.stringify({
      wallets,
      outcome: summary.outcome,
      seconds,
      requests: summary.requests,
      gammaRequests: (summary.requests['gamma:markets'] ?? 0) + (summary.requests['gamma:events'] ?? 0),
      marketsRows: markets,
      marketsNoWalletTraded: markets - traded.size,
      eventsRows: events,
      negRiskEvents,
      walletsWhosePnlDiffers: differ,
      sumOfDifferencesUsd: Math.round(difference * 100) / 100,
      eventBytesWithMarkets: withMarkets,
      eventBytesWithout: withoutMarkets,
    }),
  );
} finally {
  await http.close();
  await sim.close();
  await rm(dir, { recursive: true, force: true });
}
