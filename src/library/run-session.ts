/**
 * One engine run (a backfill, or with refresh options a refresh) under a lease already held. What
 * the run takes — the Polymarket client, the status publisher, the stop sources it listens to — goes
 * on one stack and is released in reverse order however the run ends; what can stop it — a signal,
 * a lost lease, --max-runtime — is one list of stop sources, each starting to watch and returning
 * how to stop watching.
 */
import type { CommitPolicy } from '../engine/commit-batcher.js';
import type { RunEvents } from '../engine/run-events.js';
import type { BackfillOptions, RefreshOptions } from '../engine/run-options.js';
import type { RunSummary, StopKind } from '../engine/run-summary.js';
import type { HeldLease } from '../lease/held-lease.js';
import { describeError } from '../lib/errors.js';
import type { RunRecord, Warehouse } from '../warehouse/warehouse.js';
import { readFigures } from '../status/read-status.js';
import { RunStatusTracker, publishSnapshots } from '../status/run-status.js';
import type { Backends } from './backends.js';
import type { BackfillConfig } from './config.js';
import { handleStopSignals } from './shutdown.js';

/*
 * The engine and the Polymarket client are imported when a run starts: a `status` or the dashboard
 * during a run needs neither, and on a busy two-core machine their start-up is most of its answer time.
 */
const engine = () => import('../engine/backfill-run.js');
const polymarket = () => import('../polymarket/index.js');

/** The subset of a pino logger a run uses. */
export interface RunLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  setRunId?(runId: string): void;
}

/** What every run of one Backfill shares. */
export interface RunContext {
  config: BackfillConfig;
  backends: Backends;
  logger: RunLogger;
  /** The warehouse, opened, migrated and checked for writing. */
  warehouse: () => Promise<Warehouse>;
  /** Stop gracefully on SIGTERM/SIGINT; a second signal or the deadline calls forceExit. */
  stopSignals: { forceExit: (exitCode: number) => void } | undefined;
}

/** Watches for one reason to stop the run; returns how to stop watching. */
type StopSource = (stop: (reason: string, kind: StopKind) => void) => () => void;

/** Things held by a run, released in reverse order of taking, each once; a failing release is logged, not thrown. */
class ReleaseStack {
  readonly #items: { what: string; release: () => unknown }[] = [];
  constructor(private readonly logger: RunLogger) {}

  defer(what: string, release: () => unknown): void {
    this.#items.push({ what, release });
  }

  async releaseAll(): Promise<void> {
    for (let item = this.#items.pop(); item; item = this.#items.pop()) {
      try {
        await item.release();
      } catch (error) {
        this.logger.warn({}, `could not release ${item.what}: ${describeError(error)}`);
      }
    }
  }
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
    retryDeadlineMs: config.budgets.retryDeadlineMs,
    maxFailedAttempts: config.run.maxFailedAttempts,
  };
}

function backfillOptions(config: BackfillConfig, runId: string, refresh: RefreshOptions | undefined): BackfillOptions {
  return {
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
}

/** Everything that can stop a run from outside the engine. */
function stopSources(context: RunContext, lease: HeldLease): StopSource[] {
  const { config, logger, stopSignals } = context;
  const sources: StopSource[] = [
    (stop) => {
      const onLost = () => stop(describeError(lease.lost.reason), 'lease-lost');
      lease.lost.addEventListener('abort', onLost);
      return () => lease.lost.removeEventListener('abort', onLost);
    },
  ];
  if (stopSignals) {
    sources.push((stop) => {
      const signals = handleStopSignals({
        onStop: (signal) => stop(`received ${signal}`, 'signal'),
        deadlineMs: config.shutdownDeadlineMs,
        exitCode: 3,
        onForcedExit: (message) => logger.error({}, message),
        forceExit: stopSignals.forceExit,
      });
      return () => signals.dispose();
    });
  }
  const { maxRuntimeMs, maxRuntimeText } = config.run;
  if (maxRuntimeMs !== undefined) {
    sources.push((stop) => {
      // Counted from process start, as the platform's task timeout is.
      const timer = setTimeout(
        () => stop(`--max-runtime ${maxRuntimeText ?? `${maxRuntimeMs}ms`} reached`, 'max-runtime'),
        Math.max(0, maxRuntimeMs - process.uptime() * 1000),
      );
      return () => clearTimeout(timer);
    });
  }
  return sources;
}

/** Runs the engine once under `lease`, stopping on any stop source, and records the run in backfill_runs. */
export async function executeRun(context: RunContext, runId: string, lease: HeldLease, events: RunEvents, refresh?: RefreshOptions): Promise<RunSummary> {
  const { config, backends, logger } = context;
  logger.setRunId?.(runId);
  const held = new ReleaseStack(logger);
  let state: 'finished' | 'stopped' = 'stopped';
  try {
    // Modules first: while the run holds the DuckDB file and has no snapshot yet, `status` waits.
    const [{ startBackfill }, { createPolymarketSource }] = await Promise.all([engine(), polymarket()]);
    const wh = await context.warehouse();
    const source = createPolymarketSource({ ...config.source, logger });
    held.defer('the Polymarket client', () => source.close());
    if (backends.statusSnapshotPath) {
      const publisher = publishSnapshots({
        path: backends.statusSnapshotPath,
        intervalMs: config.statusIntervalMs,
        description: wh.description,
        tracker: new RunStatusTracker({ runId, leaseHolder: lease.info.holder, events, stats: () => source.stats(), limits: config.source.rateLimits }),
        figures: () => readFigures(wh),
        firstAfter: new Promise((resolve) => events.once('wallet:start', resolve)),
        onError: (message) => logger.warn({}, message),
      });
      held.defer('the status publisher', () => publisher.finish(state));
    }
    // After the publisher has started: during a big stage's sweep, `status` gets a snapshot when
    // its interval comes instead of waiting on the file. Only files older than a lease's life, so
    // a writer of another warehouse sharing this stage is never touched.
    const swept = await backends.stage.sweepTemporaryFiles(config.leaseTtlMs);
    if (swept > 0) logger.info({ swept }, `removed ${swept} temporary staged file(s) left by a killed run`);

    const run = startBackfill({ source, stage: backends.stage, warehouse: wh, events }, backfillOptions(config, runId, refresh));
    logger.info(
      { runId, mode: refresh ? 'refresh' : 'backfill', warehouse: wh.description, stage: backends.stage.location, lease: lease.location, concurrency: config.run.concurrency },
      `${refresh ? 'refresh' : 'run'} started: ${runId} on ${wh.description}, stage ${backends.stage.location}, concurrency ${config.run.concurrency}`,
    );
    for (const watch of stopSources(context, lease)) held.defer('a stop source', watch((reason, kind) => run.stop(reason, kind)));

    const summary = await run.done;
    state = summary.outcome === 'stopped' ? 'stopped' : 'finished';
    // Bookkeeping, not data: a run whose record cannot be written has still done its work.
    await wh.recordRun(runRecord(summary)).catch((error: unknown) => logger.warn({}, `could not record run ${summary.runId} in backfill_runs: ${describeError(error)}`));
    return summary;
  } finally {
    await held.releaseAll();
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
