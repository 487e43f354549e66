/**
 * Refresh by tailing the global trade feed (`/v2/trades` without `user`): its cost follows what happened on
 * Polymarket since the wallets' horizons, not the number of wallets tracked.
 *
 * Each completed wallet has a horizon: its history is complete up to then (its last refresh, else its backfill). The
 * walk reads the feed from its newest row down to the oldest horizon among the wallets it covers minus the overlap,
 * keeps the rows of tracked wallets (membership is one hash look-up per row), stages them in chunks and MERGEs each
 * chunk like a per-wallet refresh window (trade ids equal: see global-feed.ts), committing the walk's resume point
 * after each chunk's rows, so a killed walk resumes where its last commit ended. Once the walk has passed their
 * horizons, every covered wallet's refresh moves forward at once. What the feed cannot do is left to per-wallet
 * refreshes, for those wallets only: wallets whose horizon lies outside the feed's window, and activity (it has no
 * global feed) of the wallets the walk saw trade or that hold a market just resolved.
 */
import { abortReason, withRetry } from '../lib/retry.js';
import { toWallet } from '../domain/wallet-address.js';
import { WalletSet } from '../domain/wallet-set.js';
import type { TradeRecord } from '../polymarket/records.js';
import { refreshCost } from '../polymarket/feed-cost.js';
import { feedWindowStart } from '../polymarket/global-feed.js';
import type { FeedResumePoint } from '../polymarket/global-feed.js';
import type { PolymarketSource } from '../polymarket/source.js';
import type { StageStore, WalletManifest } from '../staging/stage-store.js';
import type { FeedWalkRecord, LoadResult, WalletBundle, Warehouse } from '../warehouse/warehouse.js';
import type { MetadataResolver } from './metadata-resolver.js';
import type { CommitPolicy } from './commit-batcher.js';
import { warehouseRetryDecision } from './commit-batcher.js';
import type { RunEvents } from './run-events.js';
import { writeRows } from './wallet-stager.js';

export type RefreshVia = 'feed' | 'wallets' | 'auto';

export interface FeedRefreshOptions {
  via: Exclude<RefreshVia, 'wallets'>;
  overlapSeconds: number;
  /** Wallets seen in the walked window above this volume (USDC) are added to `traders` (source `feed`). */
  discoverMinVolume?: number;
  /** Kept rows per staged chunk (one load and one committed resume point each); default 50,000. */
  chunkRows?: number;
  /** Touched wallets whose per-wallet walk is compared with the feed, to detect a feed leaving rows out; default 3. */
  spotChecks?: number;
}

export interface FeedRefreshDeps {
  source: PolymarketSource;
  /** The run's look-ups: the markets and events of the feed's new fills load with them, as for any wallet. */
  metadata: MetadataResolver;
  stage: StageStore;
  warehouse: Warehouse;
  events: RunEvents;
  runId: string;
  signal: AbortSignal;
  commit: CommitPolicy;
  shard?: { index: number; count: number };
  now?: () => number;
}

/** What a feed refresh did, for the run summary. */
export interface FeedRefreshResult {
  /** What the refresh went by: `wallets` when auto chose per-wallet, or the feed was found unfit. */
  via: 'feed' | 'wallets';
  reason: string;
  tracked: number;
  pages: number;
  rowsSeen: number;
  rowsKept: number;
  walletsTouched: number;
  /** Wallets whose refresh moved forward without a request of their own. */
  covered: number;
  /** Wallets refreshed per wallet instead (horizon outside the feed's window); `all` when the feed was unfit. */
  fallback: string[] | 'all';
  discovered: number;
  resumed: boolean;
}

/** Wallets whose horizon lies this close to the window's start are refreshed per wallet: the window edge moves. */
const WINDOW_MARGIN_SECONDS = 3_600;
/** The first page may be served from a cache this old (`max-age=300` on /v2/trades). */
const FEED_CACHE_SECONDS = 300;

const isoOf = (seconds: number) => new Date(seconds * 1000).toISOString();
const secondsOf = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/**
 * Walks the feed (or, `auto`, decides not to) and commits what it found; returns which wallets still need a
 * per-wallet refresh. The caller then refreshes those, and the activity the walk queued (`activity_due`).
 */
