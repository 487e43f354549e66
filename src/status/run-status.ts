import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import type { RunEventMap, RunEvents } from '../engine/run-events.js';
import { currentProcess } from '../lease/holder-process.js';
import type { HolderProcess } from '../lease/lease.js';
import { describeError } from '../lib/errors.js';
import type { RateLimit, SourceStats } from '../polymarket/index.js';
import { onDemandCostUsd } from '../warehouse/warehouse.js';
import type { FailedWallet, StatusFigures } from '../warehouse/warehouse.js';
import type { FailureClass, RunState, RunStatus, StatusJson, ThroughputPoint } from './status-json.js';

/** What a run writes beside the warehouse every few seconds, replaced atomically. */
export interface RunSnapshot {
  version: 1;
  written_at: string;
  /** The writing process: a snapshot whose writer is gone is stale, never live. */
  process: HolderProcess;
  interval_ms: number;
  status: StatusJson;
}

const BUCKET_MS = 10_000;
/** Throughput and ETA are averaged over this long. */
const RATE_WINDOW_MS = 5 * 60_000;
/** Points kept for the chart: six hours of 10 s buckets. */
const MAX_POINTS = 2_160;

/**
 * Follows a run through its events: wallets started, loaded, failed, the batch being committed,
 * and loaded wallets and trades per 10 s bucket for the chart and the rates.
 */
export class RunStatusTracker {
  readonly #runId: string;
  readonly #leaseHolder: string;
  readonly #startedAt: number;
  readonly #now: () => number;
  readonly #stats: () => SourceStats;
  readonly #limits: Record<string, RateLimit>;
  #planned = 0;
  #loaded = 0;
  #failed = 0;
  #trades = 0;
  #batch: { wallets: number; started_at: string } | null = null;
  #buckets = new Map<number, { wallets: number; trades: number }>();
  /** Request counts sampled over time, for the share of each rate limit in use. */
  #samples: { at: number; requests: Record<string, number> }[] = [];
  readonly #listeners: (() => void)[] = [];

