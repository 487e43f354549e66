import { hostname } from 'node:os';

import type { BackfillOptions, RefreshOptions } from '../engine/backfill-run.js';
import type { CommitPolicy } from '../engine/commit-batcher.js';
import type { ReloadSummary } from '../engine/reload-staged.js';
import { RunEvents } from '../engine/run-events.js';
import { newRunId } from '../engine/run-id.js';
import type { RunSummary } from '../engine/run-summary.js';
import { leaseScope, takeLease } from '../lease/held-lease.js';
import type { HeldLease } from '../lease/held-lease.js';
import type { LeaseInfo } from '../lease/lease.js';
import { describeError } from '../lib/errors.js';
import type { SourceLogger } from '../polymarket/index.js';
import type { LeaderboardQuery } from '../polymarket/leaderboard.js';
import type { FailedWallet, RunRecord, StatusFigures, Warehouse } from '../warehouse/warehouse.js';
import { resolveBackends } from './backends.js';
import type { Backends } from './backends.js';
import type { BackfillConfig } from './config.js';
import { readFigures, readLiveStatus } from './live-status.js';
import { RunStatusTracker, publishSnapshots } from './run-status.js';
import { handleStopSignals, onProcessExit } from './shutdown.js';
import type { StatusJson } from './status-json.js';
import type { RejectedLine } from './traders-file.js';

/*
 * The engine, the Polymarket client and the CSV reader are imported when first used: a `status`
 * or the dashboard during a run needs none of them, and on a busy two-core machine their start-up
 * is most of its answer time.
 */
const engine = () => import('../engine/backfill-run.js');
const polymarket = () => import('../polymarket/index.js');
const tradersFile = () => import('./traders-file.js');

/** The subset of a pino logger the library uses. */
export interface Logger extends SourceLogger {
  error(obj: object, msg?: string): void;
  /** Called as each run starts, so a logger can tag every later line with it (Cloud Logging's run_id label). */
  setRunId?(runId: string): void;
}

const SILENT: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

export interface OpenBackfillOptions {
  logger?: Logger;
  /** Stop gracefully on SIGTERM/SIGINT during a run (the CLI's behaviour); default false for a library caller. */
  handleSignals?: boolean;
}

/** Another live run holds the lease: nothing was done. */
export interface LockHeld {
  kind: 'lock-held';
  holder: LeaseInfo;
  location: string;
}

export type RunResult = { kind: 'finished'; summary: RunSummary; refresh?: RunSummary } | LockHeld;
export type ReloadResult = { kind: 'finished'; summary: ReloadSummary } | LockHeld;

export interface StatusReport extends StatusFigures {
  warehouse: string;
}

/** The tool as a library: what every CLI command does, callable from your own code. */
export interface Backfill {
  readonly config: BackfillConfig;
  /**
   * Backfills every wallet of `traders` that is not loaded yet, under the run lease; with
   * `refresh`, then refreshes completed wallets with what is left of --max-runtime.
   */
  run(options?: { events?: RunEvents; refresh?: boolean }): Promise<RunResult>;
  /** Refreshes completed wallets (new fills since the newest held, market resolutions), under the run lease. */
  refresh(options?: { events?: RunEvents }): Promise<RunResult>;
  /** Loads failed wallets again from their staged files, with no API call, under the run lease. */
  reload(options?: { includeParked?: boolean; events?: RunEvents }): Promise<ReloadResult>;
  status(): Promise<StatusReport>;
  /**
   * The status as `backfill status --json` and the dashboard show it: from the warehouse when it
   * can be read, from a live run's snapshot while the run holds an embedded warehouse.
   */
  liveStatus(options?: { failures?: boolean }): Promise<StatusJson>;
  failed(options?: { limit?: number; kind?: 'backfill' | 'refresh' }): Promise<FailedWallet[]>;
  /** Adds normalised, valid addresses to `traders`; returns how many were new. */
  addTraders(addresses: readonly string[], source: string): Promise<number>;
  /**
   * Streams a wallet list (one address per line, or a CSV with a wallet_address column) into
   * `traders` in batches; rejected lines are reported as they are met.
   */
  importTraders(path: string, onRejected: (line: RejectedLine) => void): Promise<{ read: number; valid: number; added: number; rejected: number }>;
  /**
   * Adds the wallets of Polymarket's public trader leaderboard to `traders` (source
   * `leaderboard:<category>:<period>:<order>`); wallets already listed are not added again.
   */
  /** `stopped` says why the board walk ended before the board's end or the count, when it did (the wallets found are added). */
  discoverLeaderboard(query: LeaderboardQuery): Promise<{ found: number; added: number; source: string; stopped?: string }>;
  /** The warehouse, opened (and migrated) on first use. */
  warehouse(): Promise<Warehouse>;
  close(): Promise<void>;
}

