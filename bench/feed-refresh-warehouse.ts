/**
 * Issue 21's bench, end to end on the embedded backend (a DuckDB file and local staging):
 *   npm run build && node --import tsx bench/feed-refresh-warehouse.ts [--wallets 100000] [--fills-per-day 200000]
 *     [--max-trades 20] [--concurrency 30] [--seed 2112]
 * (`npm run bench -- --only feed-refresh` runs it too, with its defaults.)
 *
 * 1. A warehouse whose wallets are all backfilled up to the simulator's clock. A backfill of 100,000 wallets through
 *    the engine takes over an hour here, so the state it leaves is seeded instead, through the product's own path
 *    all the same: each wallet's trades, activity and combo rows fetched by the real source from the simulator,
 *    staged (fills in one file per 2,500 wallets, activity in files of each wallet's own, as the load checks), their markets and events looked up by the run's MetadataResolver,
 *    loaded by Warehouse.loadBundles, checkpointed by Warehouse.writeCheckpoints with the rows a backfill's commit
 *    writes (trade and activity counts read back by the load, newest fill and activity row); then, as at the end of
 *    a backfill, the look-ups asked again, the ended markets' resolutions and the positions and wallet_stats sweep.
 *    The seeded warehouse is compared with the simulator's ground truth before anything else, and the bench stops if
 *    it differs. The wallets' horizon (processed_at) is the simulator's data clock, which runs behind ours (see
 *    test/e2e/feed-refresh.test.ts). Histories are kept short (`--max-trades`): a refresh's cost does not depend on
 *    how much history a wallet already has, only on what happened since its horizon.
 * 2. One simulated day of global activity (`--fills-per-day` fills over all wallets).
 * 3. The seeded file and stage copied twice; `refresh --via feed` on one, `--via wallets` on the other, in process,
 *    unthrottled (so the per-wallet side is not bound by the rate limits: its wall time is the least it can take
 *    here), with the CLI's default concurrency at the documented limits and its commit settings. Requests per route
 *    from the simulator's counters, rows and bytes from every response body; the time each would take at the
 *    documented limits is requests / rate, the busiest bucket deciding.
 * 4. After each refresh the warehouse is compared with the new ground truth (every fill, activity and combo row,
 *    markets, events, resolutions, every wallet's checkpoint counts) and every wallet's newest fill and refresh time
 *    are checked; the bench fails loudly if anything differs.
 * Figures are this machine's; the ratios are the stable part.
 */
import { setMaxListeners } from 'node:events';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import PQueue from 'p-queue';

import { lookUpAgain } from '../src/engine/lookup-retries.js';
import { MetadataResolver } from '../src/engine/metadata-resolver.js';
import { refreshResolutions } from '../src/engine/resolutions-refresh.js';
import { RunEvents } from '../src/engine/run-events.js';
import type { RefreshOptions } from '../src/engine/run-options.js';
import type { RunSummary } from '../src/engine/run-summary.js';
import { WalletStatsUpdater } from '../src/engine/wallet-stats.js';
import { writeRows } from '../src/engine/wallet-stager.js';
import { DEFAULTS, defaultConcurrency } from '../src/library/config.js';
import { createPolymarketSource, DEFAULT_RATE_LIMITS } from '../src/polymarket/index.js';
import type { ActivityRecord, ComboActivityRecord, TradeRecord } from '../src/polymarket/records.js';
import { startSimulator } from '../src/simulator/index.js';
import type { SimExchange } from '../src/simulator/index.js';
import { LocalStageStore } from '../src/staging/local/local-stage-store.js';
import type { WalletManifest } from '../src/staging/stage-store.js';
import type { DuckDbWarehouse } from '../src/warehouse/duckdb/index.js';
import type { CheckpointRow, WalletBundle } from '../src/warehouse/warehouse.js';
import { TEST_RUN_OPTIONS, UNTHROTTLED, clockBehind, noSleep, openWarehouse, paths, runBackfill } from '../testkit/backfill-harness.js';
import { compareWithGroundTruth } from '../testkit/ground-truth-diff.js';
import type { GroundTruthDiff } from '../testkit/ground-truth-diff.js';
import { asWallets } from '../testkit/wallets.js';

