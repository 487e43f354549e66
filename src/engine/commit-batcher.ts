import { BackfillError, describeError, isTransient } from '../lib/errors.js';
import { withRetry } from '../lib/retry.js';
import type { RetryDecision } from '../lib/retry.js';
import { setAsideBundle } from '../staging/manifest.js';
import type { StageStore } from '../staging/stage-store.js';
import type { CheckpointRow, FailureClass, LoadResult, Warehouse } from '../warehouse/warehouse.js';
import { fetchFailureClass } from './failure-class.js';
import type { StagedWallet } from './wallet-stager.js';
import type { RunEvents } from './run-events.js';
import type { StatsRecompute } from './wallet-stats.js';

export interface CommitPolicy {
  /** Commit once this many wallets wait… */
  maxWallets: number;
  /** …or this long after the first one arrived, whichever comes first. */
  maxDelayMs: number;
  /** The mission's budgets: loads 3 attempts, checkpoint writes 5, exponential backoff. */
  loadAttempts: number;
  checkpointAttempts: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  /** No load or checkpoint attempt starts after this long since the first (RETRY_BUDGETS in lib/retry-budgets.ts). */
  retryDeadlineMs?: number;
  /** Failed runs after which a wallet is parked. */
  maxFailedAttempts: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface CommitCounters {
  loaded: number;
  failed: number;
  trades: number;
  /** Activity and combo rows inserted. */
  activity: number;
  checkpointWriteFailures: number;
  /** Wallets whose positions and wallet_stats were recomputed after their load, and batches whose recompute failed. */
  statsRecomputed: number;
  statsFailures: number;
}

/** What follows a failed refresh load: its window is staged apart and never reused. */
const REFRESH_AGAIN = 'the next refresh fetches its window again';

interface Pending {
  staged: StagedWallet;
}

/**
 * Many wallets per load and MERGE, one checkpoint row per wallet written right after its data is
 * committed. A wallet's checkpoint never says "loaded" before its rows are in the warehouse.
 */
export class CommitBatcher {
  readonly counters: CommitCounters = { loaded: 0, failed: 0, trades: 0, activity: 0, checkpointWriteFailures: 0, statsRecomputed: 0, statsFailures: 0 };
  readonly #warehouse: Warehouse;
  readonly #policy: CommitPolicy;
  readonly #events: RunEvents;
  readonly #runId: string;
  readonly #onReleaseClaims: (staged: StagedWallet) => void;
  readonly #refresh: boolean;
  readonly #stage: StageStore | undefined;
  readonly #stats: StatsRecompute | undefined;
  #pending: Pending[] = [];
  #failures: CheckpointRow[] = [];
  #timer: NodeJS.Timeout | undefined;
  #chain: Promise<void> = Promise.resolve();
  /** Wallets handed over but not yet committed; bounded so fetching cannot outrun the warehouse. */
  #uncommitted = 0;
  #roomWaiters: (() => void)[] = [];

  constructor(options: {
    warehouse: Warehouse;
    policy: CommitPolicy;
    events: RunEvents;
    runId: string;
    onReleaseClaims: (staged: StagedWallet) => void;
    /** Checkpoints are refresh outcomes of completed wallets (their backfill columns stay). */
    refresh?: boolean;
    /** Where the bundles are staged: a bundle the warehouse refuses is set aside there. */
    stage?: StageStore;
    /** Recomputes the positions and wallet_stats of each batch's loaded wallets once their checkpoints are written. */
    stats?: StatsRecompute;
  }) {
    this.#warehouse = options.warehouse;
    this.#policy = options.policy;
    this.#events = options.events;
    this.#runId = options.runId;
    this.#onReleaseClaims = options.onReleaseClaims;
    this.#refresh = options.refresh ?? false;
    this.#stage = options.stage;
    this.#stats = options.stats;
  }