export function openBackfill(config: BackfillConfig, options: OpenBackfillOptions = {}): Backfill {
  const logger = options.logger ?? SILENT;
  const backends = resolveBackends(config);
  // Every use of a warehouse needs its tables; a warehouse that cannot get them is closed again.
  const openMigrated = async (openOptions?: { lockWaitMs?: number }) => {
    const wh = await backends.openWarehouse(openOptions);
    try {
      await wh.migrate();
    } catch (error) {
      await wh.close().catch(() => undefined);
      throw error;
    }
    return wh;
  };
  let opened: Promise<Warehouse> | undefined;
  const warehouse = () => {
    opened ??= openMigrated();
    opened.catch(() => {
      opened = undefined;
    });
    return opened;
  };
  // The warehouse, and the checks a write needs (once per process): what runs and reloads use.
  let checked: Promise<void> | undefined;
  const writableWarehouse = async () => {
    const wh = await warehouse();
    checked ??= backends.preflight();
    checked.catch(() => {
      checked = undefined;
    });
    await checked;
    return wh;
  };

  return {
    config,
    warehouse,
    run: async (runOptions = {}) => {
      const events = runOptions.events ?? new RunEvents();
      const signals = options.handleSignals ?? false;
      // Read now: a bad --wallets file must stop the job before its backfill, not hours after.
      const wallets = runOptions.refresh ? await refreshWallets(config) : undefined;
      const result = await underLease(backends, config, logger, config.run.shard, async (runId, lease) => {
        const summary = await executeRun(config, backends, logger, writableWarehouse, runId, lease, events, signals);
        if (!runOptions.refresh || !backfillLeftTime(summary) || lease.lost.aborted) return { summary };
        const refresh = await executeRun(config, backends, logger, writableWarehouse, newRunId(), lease, events, signals, refreshOptions(config, wallets));
        return { summary, refresh };
      });
      return result.kind === 'finished' ? { kind: 'finished', ...result.summary } : result;
    },
    refresh: async (runOptions = {}) => {
      const events = runOptions.events ?? new RunEvents();
      const refresh = refreshOptions(config, await refreshWallets(config));
      return underLease(backends, config, logger, config.run.shard, (runId, lease) =>
        executeRun(config, backends, logger, writableWarehouse, runId, lease, events, options.handleSignals ?? false, refresh),
      );
    },
    reload: (reloadOptions = {}) =>
      // Reload covers every shard's wallets, so it takes the `all` scope, which no sharded run overlaps.
      underLease(backends, config, logger, undefined, async (runId) => {
        const wh = await writableWarehouse();
        const { reloadStaged } = await import('../engine/reload-staged.js');
        return reloadStaged(
          { stage: backends.stage, warehouse: wh, events: reloadOptions.events ?? new RunEvents() },
          { runId, includeParked: reloadOptions.includeParked ?? false, commit: commitPolicy(config) },
        );
      }),
    status: async () => {
      const wh = await warehouse();
      return { warehouse: wh.description, ...(await wh.status()) };
    },
    liveStatus: (statusOptions = {}) =>
      readLiveStatus({
        ...statusOptions,
        leases: backends.leases,
        snapshotPath: backends.statusSnapshotPath,
        // Reuse the warehouse this object already has open, and keep a remote one open (its
        // clients and table checks are not worth redoing every poll); an embedded file is opened
        // for this read only, so a dashboard polling between runs never keeps a run out of it.
        open: async () => {
          if (opened || !backends.statusSnapshotPath) return { warehouse: await warehouse(), release: async () => undefined };
          const wh = await openMigrated({ lockWaitMs: 0 });
          return { warehouse: wh, release: () => wh.close() };
        },
      }),
    failed: async (failedOptions = {}) => (await warehouse()).failedWallets(failedOptions),
    addTraders: async (addresses, source) => (await warehouse()).addTraders(addresses, source),
    discoverLeaderboard: async (query) => {
      const { checkLeaderboardQuery, createPolymarketSource } = await polymarket();
      // The tag names the query as sent (category trimmed and lower-cased, defaults filled in).
      const sent = checkLeaderboardQuery(query);
      const source = createPolymarketSource({ ...config.source, logger });
      try {
        const { entries, stopped } = await source.leaderboard(query);
        const tag = `leaderboard:${sent.category}:${sent.timePeriod}:${sent.orderBy}`;
        const added = await (await warehouse()).addTraders(
          entries.map((e) => e.wallet),
          tag,
        );
        return { found: entries.length, added, source: tag, ...(stopped === undefined ? {} : { stopped }) };
      } finally {
        await source.close();
      }
    },
    importTraders: async (path, onRejected) => {
      const wh = await warehouse();
      const totals = { read: 0, valid: 0, added: 0, rejected: 0 };
      for await (const batch of (await tradersFile()).readTradersFile(path)) {
        for (const r of batch.rejected) onRejected(r);
        totals.read += batch.wallets.length + batch.rejected.length;
        totals.valid += batch.wallets.length;
        totals.rejected += batch.rejected.length;
        totals.added += await wh.addTraders(batch.wallets, `import:${path}`);
      }
      return totals;
    },
    close: async () => {
      const current = opened;
      opened = undefined;
      if (current) await (await current.catch(() => undefined))?.close();
    },
  };
}