export async function feedRefresh(deps: FeedRefreshDeps, options: FeedRefreshOptions): Promise<FeedRefreshResult> {
  const now = deps.now ?? Date.now;
  const nowSeconds = Math.floor(now() / 1000);
  const windowStart = feedWindowStart(now());
  const { warehouse, events } = deps;

  // The tracked set, and the oldest horizon among the wallets the feed can reach.
  const tracked = new WalletSet();
  const outside: string[] = [];
  let oldest = Infinity;
  for await (const chunk of warehouse.planFeedRefresh({ maxFailedAttempts: deps.commit.maxFailedAttempts, ...(deps.shard ? { shard: deps.shard } : {}) })) {
    for (const { wallet, horizon } of chunk) {
      tracked.add(wallet);
      const seconds = horizon === null ? NaN : secondsOf(horizon);
      if (!Number.isFinite(seconds) || seconds - options.overlapSeconds < windowStart + WINDOW_MARGIN_SECONDS) outside.push(wallet);
      else oldest = Math.min(oldest, Math.min(seconds, nowSeconds));
    }
  }
  const base = { tracked: tracked.size, pages: 0, rowsSeen: 0, rowsKept: 0, walletsTouched: 0, covered: 0, discovered: 0, resumed: false };
  let unfinished = await warehouse.unfinishedFeedWalk();
  // A walk left so long ago that its anchor has left the feed's window cannot be finished: its pages stand, and a new
  // walk starts (the wallets it did not cover are still outside their horizons, or go per wallet).
  if (unfinished && secondsOf(unfinished.down_to) < windowStart + WINDOW_MARGIN_SECONDS) {
    await warehouse.saveFeedWalk({ ...unfinished, status: 'abandoned', note: `its anchor ${unfinished.down_to} left the feed's window before it was resumed`, finished_at: new Date(now()).toISOString() });
    unfinished = undefined;
  }
  if (!Number.isFinite(oldest) && !unfinished) {
    return { ...base, via: 'wallets', reason: 'no tracked wallet has a horizon inside the feed\'s window: every wallet is refreshed per wallet', fallback: 'all' };
  }

  if (options.via === 'auto' && !unfinished) {
    const rate = (await warehouse.feedRowsPerHour()) ?? (await probeFeedRate(deps, nowSeconds));
    const cost = refreshCost({
      trackedWallets: tracked.size - outside.length,
      feedRowsPerHour: rate,
      windowSeconds: Math.max(0, nowSeconds - oldest),
      overlapSeconds: options.overlapSeconds,
    });
    events.safeEmit('feed:decided', { via: cost.choice, reason: cost.reason });
    if (cost.choice === 'wallets') return { ...base, via: 'wallets', reason: cost.reason, fallback: 'all' };
  }

  const walk: FeedWalkRecord = unfinished ?? {
    walk_id: `${deps.runId}-feed`,
    run_id: deps.runId,
    status: 'running',
    started_at: isoOf(nowSeconds),
    covered_from: isoOf(oldest),
    down_to: isoOf(oldest - options.overlapSeconds),
    newest_at: null,
    oldest_at: null,
    resume_cursor: null,
    resume_ts: null,
    pages: 0,
    rows_seen: 0,
    rows_kept: 0,
    wallets_touched: 0,
    updated_at: isoOf(nowSeconds),
    finished_at: null,
    note: null,
  };
  if (!unfinished) await warehouse.saveFeedWalk(walk);
  const resumed = unfinished !== undefined;
  const downTo = secondsOf(walk.down_to);
  const resumeFrom: FeedResumePoint | undefined = resumed ? { cursor: walk.resume_cursor, blockTimestamp: walk.resume_ts } : undefined;
  events.safeEmit('feed:walking', { downTo: walk.down_to, tracked: tracked.size, outside: outside.length, resumed });

  const chunkRows = options.chunkRows ?? 50_000;
  const touched = new Set<string>();
  const volume = new Map<string, number>();
  const sample = new Map<string, Set<string>>();
  let buffer: TradeRecord[] = [];
  let chunkIndex = 0;
  let lastResume: FeedResumePoint | undefined;
  let newest = walk.newest_at === null ? null : secondsOf(walk.newest_at);
  let oldestSeen = walk.oldest_at === null ? null : secondsOf(walk.oldest_at);

  const commitChunk = async (resume: FeedResumePoint | undefined) => {
    // A stop lands between chunks: what is committed stands, and the walk resumes from the last resume point saved.
    if (deps.signal.aborted) throw abortReason(deps.signal);
    const rows = buffer.length;
    if (rows > 0) {
      chunkIndex += 1;
      await commitFeedRows(deps, `${walk.walk_id}-${walk.pages}-${chunkIndex}`, buffer);
    }
    buffer = [];
    if (resume) {
      walk.resume_cursor = resume.cursor;
      walk.resume_ts = resume.blockTimestamp;
    }
    walk.newest_at = newest === null ? null : isoOf(newest);
    walk.oldest_at = oldestSeen === null ? null : isoOf(oldestSeen);
    walk.wallets_touched = touched.size;
    walk.updated_at = new Date(now()).toISOString();
    await warehouse.saveFeedWalk(walk);
    if (rows > 0) events.safeEmit('feed:chunk', { chunk: chunkIndex, rows, pages: walk.pages, rowsKept: walk.rows_kept, resumeTs: walk.resume_ts });
  };

  const feed = deps.source.globalTrades({ downToSeconds: downTo, ...(resumeFrom ? { resumeFrom } : {}), signal: deps.signal });
  // Where a walk resumes once everything before the current page is committed: a chunk that ends inside a page
  // commits this one, and a resumed walk reads that page again (its rows come back with the same keys).
  let beforePage: FeedResumePoint = resumeFrom ?? { cursor: null, blockTimestamp: null };
  for await (const page of feed) {
    walk.pages += 1;
    walk.rows_seen += page.rowsServed;
    for (const row of page.records) {
      const ts = secondsOf(row.timestamp);
      newest = newest === null ? ts : Math.max(newest, ts);
      oldestSeen = oldestSeen === null ? ts : Math.min(oldestSeen, ts);
      if (tracked.has(row.proxy_wallet)) {
        buffer.push(row);
        walk.rows_kept += 1;
        touched.add(row.proxy_wallet);
        if (sample.size < (options.spotChecks ?? 3) || sample.has(row.proxy_wallet)) {
          let keys = sample.get(row.proxy_wallet);
          if (!keys) sample.set(row.proxy_wallet, (keys = new Set()));
          keys.add(row.trade_id);
        }
        if (buffer.length >= chunkRows) await commitChunk(beforePage);
      } else if (options.discoverMinVolume !== undefined) {
        volume.set(row.proxy_wallet, (volume.get(row.proxy_wallet) ?? 0) + row.size * row.price);
      }
    }
    beforePage = page.resume;
    lastResume = page.resume;
  }
  await commitChunk(lastResume);
  const outcome = feed.outcome;

  // The feed is only as good as its rows: a feed that ended above an anchor inside its documented window serves a
  // shorter window, and one whose rows miss what a wallet's own walk serves leaves rows out (maker rows, say).
  const unfit =
    outcome && outcome.ended === 'feed-ended' && downTo >= outcome.documentedWindowStart && (outcome.oldestTimestamp ?? Infinity) > downTo + options.overlapSeconds
      ? `the feed ended at ${isoOf(outcome.oldestTimestamp ?? nowSeconds)}, above the walk's anchor ${walk.down_to} that its documented window (from ${isoOf(outcome.documentedWindowStart)}) holds`
      : await spotCheck(deps, sample, downTo, resumeFrom?.blockTimestamp ?? newest);
  if (unfit !== undefined) {
    walk.status = 'abandoned';
    walk.note = unfit;
    walk.finished_at = new Date(now()).toISOString();
    await warehouse.saveFeedWalk(walk);
    const reason = `${unfit}: the feed cannot be trusted to hold every fill, so every wallet is refreshed per wallet this time`;
    events.safeEmit('feed:unfit', { reason });
    return { ...base, via: 'wallets', reason, pages: walk.pages, rowsSeen: walk.rows_seen, rowsKept: walk.rows_kept, walletsTouched: touched.size, fallback: 'all', resumed };
  }

  // Every covered wallet's history is now complete up to the walk's start, less the age the first page may have had
  // in the feed's cache (rows newer than that may be missing from it).
  const coveredAt = isoOf(secondsOf(walk.started_at) - FEED_CACHE_SECONDS);
  const covered = await warehouse.markFeedCovered({ coveredFrom: walk.covered_from, coveredAt, ...(deps.shard ? { shard: deps.shard } : {}) });
  let discovered = 0;
  if (options.discoverMinVolume !== undefined) {
    const found = [...volume].filter(([, usdc]) => usdc >= options.discoverMinVolume!).map(([wallet]) => wallet);
    if (found.length > 0) discovered = await warehouse.addTraders(found.map((w) => toWallet(w)), 'feed');
  }
  walk.status = 'done';
  walk.finished_at = new Date(now()).toISOString();
  await warehouse.saveFeedWalk(walk);
  const result: FeedRefreshResult = {
    ...base,
    via: 'feed',
    reason: `walked the global feed down to ${walk.down_to}: ${walk.pages} page(s), ${walk.rows_seen} row(s) read, ${walk.rows_kept} kept for ${touched.size} tracked wallet(s)`,
    pages: walk.pages,
    rowsSeen: walk.rows_seen,
    rowsKept: walk.rows_kept,
    walletsTouched: touched.size,
    covered,
    fallback: outside,
    discovered,
    resumed,
  };
  events.safeEmit('feed:walked', result);
  return result;
}

