/**
 * Requests, rows transferred and time for refreshing tracked wallets after one simulated day of global activity:
 * tailing the global feed (one walk, rows of untracked wallets dropped through a WalletSet) against a per-wallet
 * refresh (one `/v2/trades?user=&start=` walk per tracked wallet). Source side only: nothing is loaded.
 *   node --import tsx bench/feed-vs-wallets.ts [--wallets 100000] [--fills-per-day 200000] [--sample 1000]
 * Per-wallet requests and rows are counted exactly from the ground truth (a wallet costs max(1, ceil(rows/1000))
 * requests); its wall time is measured on `--sample` wallets over loopback and scaled. Times at the documented
 * trades limit (200 per 10 s) are requests / 20 s.
 */
import { parseArgs } from 'node:util';

import { WalletSet } from '../src/domain/wallet-set.js';
import { refreshCost } from '../src/polymarket/feed-cost.js';
import { createPolymarketSource } from '../src/polymarket/index.js';
import { startSimulator } from '../src/simulator/index.js';
import { UNTHROTTLED, noSleep } from '../testkit/backfill-harness.js';

const { values } = parseArgs({
  options: {
    wallets: { type: 'string', default: '100000' },
    'fills-per-day': { type: 'string', default: '200000' },
    'max-trades': { type: 'string', default: '200' },
    sample: { type: 'string', default: '1000' },
  },
});
const wallets = Number(values.wallets);
const DAY = 86_400;
const OVERLAP = 3_600;
const now = Date.UTC(2026, 10, 29) / 1000;

let t = performance.now();
const sim = await startSimulator({ seed: 3, wallets, maxTradesPerWallet: Number(values['max-trades']), nowSeconds: now, fillsPerDay: Number(values['fills-per-day']) });
const summary = sim.advance({ seconds: DAY });
console.log(`simulator: ${wallets} wallets, one day: ${summary.fills} fills by ${summary.wallets.length} wallets (${((performance.now() - t) / 1000).toFixed(1)} s)`);
const downTo = summary.fromSeconds - OVERLAP;

t = performance.now();
const tracked = new WalletSet(sim.dataset.wallets(), wallets);
console.log(`WalletSet of ${wallets} wallets built in ${((performance.now() - t) / 1000).toFixed(1)} s`);
// The simulator builds its feed index on the first bare request (every wallet generated once): not the client's time.
t = performance.now();
await fetch(`${sim.url}/v2/trades?limit=1`);
console.log(`simulator feed index built in ${((performance.now() - t) / 1000).toFixed(1)} s`);

const source = createPolymarketSource({ dataApiUrl: sim.url, gammaApiUrl: sim.url, rateLimits: UNTHROTTLED, sleep: noSleep, now: () => new Date(sim.nowSeconds() * 1000) });
sim.resetStats();
t = performance.now();
const walk = source.globalTrades({ downToSeconds: downTo, wallets: tracked });
let kept = 0;
for await (const page of walk) kept += page.records.length;
const feedMs = performance.now() - t;
const feedStats = sim.stats();
const truth = sim.dataset.globalFills(downTo);
if (kept !== truth.length) throw new Error(`feed kept ${kept} rows, the ground truth has ${truth.length}`);

const perWallet = new Map<string, number>();
for (const fill of truth) perWallet.set(fill.proxy_wallet, (perWallet.get(fill.proxy_wallet) ?? 0) + 1);
let walletRequests = 0;
for (const w of sim.dataset.wallets()) walletRequests += Math.max(1, Math.ceil((perWallet.get(w) ?? 0) / 1000));

const sample = sim.dataset.wallets().slice(0, Number(values.sample));
sim.resetStats();
t = performance.now();
for (const w of sample) for await (const page of source.walletTrades(w, { startSeconds: downTo })) void page;
const sampleMs = performance.now() - t;
const sampleStats = sim.stats();

const rate = 20;
const rows = [
  ['', 'feed', 'per wallet'],
  ['requests', String(feedStats.feedRequests), String(walletRequests)],
  ['rows transferred', String(feedStats.feedRowsServed), String(truth.length)],
  ['loopback wall time', `${(feedMs / 1000).toFixed(1)} s`, `${((sampleMs / sample.length) * wallets / 1000).toFixed(0)} s (scaled from ${sample.length} wallets: ${sampleStats.requests['data:trades']} requests)`],
  ['at 200 req / 10 s', `${(feedStats.feedRequests / rate).toFixed(1)} s`, `${(walletRequests / rate / 3600).toFixed(2)} h`],
];
for (const row of rows) console.log(`| ${row.map((c, i) => c.padEnd(i === 0 ? 20 : 14)).join(' | ')} |`);
console.log(`request ratio: ${(walletRequests / feedStats.feedRequests).toFixed(0)}×`);
const hours = (summary.toSeconds - downTo) / 3600;
console.log(refreshCost({ trackedWallets: wallets, feedRowsPerHour: feedStats.feedRowsServed / hours, windowSeconds: summary.toSeconds - summary.fromSeconds, overlapSeconds: OVERLAP }).reason);
await source.close();
await sim.close();