  /**
   * Queues a staged wallet for the next commit. Resolves as soon as there is room in the backlog
   * (two batches), not when the wallet is committed: the fetch worker moves on to the next wallet
   * while the warehouse loads this one.
   */
  async add(staged: StagedWallet): Promise<void> {
    this.#uncommitted += 1;
    this.#pending.push({ staged });
    if (this.#pending.length >= this.#policy.maxWallets) this.#schedule();
    else this.#timer ??= setTimeout(() => this.#schedule(), this.#policy.maxDelayMs);
    while (this.#uncommitted > this.#policy.maxWallets * 2) {
      await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
    }
  }

  /**
   * Records a wallet that failed before it could be loaded; written with the next commit. A
   * `transient` failure (the API was down) is retried like any other but does not count towards
   * parking the wallet.
   */
  fail(wallet: string, error: unknown, options: { transient?: boolean } = {}): void {
    this.counters.failed += 1;
    this.#failures.push(this.#failed(wallet, options.transient ? 'transient' : 'failed', fetchFailureClass(error), null, describeError(error)));
    if (this.#failures.length >= this.#policy.maxWallets) this.#schedule();
    else this.#timer ??= setTimeout(() => this.#schedule(), this.#policy.maxDelayMs);
  }

  /** Commits everything queued so far and waits for it. */
  async flush(): Promise<void> {
    this.#schedule();
    await this.#chain;
  }

  #schedule(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    const failures = this.#failures;
    this.#pending = [];
    this.#failures = [];
    if (batch.length === 0 && failures.length === 0) return;
    // Commits run one after another: MERGEs into one table must not race each other.
    this.#chain = this.#chain
      .then(() => this.#commit(batch, failures))
      // #commit handles every expected failure itself; anything else must not stall later commits.
      .catch((error: unknown) => this.#events.safeEmit('checkpoint:failed', { wallets: batch.length + failures.length, error: describeError(error) }));
  }

  async #commit(batch: Pending[], failures: CheckpointRow[]): Promise<void> {
    const rows = [...failures];
    try {
      if (batch.length > 0) rows.push(...(await this.#load(batch.map((p) => p.staged))));
      await this.#writeCheckpoints(rows);
      await this.#recomputeStats(rows.filter((r) => r.outcome === 'loaded').map((r) => r.wallet_address));
    } finally {
      this.#uncommitted -= batch.length;
      for (const wake of this.#roomWaiters.splice(0)) wake();
    }
  }

  /**
   * Loads the batch, retrying transient failures within the load budget; if it still fails (or
   * fails permanently at once), loads each wallet alone so one bad file fails one wallet.
   */
  async #load(batch: StagedWallet[]): Promise<CheckpointRow[]> {
    const started = Date.now();
    this.#events.safeEmit('batch:start', { wallets: batch.length });
    let result: LoadResult;
    try {
      result = await this.#retry(() => this.#warehouse.loadBundles(batch.map((s) => s.bundle)), this.#policy.loadAttempts);
    } catch (batchError) {
      if (batch.length === 1) return [await this.#loadFailed(batch[0]!, batchError)];
      const rows: CheckpointRow[] = [];
      for (const staged of batch) {
        const alone = Date.now();
        let single: LoadResult;
        try {
          single = await this.#warehouse.loadBundles([staged.bundle]);
        } catch (error) {
          rows.push(await this.#loadFailed(staged, error));
          continue;
        }
        this.#committed(1, single, alone);
        rows.push(await this.#loaded(staged, single));
      }
      return rows;
    }
    this.#committed(batch.length, result, started);
    const rows: CheckpointRow[] = [];
    for (const staged of batch) rows.push(await this.#loaded(staged, result));
    return rows;
  }

  /**
   * Counts what one committed load inserted: the MERGE's count of new rows, less copies another
   * runner inserted at once and the load removed again. A refresh window's rows already held are
   * matched, not inserted, so they are not "new trades".
   */
  #committed(wallets: number, result: LoadResult, started: number): void {
    const inserted = Math.max(0, result.merged.trades - result.duplicatesRemoved);
    this.counters.trades += inserted;
    this.counters.activity += result.merged.activity + result.merged.combo_activity;
    this.#events.safeEmit('batch:committed', { wallets, inserted, durationMs: Date.now() - started });
    if (result.duplicatesRemoved > 0) this.#events.safeEmit('batch:repaired', { wallets, duplicates: result.duplicatesRemoved });
  }

  /**
   * The checkpoint records what the warehouse holds for the wallet after the commit, not what the staged file claims.
   * Both sides count distinct trade ids: the load refuses a staged file whose rows repeat one (a fill under two
   * timestamps, see trade-key.ts), so a loaded wallet's staged rows are its distinct keys.
   */
  async #loaded(staged: StagedWallet, result: LoadResult): Promise<CheckpointRow> {
    const wallet = staged.bundle.wallet;
    const held = result.tradeCounts[wallet] ?? 0;
    const activityHeld = result.activityCounts[wallet] ?? 0;
    const activityStaged = staged.bundle.files.activity?.rows ?? 0;
    const short =
      held < staged.bundle.tradeCount
        ? `${held} trade(s) of ${wallet} after the load, but ${staged.bundle.tradeCount} were staged`
        : activityHeld < activityStaged
          ? `${activityHeld} activity row(s) of ${wallet} after the load, but ${activityStaged} were staged`
          : undefined;
    if (short !== undefined) {
      return this.#loadFailed(staged, new BackfillError(`the warehouse holds ${short}`, { hint: 'The load lost rows it reported committed; the next run fetches the wallet again', kind: 'permanent' }));
    }
    this.counters.loaded += 1;
    this.#events.safeEmit('wallet:loaded', { wallet, trades: held });
    return {
      ...this.#fields(wallet, held, staged.bundle.files.trades?.uri ?? null),
      outcome: 'loaded',
      error: null,
      last_trade_at: result.lastTradeAt[wallet] ?? null,
      // Activity alone says nothing of the fills held: the flag they were loaded with stays.
      small_fills_excluded: staged.bundle.activityOnly ? null : (staged.bundle.smallFillsExcluded ?? false),
      activity_count: activityHeld,
      last_activity_at: result.lastActivityAt[wallet] ?? null,
    };
  }

  /**
   * A wallet whose load failed. Transient (the warehouse was unavailable): its staged files are
   * kept and reused. Permanent (the warehouse refused what is in them): the bundle is set aside so
   * the next run fetches the wallet again from the API instead of failing on the same files for ever.
   * `trade_count` is left to the checkpoint writer, which records what the warehouse holds.
   */
  async #loadFailed(staged: StagedWallet, error: unknown): Promise<CheckpointRow> {
    this.counters.failed += 1;
    this.#onReleaseClaims(staged);
    const transient = isTransient(error);
    const message = transient ? `load failed (${this.#keptFor(staged)}): ${describeError(error)}` : `load failed permanently: ${describeError(error)}; ${await this.#setAside(staged, error)}`;
    this.#events.safeEmit('wallet:failed', { wallet: staged.bundle.wallet, error: message, stage: 'load', kind: transient ? 'transient' : 'permanent' });
    return this.#failed(staged.bundle.wallet, transient ? 'transient' : 'failed', 'load', staged.bundle.files.trades?.uri ?? null, message);
  }

  #keptFor(staged: StagedWallet): string {
    return staged.bundle.partial ? REFRESH_AGAIN : 'staged files kept, the next run reloads them without calling the API';
  }

  /** Marks a refused backfill bundle so no run reuses it; says what the next attempt does. */
  async #setAside(staged: StagedWallet, error: unknown): Promise<string> {
    // A refresh window is never reused: the next refresh fetches it again anyway.
    if (staged.bundle.partial) return REFRESH_AGAIN;
    if (!this.#stage) return 'run `backfill run --refetch` to fetch it from the API instead of loading its staged files again';
    try {
      const marked = await setAsideBundle(this.#stage, staged.bundle, { run_id: this.#runId, at: new Date().toISOString(), error: describeError(error) });
      return marked
        ? 'its staged files are set aside: the next `backfill run` fetches the wallet again from the API'
        : 'its staged files are no longer the complete bundle of the stage: the next `backfill run` does not load them again';
    } catch (markError) {
      return `its staged files could not be set aside (${describeError(markError)}): run \`backfill run --refetch\` so they are not loaded again`;
    }
  }

  /**
   * The loaded wallets' positions and wallet_stats, from what the warehouse now holds. Their load flagged them stale;
   * a recompute that fails leaves the flag, and the end of the run (or the next run) tries them again: their data
   * and checkpoints are committed either way.
   */
  async #recomputeStats(wallets: string[]): Promise<void> {
    if (!this.#stats || wallets.length === 0) return;
    try {
      await this.#retry(() => this.#stats!.recompute(wallets), this.#policy.loadAttempts);
      this.counters.statsRecomputed += wallets.length;
    } catch (error) {
      this.counters.statsFailures += 1;
      this.#events.safeEmit('stats:failed', { wallets: wallets.length, error: describeError(error) });
    }
  }

  async #writeCheckpoints(rows: CheckpointRow[]): Promise<void> {
    if (rows.length === 0) return;
    try {
      await this.#retry(
        () => this.#warehouse.writeCheckpoints(rows, { maxFailedAttempts: this.#policy.maxFailedAttempts }),
        this.#policy.checkpointAttempts,
      );
    } catch (error) {
      // The data is committed; without a checkpoint the wallets are simply done again next run,
      // which the MERGE makes harmless.
      this.counters.checkpointWriteFailures += rows.length;
      this.#events.safeEmit('checkpoint:failed', { wallets: rows.length, error: describeError(error) });
    }
  }

  /**
   * The engine's retry layer over the warehouse: transient failures only, each failure's own backoff
   * when it has one. The layers under it (the SDKs' HTTP retries, BigQuery job re-sends) have their
   * own budgets, all listed in lib/retry-budgets.ts.
   */
  #retry<T>(work: () => Promise<T>, attempts: number): Promise<T> {
    return withRetry(() => work(), {
      attempts,
      baseDelayMs: this.#policy.retryBaseDelayMs,
      maxDelayMs: this.#policy.retryMaxDelayMs,
      ...(this.#policy.retryDeadlineMs !== undefined ? { deadlineMs: this.#policy.retryDeadlineMs } : {}),
      classify: warehouseRetryDecision,
      ...(this.#policy.sleep ? { sleep: this.#policy.sleep } : {}),
    });
  }

  #fields(wallet: string, tradeCount: number, gcsFile: string | null) {
    return {
      wallet_address: wallet,
      trade_count: tradeCount,
      gcs_file: gcsFile,
      processed_at: new Date().toISOString(),
      run_id: this.#runId,
      ...(this.#refresh ? { refresh: true } : {}),
    };
  }

  /** A failure's checkpoint; `trade_count` is left to the checkpoint writer, which records what the warehouse holds. */
  #failed(wallet: string, outcome: 'failed' | 'transient', failureClass: FailureClass, gcsFile: string | null, error: string): CheckpointRow {
    return { ...this.#fields(wallet, 0, gcsFile), outcome, failure_class: failureClass, error };
  }

}

/** Transient warehouse failures are retried (after the delay the failure asks for, if any); permanent ones are not. */
export function warehouseRetryDecision(error: unknown): RetryDecision {
  if (!isTransient(error)) return { retry: false };
  const asked = (error as { retryAfterMs?: unknown }).retryAfterMs;
  return { retry: true, label: 'warehouse', ...(typeof asked === 'number' ? { delayMs: asked } : {}) };
}