/** Rows per hour from one page of the feed (one request), when no finished walk measured it yet. */
async function probeFeedRate(deps: FeedRefreshDeps, nowSeconds: number): Promise<number> {
  const feed = deps.source.globalTrades({ downToSeconds: Math.max(1, nowSeconds - 86_400), signal: deps.signal });
  for await (const page of feed) {
    const first = page.records[0];
    const span = first && page.anchor ? secondsOf(first.timestamp) - page.anchor.blockTimestamp : 0;
    return span > 0 ? (page.rowsServed * 3_600) / span : page.rowsServed;
  }
  return 0;
}

/**
 * A few touched wallets' own walks over the stretch of the feed this call read, compared with what the feed served of
 * them: a fill the wallet's walk has and the feed had not means the feed leaves rows out (for instance, it ignores
 * `taker_only=false`). `upTo` is the newest row read, or a resumed walk's resume point: the rows above it were read
 * and committed by the walk's earlier part, and are not in `sample`.
 */
async function spotCheck(deps: FeedRefreshDeps, sample: Map<string, Set<string>>, downTo: number, upTo: number | null): Promise<string | undefined> {
  if (upTo === null) return undefined;
  for (const [wallet, fed] of sample) {
    let missing = 0;
    for await (const page of deps.source.walletTrades(wallet, { startSeconds: Math.max(1, downTo), signal: deps.signal })) {
      for (const row of page) {
        const ts = secondsOf(row.timestamp);
        // Rows newer than the stretch read, or at its boundary seconds (their twins may be partly beyond), prove nothing.
        if (ts < upTo && ts > downTo && !fed.has(row.trade_id)) missing += 1;
      }
    }
    if (missing > 0) return `the global feed left out ${missing} fill(s) of wallet ${wallet} that /v2/trades?user= serves in the walked window (maker rows, if taker_only=false was ignored)`;
  }
  return undefined;
}