export interface FeedRefreshBenchOptions {
  wallets: number;
  fillsPerDay: number;
  maxTrades: number;
  concurrency: number;
  seed: number;
}

const DAY = 86_400;
const OVERLAP = 3_600;
/** Wallets staged per file and loaded per load while seeding. */
const SEED_CHUNK = 2_500;
const log = (line: string) => process.stderr.write(`[feed-refresh bench] ${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const count = (n: number) => n.toLocaleString('en');

/** Requests, rows and bytes per route, from every response the simulator sends. */
class Traffic {
  requests: Record<string, number> = {};
  rows: Record<string, number> = {};
  bytes: Record<string, number> = {};

  readonly observe = (exchange: SimExchange): void => {
    const url = new URL(exchange.url, 'http://sim');
    const route = routeOf(url);
    this.requests[route] = (this.requests[route] ?? 0) + 1;
    this.bytes[route] = (this.bytes[route] ?? 0) + Buffer.byteLength(exchange.body);
    if (exchange.status !== 200) return;
    try {
      const body = JSON.parse(exchange.body) as unknown;
      const rows = Array.isArray(body) ? body : (body as { data?: unknown }).data;
      if (Array.isArray(rows)) this.rows[route] = (this.rows[route] ?? 0) + rows.length;
    } catch {
      // Not JSON: counted in bytes only.
    }
  };

  reset(): void {
    this.requests = {};
    this.rows = {};
    this.bytes = {};
  }
}

/** The rate bucket a request falls in, with the global feed apart from the per-wallet trade walks. */
function routeOf(url: URL): string {
  const path = url.pathname;
  if (path === '/v2/trades') return url.searchParams.has('user') ? 'trades (per wallet)' : 'trades (global feed)';
  if (path === '/v2/activity') return 'activity';
  if (path === '/v2/activity/combos') return 'activity combos';
  if (path === '/v2/resolutions') return 'resolutions';
  if (path.startsWith('/markets')) return 'gamma markets';
  if (path.startsWith('/events')) return 'gamma events';
  return path;
}

const BUCKET: Record<string, string> = {
  'trades (per wallet)': 'data:trades',
  'trades (global feed)': 'data:trades',
  activity: 'data:activity',
  'activity combos': 'data:activity-combos',
  resolutions: 'data:resolutions',
  'gamma markets': 'gamma:markets',
  'gamma events': 'gamma:events',
};

/** The least time the documented limits allow for these requests: each bucket is its own, the busiest decides. */
function atDocumentedLimits(requests: Record<string, number>): { ms: number; bucket: string } {
  const perBucket = new Map<string, number>();
  for (const [route, n] of Object.entries(requests)) {
    const bucket = BUCKET[route];
    if (bucket) perBucket.set(bucket, (perBucket.get(bucket) ?? 0) + n);
  }
  let best = { ms: 0, bucket: '-' };
  for (const [bucket, n] of perBucket) {
    const limit = DEFAULT_RATE_LIMITS[bucket as keyof typeof DEFAULT_RATE_LIMITS];
    if (!limit) throw new Error(`no documented rate limit for ${bucket}`);
    const ms = (n * limit.perMs) / limit.requests;
    if (ms > best.ms) best = { ms, bucket };
  }
  return best;
}

function sum(record: Record<string, number>, keys?: (key: string) => boolean): number {
  return Object.entries(record).reduce((total, [key, n]) => (keys && !keys(key) ? total : total + n), 0);
}

/** Throws, listing what differs, unless the warehouse equals the ground truth exactly. */
function assertEqual(what: string, diff: GroundTruthDiff): void {
  const wrong = Object.entries({
    missing: diff.missing,
    extra: diff.extra,
    duplicates: diff.duplicates,
    marketsMissing: diff.marketsMissing,
    marketsExtra: diff.marketsExtra,
    eventsMissing: diff.eventsMissing,
    eventsExtra: diff.eventsExtra,
    unresolvedMismatch: diff.unresolvedMismatch,
    badCheckpoints: diff.badCheckpoints.length,
    activityMissing: diff.activityMissing,
    activityExtra: diff.activityExtra,
    comboMismatch: diff.comboMismatch,
    activityDuplicates: diff.activityDuplicates,
    resolutionsMismatch: diff.resolutionsMismatch,
    resolutionsMissing: diff.resolutionsMissing,
    badActivityCheckpoints: diff.badActivityCheckpoints.length,
    tradeRows: diff.trades - diff.expectedTrades,
    activityRows: diff.activity - diff.expectedActivity,
  }).filter(([, n]) => n !== 0);
  if (wrong.length > 0) {
    const examples = [...diff.badCheckpoints.slice(0, 3), ...diff.badActivityCheckpoints.slice(0, 3)];
    // Which combo rows, whose, and which side holds them: a count alone does not say what the refresh missed.
    const combos = diff.comboDiffs.map((c) => `${c.wallet} ${c.type} ${c.id} at ${c.timestamp}: ${c.held ? 'held' : 'not held'}, ${c.truth ? 'in' : 'not in'} the ground truth`);
    throw new Error(
      `${what}: the warehouse differs from the simulator's ground truth: ${JSON.stringify(Object.fromEntries(wrong))}` +
        `${examples.length > 0 ? `; e.g. wallets ${examples.join(', ')}` : ''}${combos.length > 0 ? `; combo rows: ${combos.join('; ')}` : ''}`,
    );
  }
  log(`${what}: equals the ground truth (${count(diff.trades)} fills, ${count(diff.activity)} activity rows, ${count(diff.markets)} markets, ${count(diff.wallets)} checkpoints)`);
}

