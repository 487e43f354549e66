import { setMaxListeners } from 'node:events';

import PQueue from 'p-queue';

import { describeError, isTransient, unwritablePath } from '../lib/errors.js';
import type { PolymarketSource } from '../polymarket/source.js';
import type { StageStore } from '../staging/stage-store.js';
import type { InvalidTrader, RefreshItem, Warehouse } from '../warehouse/warehouse.js';
import { costsSince, onDemandCostUsd } from '../warehouse/warehouse.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { CommitBatcher } from './commit-batcher.js';
import { MetadataResolver } from './metadata-resolver.js';
import { RunEvents } from './run-events.js';
import type { BackfillOptions, RefreshOptions } from './run-options.js';
import { newRunId } from './run-id.js';
import type { RunSummary, StopKind } from './run-summary.js';
import { refreshMarkets } from './market-refresh.js';
import { describeInterrupted, stageWallet } from './wallet-stager.js';
import type { StageProgress } from './wallet-stager.js';
import { refreshWindowStart } from './refresh-window.js';
import { lookUpAgain } from './lookup-retries.js';
import { feedRefresh } from './feed-refresh.js';
import type { FeedRefreshDeps, FeedRefreshResult } from './feed-refresh.js';
import { refreshResolutions } from './resolutions-refresh.js';
import type { ResolutionsRefreshed } from './resolutions-refresh.js';
import type { LookupRetries } from './lookup-retries.js';
import { WalletStatsUpdater } from './wallet-stats.js';
import type { StatsSweep } from './wallet-stats.js';

export interface BackfillDeps {
  source: PolymarketSource;
  stage: StageStore;
  warehouse: Warehouse;
  events?: RunEvents;
}

/** A run that can be asked to stop: it takes no new wallet, lets in-flight ones finish, commits. */
export interface BackfillRun {
  readonly runId: string;
  readonly events: RunEvents;
  /** Resolves when the run has committed all it will commit. */
  readonly done: Promise<RunSummary>;
  stop(reason: string, kind?: StopKind): void;
}

export function startBackfill(deps: BackfillDeps, options: BackfillOptions): BackfillRun {
  const runId = options.runId ?? newRunId();
  const events = deps.events ?? new RunEvents();
  const stopper = new AbortController();
  // Every in-flight wallet walk listens on the run's stop signal.
  setMaxListeners(0, stopper.signal);
  let stopReason: string | null = null;
  let stopKind: StopKind | null = null;
  const run: BackfillRun = {
    runId,
    events,
    done: Promise.resolve().then(() =>
      execute(deps, options, runId, events, stopper.signal, () => ({ reason: stopReason, kind: stopKind }), (reason, kind) => run.stop(reason, kind)),
    ),
    stop(reason: string, kind: StopKind = 'requested') {
      if (stopReason !== null) return;
      stopReason = reason;
      stopKind = kind;
      events.safeEmit('run:stopping', { reason, kind });
      stopper.abort(new Error(`run stopped: ${reason}`));
    },
  };
  return run;
}