/**
 * One chunk of the walk: its rows staged in one file (refresh area), loaded as one bundle per wallet sharing the
 * file (each wallet's row count checked), with the markets and events they touch. The wallets' activity is queued
 * first, so a kill after the load never leaves a touched wallet without the refresh that completes its checkpoint.
 */
async function commitFeedRows(deps: FeedRefreshDeps, name: string, rows: TradeRecord[]): Promise<void> {
  const byWallet = new Map<string, number>();
  for (const row of rows) byWallet.set(row.proxy_wallet, (byWallet.get(row.proxy_wallet) ?? 0) + 1);
  const wallets = [...byWallet.keys()].sort();
  await deps.warehouse.markActivityDue(wallets);
  const file = await writeRows(deps.stage, 'trades', name, 'refresh', rows);
  // New markets and events of the chunk's fills, in a bundle of no wallet loaded in the same commit, metadata first.
  const metadata = await deps.metadata.resolve(new Set(rows.map((row) => row.condition_id)));
  const metaFiles: WalletManifest['files'] = {};
  try {
    if (metadata.markets.length > 0) metaFiles.markets = await writeRows(deps.stage, 'markets', name, 'refresh', metadata.markets);
    if (metadata.events.length > 0) metaFiles.events = await writeRows(deps.stage, 'events', name, 'refresh', metadata.events);
    if (metadata.unresolved.length > 0) metaFiles.unresolved = await writeRows(deps.stage, 'unresolved', name, 'refresh', metadata.unresolved);
  } catch (error) {
    deps.metadata.release(metadata.claims);
    throw error;
  }
  const bundles: WalletBundle[] = wallets.map((wallet) => ({ wallet, tradeCount: byWallet.get(wallet)!, files: { trades: file }, partial: true }));
  if (Object.keys(metaFiles).length > 0) bundles.push({ wallet: `${name}-metadata`, tradeCount: 0, files: metaFiles, metadataOnly: true });
  const retry = <T>(work: () => Promise<T>, attempts: number) =>
    withRetry(work, {
      attempts,
      baseDelayMs: deps.commit.retryBaseDelayMs,
      maxDelayMs: deps.commit.retryMaxDelayMs,
      classify: warehouseRetryDecision,
      ...(deps.commit.retryDeadlineMs !== undefined ? { deadlineMs: deps.commit.retryDeadlineMs } : {}),
      ...(deps.commit.sleep ? { sleep: deps.commit.sleep } : {}),
    });
  let result: LoadResult;
  try {
    result = await retry(() => deps.warehouse.loadBundles(bundles), deps.commit.loadAttempts);
  } catch (error) {
    deps.metadata.release(metadata.claims);
    throw error;
  }
  deps.events.safeEmit('batch:committed', { wallets: wallets.length, inserted: Math.max(0, result.merged.trades - result.duplicatesRemoved), durationMs: 0 });
  // No checkpoint row: a chunk is part of a window. The walk's end moves the covered wallets' refreshed_at, and each
  // touched wallet's activity refresh (queued above) writes its whole checkpoint (trade count, newest fill) after it.
}