/** Every wallet refreshed up to the step (refreshed_at at or after it), its newest fill the ground truth's, no activity left due. */
async function assertCheckpoints(warehouse: DuckDbWarehouse, dataset: { fills(wallet: string): Iterable<{ timestamp: number }> }, stepFrom: number): Promise<void> {
  const rows = await warehouse.query<{ w: string; newest: bigint | null; refreshed: bigint | null; due: boolean | null }>(
    'SELECT wallet_address AS w, epoch(last_trade_at)::BIGINT AS newest, epoch(refreshed_at)::BIGINT AS refreshed, activity_due AS due FROM backfill_checkpoint',
  );
  const wrong: string[] = [];
  for (const row of rows) {
    let newest: number | null = null;
    for (const fill of dataset.fills(row.w)) newest = newest === null ? fill.timestamp : Math.max(newest, fill.timestamp);
    const held = row.newest === null ? null : Number(row.newest);
    if (held !== newest) wrong.push(`${row.w}: last_trade_at ${held} but its newest fill is at ${newest}`);
    else if (row.refreshed === null || Number(row.refreshed) < stepFrom) wrong.push(`${row.w}: refreshed_at ${row.refreshed} is not after the step's start ${stepFrom}`);
    else if (row.due === true) wrong.push(`${row.w}: activity still due`);
  }
  if (wrong.length > 0) throw new Error(`${wrong.length} checkpoint(s) wrong after the refresh, e.g. ${wrong.slice(0, 3).join('; ')}`);
}

export interface FeedRefreshBenchResult {
  table: string;
  lines: string[];
}