/** The mission's budgets (loads 3 attempts, checkpoint writes 5) plus the batching settings. */
export function commitPolicy(config: BackfillConfig): CommitPolicy {
  return {
    maxWallets: config.run.commitEvery,
    maxDelayMs: config.run.commitIntervalMs,
    loadAttempts: config.budgets.loadAttempts,
    checkpointAttempts: config.budgets.checkpointAttempts,
    retryBaseDelayMs: config.budgets.retryBaseDelayMs,
    retryMaxDelayMs: config.budgets.retryMaxDelayMs,
    maxFailedAttempts: config.run.maxFailedAttempts,
  };
}

export function holderName(runId: string): string {
  return `${hostname()}:${process.pid} run ${runId}`;
}

/**
 * Takes the run lease before the warehouse is opened — a second runner learns who holds it at
 * once, not from DuckDB's file lock — runs `work`, and always releases the lease: on return, on
 * an error, and (through onProcessExit) on a fatal error or a forced exit.
 */
async function underLease<T>(
  backends: Backends,
  config: BackfillConfig,
  logger: Logger,
  shard: { index: number; count: number } | undefined,
  work: (runId: string, lease: HeldLease) => Promise<T>,
): Promise<{ kind: 'finished'; summary: T } | LockHeld> {
  const runId = newRunId();
  logger.setRunId?.(runId);
  const taken = await takeLease(backends.leases, leaseScope(shard), holderName(runId), {
    ttlMs: config.leaseTtlMs,
    onRenewFailure: (message) => logger.warn({}, message),
  });
  if ('refused' in taken) return { kind: 'lock-held', holder: taken.refused.current, location: taken.refused.location };
  const lease = taken.held;
  const unregister = onProcessExit(() => lease.release());
  try {
    if (lease.tookOver) {
      logger.warn(
        { lease: lease.location, previous: lease.tookOver.holder, expiresAt: lease.tookOver.expiresAt },
        `took over the run lease of ${lease.tookOver.holder}: its process is gone or its lease expired`,
      );
    }
    return { kind: 'finished', summary: await work(runId, lease) };
  } finally {
    unregister();
    await lease.release().catch((error: unknown) => logger.warn({}, `could not release run lease ${lease.location}: ${describeError(error)}`));
  }
}

/**
 * One engine run (a backfill, or with `refresh` options a refresh) under a lease already held:
 * stop on signals, on a lost lease and at --max-runtime (counted from process start).
 */