async function execute(
  deps: BackfillDeps,
  options: BackfillOptions,
  runId: string,
  events: RunEvents,
  stopSignal: AbortSignal,
  stopState: () => { reason: string | null; kind: StopKind | null },
  stop: (reason: string, kind: StopKind) => void,
): Promise<RunSummary> {
  const started = Date.now();
  const { warehouse, stage, source } = deps;
  const costsAtStart = warehouse.costs?.();

  const refresh = options.refresh;
  // Scanning a million traders for malformed values must not delay the first request (on two cores
  // it would compete with the plan query): it starts once the first wallet is under way, runs beside
  // the fetches and is awaited before the summary. A refresh only takes completed wallets: invalid
  // traders are the backfill's to record.
  let invalidRecorded: Promise<InvalidTrader[]> | undefined = refresh ? Promise.resolve([]) : undefined;
  const recordInvalid = () => {
    if (invalidRecorded) return;
    invalidRecorded = warehouse.recordInvalidTraders(runId).then((invalid) => {
      for (const trader of invalid) events.safeEmit('wallet:failed', { wallet: trader.value, error: trader.reason, stage: 'invalid', kind: 'permanent' });
      events.safeEmit('run:planned', { runId, invalid: invalid.length });
      return invalid;
    });
    invalidRecorded.catch(() => undefined); // awaited below; this only keeps an early failure from being unhandled
  };

  const metadata = new MetadataResolver(source, warehouse, { signal: stopSignal, shared: options.metadataCache ?? true });
  const breaker = new CircuitBreaker(options.breaker ?? { window: 20, threshold: 0.8 });
  const statsUpdater = new WalletStatsUpdater({ warehouse, events, ...(options.shard ? { shard: options.shard } : {}) });
  const committer = new CommitBatcher({
    warehouse,
    policy: options.commit,
    events,
    runId,
    onReleaseClaims: (staged) => metadata.release(staged.claims),
    refresh: refresh !== undefined,
    stage,
  });
  const queue = new PQueue({ concurrency: options.concurrency });
  let planned = 0;
  let reusedStaged = 0;

  // Wallets a stop abandoned in flight, and what the stop interrupted: their checkpoints say so at the end.
  const interrupted: { wallet: string; note: string }[] = [];
  const processWallet = async (item: PlanItem) => {
    const { wallet } = item;
    events.safeEmit('wallet:start', { wallet });
    let staged;
    const progress: StageProgress = { phase: 'trades', pages: 0, trades: 0 };
    try {
      staged = await stageWallet(
        wallet,
        { source, stage, metadata, events, runId, reuseStaged: options.reuseStaged },
        stopSignal,
        {
          ...(item.startSeconds === undefined && item.activityStartSeconds === undefined
            ? {}
            : { window: { startSeconds: item.startSeconds ?? 1, activityStartSeconds: item.activityStartSeconds ?? 1 } }),
          ...(item.activityOnly ? { activityOnly: true } : {}),
        },
        progress,
      );
    } catch (error) {
      // A wallet abandoned because the run is stopping is not a failure: it is simply still to do.
      if (stopSignal.aborted) {
        interrupted.push({ wallet, note: describeInterrupted(progress, stopState().reason ?? 'stop requested') });
        return;
      }
      const outage = isTransient(error);
      events.safeEmit('wallet:failed', { wallet, error: describeError(error), stage: 'fetch', kind: outage ? 'transient' : 'permanent' });
      committer.fail(wallet, error, { transient: outage });
      const full = unwritablePath(error);
      if (full !== undefined) {
        stop(`cannot write the stage at ${full} (${describeError(error)}); free space or fix permissions there, then run again`, 'unwritable');
        return;
      }
      if (breaker.record(outage)) stop(`circuit breaker open: ${breaker.describe()}; the API looks down, try again later`, 'circuit-breaker');
      return;
    }
    breaker.record(false);
    if (staged.reused) reusedStaged += 1;
    events.safeEmit('wallet:staged', { wallet, trades: staged.bundle.tradeCount, reused: staged.reused });
    await committer.add(staged);
  };

  // Each wallet's attempt is recorded before its fetch starts: if the process dies while it is in
  // flight, the next run finds the mark, counts the attempt, and tries the wallet alone first.
  const marks = new InFlightMarks(warehouse, runId, Math.max(32, options.concurrency * 2));
  let crashParked = 0;
  const limitReached = () => options.limit !== undefined && planned >= options.limit;
  // A wallet that killed the process while in flight runs alone, committed before anything else
  // starts, so it is the only one in flight if it does it again.
  const alone = async (item: PlanItem) => {
    await queue.onIdle();
    await committer.flush();
    planned += 1;
    await marks.mark(item.wallet, [item.wallet]);
    await processWallet(item);
    await committer.flush();
  };
  let markets = { checked: 0, resolved: 0 };
  let lookups: LookupRetries | undefined;
  let resolutions: ResolutionsRefreshed | undefined;
  let feed: FeedRefreshResult | undefined;
  let statsSweep: StatsSweep | undefined;
  try {
    const crash = await warehouse.settleCrashed({ ...(options.shard ? { shard: options.shard } : {}), maxFailedAttempts: options.commit.maxFailedAttempts, runId });
    crashParked = crash.parked.length;
    for (const parked of crash.parked) events.safeEmit('wallet:failed', { wallet: parked.wallet, error: parked.error, stage: 'crashed', kind: 'permanent' });
    const suspects = refresh ? crash.refreshSuspects : crash.suspects;
    if (suspects.length > 0) events.safeEmit('run:suspects', { wallets: suspects.length });
    const tried = new Set<string>();
    if (!refresh) {
      // Backfill suspects first: their plan position does not matter, their isolation does.
      for (const wallet of suspects) {
        if (stopSignal.aborted || limitReached()) break;
        tried.add(wallet);
        await alone({ wallet });
      }
    }
    const refreshSuspects = new Set(refresh ? suspects : []);
    if (refresh?.via !== undefined && refresh.via !== 'wallets' && !stopSignal.aborted) {
      const feedDeps = { source, metadata, stage, warehouse, events, runId, signal: stopSignal, commit: options.commit, ...(options.shard ? { shard: options.shard } : {}) };
      const walked = await walkFeed({ ...feedDeps, ...(refresh.clock ? { now: refresh.clock } : {}) }, refresh);
      ({ feed, resolutions } = walked);
      if (walked.markets) markets = walked.markets;
    }
    outer: for await (const chunk of plan(warehouse, options, feed)) {
      const todo = chunk.filter((item) => !tried.has(item.wallet));
      for (const [index, item] of todo.entries()) {
        if (stopSignal.aborted || limitReached()) break outer;
        if (refreshSuspects.has(item.wallet)) {
          await alone(item);
          continue;
        }
        // Keep the queue short so the plan streams instead of being read into memory.
        await queue.onSizeLessThan(options.concurrency);
        if (stopSignal.aborted) break outer;
        planned += 1;
        await marks.mark(item.wallet, todo.slice(index).map((i) => i.wallet));
        void queue.add(() => processWallet(item));
        recordInvalid();
      }
    }
    await queue.onIdle();
    await committer.flush();
    // A feed refresh looked markets up again before its plan (their resolutions decide whose activity is due).
    if (refresh && !stopSignal.aborted && feed?.via !== 'feed') markets = await refreshMarkets({ source, stage, warehouse, events, runId, signal: stopSignal }, refresh);
    if (!stopSignal.aborted) lookups = await lookUpAgain({ stage, warehouse, events, runId, signal: stopSignal, area: refresh ? 'refresh' : 'backfill' }, metadata);
    // After the look-ups: a market found by them may have ended too.
    if (!stopSignal.aborted) resolutions = (await refreshResolutions({ source, stage, warehouse, events, runId, signal: stopSignal, area: refresh ? 'refresh' : 'backfill' })) ?? resolutions;
    // Last, once for the run: every load flagged its wallets stale, and resolutions and look-ups above flag their
    // holders; recomputing per batch instead redid most wallets here (a first run's resolutions flag nearly all).
    if (!stopSignal.aborted) statsSweep = await statsUpdater.sweep(stopSignal);
  } finally {
    await committer.flush();
    await warehouse
      .noteInterrupted(interrupted)
      .catch((error: unknown) => events.safeEmit('checkpoint:failed', { wallets: interrupted.length, error: `could not record why ${interrupted.length} wallet(s) were interrupted: ${describeError(error)}` }));
    await warehouse.clearInFlight(runId).catch((error: unknown) => events.safeEmit('checkpoint:failed', { wallets: 0, error: `could not clear in-flight marks: ${describeError(error)}` }));
  }
  recordInvalid();
  const invalid = await invalidRecorded!;

  const stats = source.stats();
  const { loaded, trades, activity, checkpointWriteFailures, statsRecomputed, statsFailures } = committer.counters;
  const failed = committer.counters.failed + crashParked;
  const { reason, kind } = stopState();
  const summary: RunSummary = {
    runId,
    mode: refresh ? 'refresh' : 'backfill',
    ...(refresh ? { markets: markets } : {}),
    ...(lookups ? { lookups } : {}),
    ...(resolutions ? { resolutions } : {}),
    ...(feed ? { feed } : {}),
    ...(statsRecomputed > 0 || statsFailures > 0 || statsSweep ? { stats: { recomputed: statsRecomputed, failedBatches: statsFailures, ...(statsSweep ? { sweep: statsSweep } : {}) } } : {}),
    outcome: reason !== null ? 'stopped' : failed > 0 || invalid.length > 0 || checkpointWriteFailures > 0 ? 'some-failed' : 'complete',
    stopReason: reason,
    stopKind: kind,
    planned,
    loaded,
    failed,
    invalid: invalid.length,
    reusedStaged,
    trades,
    activity,
    checkpointWriteFailures,
    requests: stats.requests,
    retries: stats.retries,
    durationMs: Date.now() - started,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  const billed = costsSince(costsAtStart, warehouse.costs?.());
  if (billed) summary.bigquery = { ...billed, estimatedCostUsd: onDemandCostUsd(billed.bytesBilled) };
  events.safeEmit('run:finished', summary);
  return summary;
}


/**
 * In-flight marks, written before fetches start: a window of the next wallets in one statement, so no wallet waits
 * for a DML job (a crash then counts the whole window once, and the next run tries those alone). On DuckDB too: a
 * statement per wallet, about 50 ms beside the loads, capped a run at some 20 wallets a second.
 */
class InFlightMarks {
  readonly #marked = new Set<string>();
  constructor(
    private readonly warehouse: Warehouse,
    private readonly runId: string,
    private readonly window: number,
  ) {}

  async mark(wallet: string, upcoming: readonly string[]): Promise<void> {
    if (this.#marked.has(wallet)) {
      this.#marked.delete(wallet);
      return;
    }
    const batch = upcoming.slice(0, this.window);
    await this.warehouse.markInFlight(batch, this.runId);
    for (const w of batch) if (w !== wallet) this.#marked.add(w);
  }
}

/** One wallet of a plan: for a refresh where its windows start; for a backfill whether its activity alone is to do. */
interface PlanItem {
  wallet: string;
  startSeconds?: number;
  activityStartSeconds?: number;
  activityOnly?: boolean;
}

/**
 * A feed refresh's walk, then (feed mode) the resolutions of ended markets at once, so the holders of markets resolved
 * since get their redemptions with the activity the walk queued. A walk that fails is reported and the refresh goes
 * per wallet for every wallet this time; its committed pages stand, and the next feed refresh resumes it.
 */
async function walkFeed(
  deps: FeedRefreshDeps,
  refresh: RefreshOptions,
): Promise<{ feed?: FeedRefreshResult; resolutions?: ResolutionsRefreshed; markets?: { checked: number; resolved: number } }> {
  try {
    const result = await feedRefresh(deps, {
      via: refresh.via === 'feed' ? 'feed' : 'auto',
      overlapSeconds: refresh.overlapSeconds,
      ...(refresh.discoverMinVolume !== undefined ? { discoverMinVolume: refresh.discoverMinVolume } : {}),
      ...(refresh.feedChunkRows !== undefined ? { chunkRows: refresh.feedChunkRows } : {}),
    });
    if (result.via !== 'feed' || deps.signal.aborted) return { feed: result };
    // Markets held as open first (a resolved one is asked its payouts at once), then the resolutions: the holders of
    // markets resolved since get their redemptions with the activity the walk queued.
    const markets = await refreshMarkets(deps, refresh);
    const resolutions = await refreshResolutions({ ...deps, area: 'refresh' }, new Date(), (ids) => deps.warehouse.markHoldersActivityDue(ids).then(() => undefined));
    return { feed: result, markets, ...(resolutions ? { resolutions } : {}) };
  } catch (error) {
    if (deps.signal.aborted) return {};
    const reason = `the feed walk failed (${describeError(error)}); its committed pages stand and the next feed refresh resumes it`;
    deps.events.safeEmit('feed:unfit', { reason });
    return { feed: { via: 'wallets', reason, tracked: 0, pages: 0, rowsSeen: 0, rowsKept: 0, walletsTouched: 0, covered: 0, fallback: 'all', discovered: 0, resumed: false } };
  }
}

/**
 * The backfill plan (wallets not loaded yet), or the refresh plan (completed wallets and their windows). After a
 * feed walk, only what the feed could not do: the wallets outside its window, whole, and the activity it queued.
 */
async function* plan(warehouse: Warehouse, options: BackfillOptions, feed?: FeedRefreshResult): AsyncIterable<PlanItem[]> {
  const shard = options.shard ? { shard: options.shard } : {};
  const refresh = options.refresh;
  // Wallets completed before activity was collected are pending again until it is loaded (fills not fetched again).
  await warehouse.reopenForActivity();
  if (!refresh) {
    for await (const chunk of warehouse.planWallets({ retryParked: options.retryParked, ...shard })) {
      yield chunk.map(({ wallet, fillsLoaded }) => (fillsLoaded ? { wallet, activityOnly: true } : { wallet }));
    }
    return;
  }
  // Wallets checkpointed by an older version learn their newest fill once, from the trades held.
  await warehouse.fillLastTradeAt();
  const base = { maxFailedAttempts: options.commit.maxFailedAttempts, ...shard, ...(refresh.staleBefore ? { staleBefore: refresh.staleBefore } : {}) };
  const windows = (items: RefreshItem[], activityOnly: boolean): PlanItem[] => {
    const nowMs = Date.now();
    return items.map(({ wallet, since, activitySince }) => ({
      wallet,
      ...(activityOnly ? { activityOnly: true } : { startSeconds: refreshWindowStart(since, refresh.overlapSeconds, nowMs) }),
      activityStartSeconds: refreshWindowStart(activitySince, refresh.overlapSeconds, nowMs),
    }));
  };
  if (feed?.via !== 'feed') {
    for await (const chunk of warehouse.planRefresh({ ...base, ...(refresh.wallets ? { wallets: refresh.wallets } : {}) })) yield windows(chunk, false);
    return;
  }
  const whole = new Set(feed.fallback === 'all' ? [] : feed.fallback);
  if (whole.size > 0) {
    for await (const chunk of warehouse.planRefresh({ ...base, wallets: [...whole] })) yield windows(chunk, false);
  }
  for await (const chunk of warehouse.planRefresh({ ...base, activityDueOnly: true })) {
    yield windows(chunk.filter((item) => !whole.has(item.wallet)), true);
  }
}