  constructor(options: { runId: string; leaseHolder: string; events: RunEvents; stats: () => SourceStats; limits: Record<string, RateLimit>; now?: () => number }) {
    this.#runId = options.runId;
    this.#leaseHolder = options.leaseHolder;
    this.#now = options.now ?? Date.now;
    this.#startedAt = this.#now();
    this.#stats = options.stats;
    this.#limits = options.limits;
    const { events } = options;
    const on = <K extends keyof RunEventMap>(event: K, listener: (...args: RunEventMap[K]) => void) => {
      events.on(event, listener as never);
      this.#listeners.push(() => events.off(event, listener as never));
    };
    on('wallet:start', () => (this.#planned += 1));
    on('wallet:loaded', () => {
      this.#loaded += 1;
      this.#bucket().wallets += 1;
    });
    on('wallet:failed', () => (this.#failed += 1));
    on('batch:start', ({ wallets }) => (this.#batch = { wallets, started_at: new Date(this.#now()).toISOString() }));
    // Trades are the rows a commit inserted, not the loaded wallets' totals: a refresh re-serves rows already held.
    on('batch:committed', ({ inserted }) => {
      this.#batch = null;
      this.#trades += inserted;
      this.#bucket().trades += inserted;
    });
  }

  /** The current 10 s bucket, created on first use; the oldest is dropped beyond MAX_POINTS. */
  #bucket(): { wallets: number; trades: number } {
    const bucket = Math.floor(this.#now() / BUCKET_MS) * BUCKET_MS;
    let entry = this.#buckets.get(bucket);
    if (!entry) {
      entry = { wallets: 0, trades: 0 };
      this.#buckets.set(bucket, entry);
      if (this.#buckets.size > MAX_POINTS) this.#buckets.delete(this.#buckets.keys().next().value!);
    }
    return entry;
  }

  /** Stops counting: `run --refresh` and library callers hand the same RunEvents to the next run. */
  detach(): void {
    for (const off of this.#listeners.splice(0)) off();
  }

  runStatus(state: RunState, pending: number): RunStatus {
    const now = this.#now();
    const stats = this.#stats();
    this.#samples.push({ at: now, requests: stats.requests });
    while (this.#samples.length > 2 && this.#samples[0]!.at < now - 60_000) this.#samples.shift();
    const since = Math.max(this.#startedAt, now - RATE_WINDOW_MS);
    let recentWallets = 0;
    let recentTrades = 0;
    for (const [bucket, entry] of this.#buckets) {
      if (bucket + BUCKET_MS <= since) continue;
      recentWallets += entry.wallets;
      recentTrades += entry.trades;
    }
    const seconds = Math.max(1, (now - since) / 1000);
    const walletsPerMinute = (recentWallets * 60) / seconds;
    const throughput: ThroughputPoint[] = [...this.#buckets].map(([bucket, entry]) => ({
      t: new Date(bucket).toISOString(),
      ...entry,
      seconds: round((Math.min(bucket + BUCKET_MS, now) - Math.max(bucket, this.#startedAt)) / 1000),
    }));
    return {
      run_id: this.#runId,
      started_at: new Date(this.#startedAt).toISOString(),
      lease_holder: this.#leaseHolder,
      state,
      planned: this.#planned,
      loaded: this.#loaded,
      failed: this.#failed,
      trades_loaded: this.#trades,
      wallets_per_minute: round(walletsPerMinute),
      trades_per_second: round(recentTrades / seconds),
      eta_seconds: state === 'running' && walletsPerMinute > 0 ? Math.round((pending / walletsPerMinute) * 60) : null,
      current_batch: state === 'running' ? this.#batch : null,
      api: {
        requests: stats.requests,
        retries: stats.retriesByEndpoint,
        throttled_429: stats.retries['429'] ?? 0,
        rate_limit_utilisation: this.#utilisation(),
      },
      throughput,
    };
  }

  /** Requests over the sampled window against what each endpoint's limit allows in that time. */
  #utilisation(): Record<string, number> {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (!first || !last || last.at <= first.at) return {};
    const out: Record<string, number> = {};
    for (const [endpoint, limit] of Object.entries(this.#limits)) {
      const sent = (last.requests[endpoint] ?? 0) - (first.requests[endpoint] ?? 0);
      const allowed = (limit.requests * (last.at - first.at)) / limit.perMs;
      if (allowed > 0) out[endpoint] = round(Math.min(1, sent / allowed));
    }
    return out;
  }
}

function round(n: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(n * scale) / scale;
}

/** Rows written before the engine recorded a failure's class (backfill_checkpoint.failure_class) have none. */
const UNCLASSIFIED = 'unclassified';

/** Failed wallets grouped by class, with the newest examples of each. */
export function failuresByClass(rows: readonly FailedWallet[], examples = 3): Record<string, FailureClass> {
  const out: Record<string, FailureClass> = {};
  for (const row of rows) {
    const entry = (out[row.failure_class ?? UNCLASSIFIED] ??= { count: 0, latest: [] });
    entry.count += 1;
    if (entry.latest.length < examples) entry.latest.push({ wallet: row.wallet_address, error: row.error ?? '', at: row.processed_at });
  }
  return out;
}

/** The status document from warehouse figures (the same keys whichever way it was produced). */
export function statusJson(
  warehouse: string,
  figures: StatusFigures,
  failed: readonly FailedWallet[],
  extra: { source: StatusJson['source']; live: boolean; stale: boolean; run: RunStatus | null; asOf?: string },
): StatusJson {
  const { billed, ...rest } = figures;
  return {
    warehouse,
    source: extra.source,
    live: extra.live,
    stale: extra.stale,
    as_of: extra.asOf ?? new Date().toISOString(),
    ...rest,
    failures: { by_class: failuresByClass(failed) },
    bigquery: billed
      ? { runs: billed.runs, bytes_billed: billed.bytes_billed, bytes_processed: billed.bytes_processed, estimated_cost_usd: round(onDemandCostUsd(billed.bytes_billed), 4) }
      : null,
    run: extra.run,
  };
}

/** Writes the snapshot atomically: a reader sees the previous one or this one, never half of either. */
export async function writeSnapshot(path: string, snapshot: RunSnapshot): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(snapshot)}\n`);
    await rename(temp, path);
  } catch (error) {
    // A full disk must not leave half-written temporaries beside the warehouse.
    await rm(temp, { force: true });
    throw error;
  }
}

export async function readSnapshot(path: string): Promise<RunSnapshot | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<RunSnapshot>;
    return parsed.version === 1 && parsed.status && parsed.process ? (parsed as RunSnapshot) : undefined;
  } catch {
    return undefined;
  }
}

export interface SnapshotPublisher {
  /** The final snapshot, with the run's end state; stops the timer. */
  finish(state: RunState): Promise<void>;
}

/**
 * How much longer than its figures took the publisher waits before the next ones: the figures are
 * whole-table scans (traders, checkpoints), and on a million traders they take over a second of
 * both cores, so publishing every 3 s regardless would take half the machine from the run.
 */
const SNAPSHOT_PACE = 10;

/** A timer that does not keep the process alive (a run that is done must not wait for it). */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Publishes a run's status beside the warehouse every `intervalMs`, or every SNAPSHOT_PACE times
 * as long as the last figures took if that is longer: the warehouse's own figures (read on the
 * run's connection, which other processes cannot open while the run holds the file) and the run's
 * progress. The first snapshot waits for `firstAfter` (the run's first request: on two cores a
 * scan beside the plan query delays that request by the scan's length), at most `intervalMs`.
 * A failed write is logged and retried on the next tick.
 */
export function publishSnapshots(options: {
  path: string;
  intervalMs: number;
  description: string;
  tracker: RunStatusTracker;
  figures: () => Promise<{ figures: StatusFigures; failed: FailedWallet[] }>;
  firstAfter?: Promise<unknown>;
  onError?: (message: string) => void;
  /** Where a snapshot goes; the file beside the warehouse unless a test says otherwise. */
  write?: (path: string, snapshot: RunSnapshot) => Promise<void>;
}): SnapshotPublisher {
  const write = options.write ?? writeSnapshot;
  const process = currentProcess();
  let writing: Promise<void> = Promise.resolve();
  let lastTookMs = 0;
  const publish = (state: RunState) => {
    writing = writing.then(async () => {
      const began = Date.now();
      try {
        const { figures, failed } = await options.figures();
        lastTookMs = Date.now() - began;
        const status = statusJson(options.description, figures, failed, {
          source: 'snapshot',
          live: state === 'running',
          stale: false,
          run: options.tracker.runStatus(state, figures.pending),
        });
        await write(options.path, { version: 1, written_at: status.as_of, process, interval_ms: options.intervalMs, status });
      } catch (error) {
        options.onError?.(`could not publish the run's status to ${options.path}: ${describeError(error)}`);
      }
    });
    return writing;
  };
  let finished = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    void publish('running').then(() => {
      if (finished) return;
      timer = setTimeout(tick, Math.max(options.intervalMs, SNAPSHOT_PACE * lastTookMs));
      timer.unref();
    });
  };
  const first = options.firstAfter ? Promise.race([options.firstAfter.catch(() => undefined), delay(options.intervalMs)]) : Promise.resolve();
  void first.then(() => {
    if (!finished) tick();
  });
  return {
    finish: async (state) => {
      finished = true;
      if (timer) clearTimeout(timer);
      await publish(state);
      options.tracker.detach();
    },
  };
}