export async function feedRefreshBench(options: FeedRefreshBenchOptions): Promise<FeedRefreshBenchResult> {
  const started = Date.now();
  const traffic = new Traffic();
  const sim = await startSimulator({
    seed: options.seed,
    wallets: options.wallets,
    maxTradesPerWallet: options.maxTrades,
    fillsPerDay: options.fillsPerDay,
    nowSeconds: clockBehind(2),
    onExchange: traffic.observe,
  });
  const work = await mkdtemp(join(tmpdir(), 'backfill-feed-bench-'));
  const lines: string[] = [];
  try {
    // 1. The seeded backfill.
    const seeded = join(work, 'seeded');
    await mkdir(seeded);
    const seedStarted = Date.now();
    const horizon = sim.dataset.clockSeconds;
    const seedSummary = await seedBackfill(seeded, sim.url, sim.dataset.wallets(), horizon, options.concurrency);
    log(`seeded ${count(options.wallets)} wallets (${count(seedSummary.trades)} fills, ${count(seedSummary.activity)} activity rows) in ${seconds(Date.now() - seedStarted)}`);
    {
      const check = await openWarehouse(seeded);
      try {
        assertEqual('seeded backfill', await compareWithGroundTruth(check, sim.dataset));
      } finally {
        await check.close();
      }
    }

    // 2. One simulated day.
    const step = sim.advance({ seconds: DAY });
    lines.push(
      `${count(options.wallets)} tracked wallets backfilled up to the simulator's clock (${count(seedSummary.trades)} fills held; histories capped at ${options.maxTrades} fills: a refresh's cost does not depend on history size), then one simulated day: ${count(step.fills)} new fills by ${count(step.wallets.length)} of them, ${count(step.resolvedMarkets.length)} markets resolved.`,
    );
    log(lines.at(-1)!);
    // The simulator builds its global feed index on the first bare request (every wallet generated once): not the refresh's time.
    await fetch(`${sim.url}/v2/trades?limit=1&taker_only=false`);

    // 3. The two refreshes, each on its own copy.
    const measured: Record<'feed' | 'wallets', { summary: RunSummary; traffic: Traffic; feedRequests: number; activityWallets: number }> = {} as never;
    for (const via of ['feed', 'wallets'] as const) {
      const dir = join(work, via);
      await cp(seeded, dir, { recursive: true });
      sim.resetStats();
      traffic.reset();
      const refresh: RefreshOptions = {
        overlapSeconds: OVERLAP,
        // The day passed in minutes: markets the seeding fetched count as fetched a day ago, due for a look-up again.
        marketRefreshAfterMs: 0,
        via,
        // The feed's window and the walk's start against the simulator's data clock (see the top of this file).
        clock: () => sim.dataset.clockSeconds * 1000 + 60_000,
      };
      const summary = await runBackfill(dir, sim.url, {
        concurrency: options.concurrency,
        commit: { ...TEST_RUN_OPTIONS.commit, maxWallets: DEFAULTS.commitEvery, maxDelayMs: 2_000 },
        refresh,
      });
      const stats = sim.stats();
      const copy = new Traffic();
      Object.assign(copy, { requests: { ...traffic.requests }, rows: { ...traffic.rows }, bytes: { ...traffic.bytes } });
      measured[via] = { summary, traffic: copy, feedRequests: stats.feedRequests, activityWallets: Object.keys(stats.activityRequestsByWallet).length };
      log(`refresh --via ${via}: ${summary.outcome} in ${seconds(summary.durationMs)}, peak RSS ${summary.peakRssMb} MB, requests ${JSON.stringify(copy.requests)}${summary.feed ? `, feed ${JSON.stringify({ ...summary.feed, fallback: summary.feed.fallback === 'all' ? 'all' : summary.feed.fallback.length })}` : ''}`);
      if (summary.outcome !== 'complete' || summary.failed > 0) throw new Error(`refresh --via ${via} did not complete: ${JSON.stringify({ outcome: summary.outcome, failed: summary.failed, stop: summary.stopReason })}`);
      if (via === 'feed' && summary.feed?.via !== 'feed') throw new Error(`refresh --via feed went per wallet: ${summary.feed?.reason ?? 'no feed result'}`);
      // 4. The warehouse against the new ground truth.
      const check = await openWarehouse(dir);
      try {
        assertEqual(`refresh --via ${via}`, await compareWithGroundTruth(check, sim.dataset));
        await assertCheckpoints(check, sim.dataset, step.fromSeconds);
      } finally {
        await check.close();
      }
      await rm(dir, { recursive: true, force: true });
    }

    // The table.
    const row = (via: 'feed' | 'wallets') => {
      const { summary, traffic: t } = measured[via];
      const trades = sum(t.requests, (k) => k.startsWith('trades'));
      const activity = sum(t.requests, (k) => k.startsWith('activity'));
      const other = sum(t.requests) - trades - activity;
      const limits = atDocumentedLimits(t.requests);
      return { trades, activity, other, total: trades + activity + other, rows: sum(t.rows), tradeRows: sum(t.rows, (k) => k.startsWith('trades')), bytes: sum(t.bytes), ms: summary.durationMs, limits };
    };
    const feed = row('feed');
    const wallets = row('wallets');
    const ratio = (a: number, b: number) => (b === 0 ? '∞' : `${(a / b).toFixed(a / b >= 10 ? 0 : 1)}×`);
    const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
    const at = (l: { ms: number; bucket: string }) => (l.ms >= 3_600_000 ? `${(l.ms / 3_600_000).toFixed(2)} h` : l.ms >= 60_000 ? `${(l.ms / 60_000).toFixed(1)} min` : seconds(l.ms)) + ` (${l.bucket})`;
    const table = [
      '| refresh | trades requests | activity requests (activity + combos) | other requests (Gamma, resolutions) | all requests | rows transferred (trade rows) | bytes | wall time (unthrottled, loopback) | at the documented limits |',
      '|---|---|---|---|---|---|---|---|---|',
      `| feed | ${count(feed.trades)} | ${count(feed.activity)} | ${count(feed.other)} | ${count(feed.total)} | ${count(feed.rows)} (${count(feed.tradeRows)}) | ${mb(feed.bytes)} | ${seconds(feed.ms)} | ${at(feed.limits)} |`,
      `| per wallet | ${count(wallets.trades)} | ${count(wallets.activity)} | ${count(wallets.other)} | ${count(wallets.total)} | ${count(wallets.rows)} (${count(wallets.tradeRows)}) | ${mb(wallets.bytes)} | ${seconds(wallets.ms)} | ${at(wallets.limits)} |`,
      `| ratio per wallet / feed | **${ratio(wallets.trades, feed.trades)}** | ${ratio(wallets.activity, feed.activity)} | ${ratio(wallets.other, feed.other)} | ${ratio(wallets.total, feed.total)} | ${ratio(wallets.rows, feed.rows)} (${ratio(wallets.tradeRows, feed.tradeRows)}) | ${ratio(wallets.bytes, feed.bytes)} | ${ratio(wallets.ms, feed.ms)} | ${ratio(wallets.limits.ms, feed.limits.ms)} |`,
    ].join('\n');
    const feedResult = measured.feed.summary.feed!;
    const touched = feedResult.walletsTouched;
    lines.push(
      `feed: ${count(feedResult.pages)} feed page(s) (${count(measured.feed.feedRequests)} requests) read ${count(feedResult.rowsSeen)} rows and kept ${count(feedResult.rowsKept)} for ${count(touched)} tracked wallets; ${count(feed.trades - measured.feed.feedRequests)} other trades request(s) are the spot checks of a few touched wallets' own walks.`,
      `trades requests: ${ratio(wallets.trades, feed.trades)} fewer by the feed (goal ≥ 100×: ${wallets.trades >= 100 * feed.trades ? 'met' : 'NOT met'}).`,
      `activity has no global feed: the feed refresh still asks /v2/activity and /v2/activity/combos per wallet it saw trade or that holds a market resolved in the day — ${count(feed.activity)} requests for ${count(measured.feed.activityWallets)} wallets, against ${count(wallets.activity)} for all ${count(options.wallets)} per wallet. ` +
        (wallets.total >= 100 * feed.total
          ? `All requests together: ${ratio(wallets.total, feed.total)} fewer.`
          : `All requests together are ${ratio(wallets.total, feed.total)} fewer, not 100×: ${count(touched)} of ${count(options.wallets)} tracked wallets (${((100 * touched) / options.wallets).toFixed(0)} %) traded in the day, and each still costs its two activity requests. Those have their own rate buckets beside data:trades, so the time at the documented limits is decided by ${feed.limits.bucket}.`),
      `per-wallet refresh wall time here is loopback against an in-process simulator with no rate limit; at the documented limits it is bound by ${wallets.limits.bucket}.`,
      `peak RSS of the bench process: ${Math.max(measured.feed.summary.peakRssMb, measured.wallets.summary.peakRssMb)} MB; total bench time ${seconds(Date.now() - started)}.`,
    );
    return { table, lines };
  } finally {
    await sim.close();
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The state a complete backfill of `wallets` leaves, through the product's own fetch, stage, look-up, load and
 * checkpoint path (see the top of this file); processed_at is `horizonSeconds`.
 */
async function seedBackfill(dir: string, url: string, wallets: readonly string[], horizonSeconds: number, concurrency: number): Promise<{ trades: number; activity: number }> {
  const warehouse = await openWarehouse(dir);
  const stage = new LocalStageStore(paths(dir).stage);
  const source = createPolymarketSource({ dataApiUrl: url, gammaApiUrl: url, rateLimits: UNTHROTTLED, sleep: noSleep });
  const events = new RunEvents();
  const runId = 'bench-seed';
  const signal = new AbortController().signal;
  // Every wallet walk listens on it (as on a run's stop signal).
  setMaxListeners(0, signal);
  const metadata = new MetadataResolver(source, warehouse, { signal });
  const processedAt = new Date(horizonSeconds * 1000).toISOString();
  const totals = { trades: 0, activity: 0 };
  try {
    await warehouse.addTraders(asWallets(wallets), 'bench');
    const queue = new PQueue({ concurrency });
    for (let start = 0; start < wallets.length; start += SEED_CHUNK) {
      const chunk = wallets.slice(start, start + SEED_CHUNK);
      const name = `seed-${start}`;
      const chunkStarted = Date.now();
      const trades: TradeRecord[] = [];
      const staged = new Map<string, { trades: number; activity: number; files: WalletManifest['files'] }>();
      const conditionIds = new Set<string>();
      await Promise.all(
        chunk.map((wallet) =>
          queue.add(async () => {
            const mine = { trades: 0, activity: 0, files: {} as WalletManifest['files'] };
            staged.set(wallet, mine);
            const walk = source.walletTrades(wallet, { signal });
            for await (const page of walk) {
              for (const row of page) {
                trades.push(row);
                conditionIds.add(row.condition_id);
              }
              mine.trades += page.length;
            }
            if (walk.smallFillsExcluded) throw new Error(`the simulator refused filter_amount for ${wallet}`);
            // Activity and combo rows in files of the wallet's own: the load checks each wallet's file against its rows.
            const activity: ActivityRecord[] = [];
            for await (const page of source.walletActivity(wallet, { signal })) {
              for (const row of page) {
                activity.push(row);
                if (row.condition_id) conditionIds.add(row.condition_id);
              }
            }
            const combos: ComboActivityRecord[] = [];
            for await (const page of source.walletComboActivity(wallet, { signal })) combos.push(...page);
            mine.activity = activity.length;
            if (activity.length > 0) mine.files.activity = await writeRows(stage, 'activity', wallet, 'backfill', activity);
            if (combos.length > 0) mine.files.combo_activity = await writeRows(stage, 'combo_activity', wallet, 'backfill', combos);
          }),
        ),
      );
      const fetched = Date.now();
      const tradesFile = await writeRows(stage, 'trades', name, 'backfill', trades);
      const found = await metadata.resolve(conditionIds);
      const metaFiles: WalletManifest['files'] = {};
      if (found.markets.length > 0) metaFiles.markets = await writeRows(stage, 'markets', name, 'backfill', found.markets);
      if (found.events.length > 0) metaFiles.events = await writeRows(stage, 'events', name, 'backfill', found.events);
      if (found.unresolved.length > 0) metaFiles.unresolved = await writeRows(stage, 'unresolved', name, 'backfill', found.unresolved);
      const bundles: WalletBundle[] = chunk.map((wallet) => ({ wallet, tradeCount: staged.get(wallet)!.trades, files: { trades: tradesFile, ...staged.get(wallet)!.files } }));
      if (Object.keys(metaFiles).length > 0) bundles.push({ wallet: `${name}-metadata`, tradeCount: 0, files: metaFiles, metadataOnly: true });
      const looked = Date.now();
      const result = await warehouse.loadBundles(bundles);
      if (process.env.BENCH_TRACE) log(`chunk ${name}: fetch ${Date.now() - chunkStarted} → ${fetched - chunkStarted} ms, metadata ${looked - fetched} ms, load ${Date.now() - looked} ms`);
      // The checkpoint a backfill's commit writes (commit-batcher.ts): what the load read back, not what was staged.
      const rows: CheckpointRow[] = chunk.map((wallet) => {
        const held = result.tradeCounts[wallet] ?? 0;
        const heldActivity = result.activityCounts[wallet] ?? 0;
        const want = staged.get(wallet)!;
        if (held !== want.trades || heldActivity !== want.activity) throw new Error(`seeding ${wallet}: the load holds ${held} fills and ${heldActivity} activity rows, ${want.trades} and ${want.activity} were staged`);
        return {
          wallet_address: wallet,
          trade_count: held,
          gcs_file: tradesFile.uri,
          processed_at: processedAt,
          run_id: runId,
          outcome: 'loaded',
          error: null,
          last_trade_at: result.lastTradeAt[wallet] ?? null,
          small_fills_excluded: false,
          activity_count: heldActivity,
          last_activity_at: result.lastActivityAt[wallet] ?? null,
        };
      });
      await warehouse.writeCheckpoints(rows, { maxFailedAttempts: DEFAULTS.maxFailedAttempts });
      totals.trades += trades.length;
      for (const wallet of chunk) totals.activity += staged.get(wallet)!.activity;
      if ((start / SEED_CHUNK) % 8 === 7) log(`seeding: ${count(start + chunk.length)} of ${count(wallets.length)} wallets`);
    }
    // The end of a backfill: look-ups asked again, ended markets' resolutions, every loaded wallet's figures.
    await lookUpAgain({ stage, warehouse, events, runId, signal, area: 'backfill' }, metadata);
    await refreshResolutions({ source, stage, warehouse, events, runId, signal, area: 'backfill' });
    await new WalletStatsUpdater({ warehouse, events }).sweep(signal);
    // Nothing left in the WAL: the copies are of the file alone.
    await warehouse.query('CHECKPOINT');
    return totals;
  } finally {
    await source.close();
    await warehouse.close();
  }
}

function optionsFrom(values: Record<string, string | undefined>): FeedRefreshBenchOptions {
  const int = (name: string, fallback: number) => {
    const text = values[name];
    const n = text === undefined ? fallback : Number(text);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a whole number >= 1, got ${text}`);
    return n;
  };
  return {
    wallets: int('wallets', 100_000),
    fillsPerDay: int('fills-per-day', 200_000),
    maxTrades: int('max-trades', 20),
    concurrency: int('concurrency', defaultConcurrency(DEFAULT_RATE_LIMITS['data:trades'])),
    seed: int('seed', 2112),
  };
}

/** The bench's own command line (bench.ts runs it as its `feed-refresh` section with the defaults). */
export async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: { wallets: { type: 'string' }, 'fills-per-day': { type: 'string' }, 'max-trades': { type: 'string' }, concurrency: { type: 'string' }, seed: { type: 'string' } },
  });
  const options = optionsFrom(values);
  const result = await feedRefreshBench(options);
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  process.stdout.write(
    `\nfeed vs per-wallet refresh on ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; ${JSON.stringify(options)}\n\n` +
      `${result.table}\n\n${result.lines.map((l) => `- ${l}`).join('\n')}\n`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));