async function executeRun(
  config: BackfillConfig,
  backends: Backends,
  logger: Logger,
  warehouse: () => Promise<Warehouse>,
  runId: string,
  lease: HeldLease,
  events: RunEvents,
  handleSignals: boolean,
  refresh?: RefreshOptions,
): Promise<RunSummary> {
  logger.setRunId?.(runId);
  // Modules first: while the run holds the DuckDB file and has no snapshot yet, `status` waits.
  const [{ startBackfill }, { createPolymarketSource }] = await Promise.all([engine(), polymarket()]);
  const wh = await warehouse();
  const source = createPolymarketSource({ ...config.source, logger });
  const backfillOptions: BackfillOptions = {
    runId,
    concurrency: config.run.concurrency,
    commit: commitPolicy(config),
    retryParked: config.run.retryParked,
    reuseStaged: config.run.reuseStaged,
    metadataCache: config.run.metadataCache,
    breaker: config.run.breaker,
    ...(config.run.shard ? { shard: config.run.shard } : {}),
    ...(config.run.limit !== undefined ? { limit: config.run.limit } : {}),
    ...(refresh ? { refresh } : {}),
  };
  const publisher = backends.statusSnapshotPath
    ? publishSnapshots({
        path: backends.statusSnapshotPath,
        intervalMs: config.statusIntervalMs,
        description: wh.description,
        tracker: new RunStatusTracker({ runId, leaseHolder: lease.info.holder, events, stats: () => source.stats(), limits: config.source.rateLimits }),
        figures: () => readFigures(wh),
        firstAfter: new Promise((resolve) => events.once('wallet:start', resolve)),
        onError: (message) => logger.warn({}, message),
      })
    : undefined;
  try {
    // After the publisher has started: during a big stage's sweep, `status` gets a snapshot when
    // its interval comes instead of waiting on the file. Only files older than a lease's life, so
    // a writer of another warehouse sharing this stage is never touched.
    const swept = await backends.stage.sweepTemporaryFiles(config.leaseTtlMs);
    if (swept > 0) logger.info({ swept }, `removed ${swept} temporary staged file(s) left by a killed run`);
  } catch (error) {
    await publisher?.finish('stopped');
    await source.close();
    throw error;
  }
  const run = startBackfill({ source, stage: backends.stage, warehouse: wh, events }, backfillOptions);
  logger.info(
    { runId, mode: refresh ? 'refresh' : 'backfill', warehouse: wh.description, stage: backends.stage.location, lease: lease.location, concurrency: config.run.concurrency },
    `${refresh ? 'refresh' : 'run'} started: ${runId} on ${wh.description}, stage ${backends.stage.location}, concurrency ${config.run.concurrency}`,
  );
  const signals = handleSignals
    ? handleStopSignals({
        onStop: (signal) => run.stop(`received ${signal}`, 'signal'),
        deadlineMs: config.shutdownDeadlineMs,
        exitCode: 3,
        onForcedExit: (message) => logger.error({}, message),
      })
    : undefined;
  const onLeaseLost = () => run.stop(describeError(lease.lost.reason), 'lease-lost');
  lease.lost.addEventListener('abort', onLeaseLost);
  const { maxRuntimeMs, maxRuntimeText } = config.run;
  // Counted from process start, as the platform's task timeout is.
  const runtimeTimer =
    maxRuntimeMs === undefined
      ? undefined
      : setTimeout(() => run.stop(`--max-runtime ${maxRuntimeText ?? `${maxRuntimeMs}ms`} reached`, 'max-runtime'), Math.max(0, maxRuntimeMs - process.uptime() * 1000));
  let state: 'finished' | 'stopped' = 'stopped';
  try {
    const summary = await run.done;
    state = summary.outcome === 'stopped' ? 'stopped' : 'finished';
    // Bookkeeping, not data: a run whose record cannot be written has still done its work.
    await wh.recordRun(runRecord(summary)).catch((error: unknown) => logger.warn({}, `could not record run ${summary.runId} in backfill_runs: ${describeError(error)}`));
    return summary;
  } finally {
    await publisher?.finish(state);
    if (runtimeTimer) clearTimeout(runtimeTimer);
    signals?.dispose();
    lease.lost.removeEventListener('abort', onLeaseLost);
    await source.close();
  }
}

/** A run's row of backfill_runs. */
export function runRecord(summary: RunSummary, finishedAt = new Date()): RunRecord {
  return {
    run_id: summary.runId,
    mode: summary.mode,
    started_at: new Date(finishedAt.getTime() - summary.durationMs).toISOString(),
    finished_at: finishedAt.toISOString(),
    outcome: summary.outcome,
    stop_reason: summary.stopReason,
    planned: summary.planned,
    loaded: summary.loaded,
    failed: summary.failed,
    trades: summary.trades,
    bytes_billed: summary.bigquery?.bytesBilled ?? 0,
    bytes_processed: summary.bigquery?.bytesProcessed ?? 0,
    jobs: summary.bigquery?.jobs ?? 0,
  };
}

/** The wallets of `refresh --wallets FILE`, or undefined (every completed wallet). */
async function refreshWallets(config: BackfillConfig): Promise<string[] | undefined> {
  const file = config.refresh.walletsFile;
  if (!file) return undefined;
  const wallets: string[] = [];
  for await (const batch of (await tradersFile()).readTradersFile(file)) wallets.push(...batch.wallets);
  return wallets;
}

/** `--older-than` counts back from when the refresh starts; `wallets` were read before the lease was taken. */
function refreshOptions(config: BackfillConfig, wallets: string[] | undefined): RefreshOptions {
  const r = config.refresh;
  return {
    overlapSeconds: Math.round(r.overlapMs / 1000),
    marketRefreshAfterMs: r.marketRefreshAfterMs,
    ...(r.olderThanMs !== undefined ? { staleBefore: new Date(Date.now() - r.olderThanMs).toISOString() } : {}),
    ...(wallets ? { wallets } : {}),
  };
}

/** After a backfill that ran to its end (not stopped), the refresh gets what is left of --max-runtime. */
function backfillLeftTime(summary: RunSummary): boolean {
  return summary.outcome !== 'stopped';
}
