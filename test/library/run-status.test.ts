/**
 * What a run publishes about itself: rates and ETA from its events on a controlled clock, partial
 * buckets, API budget per endpoint, failure classes, and a snapshot file that is replaced whole.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { RunEvents } from '../../src/engine/run-events.js';
import { currentProcess } from '../../src/lease/holder-process.js';
import { RunStatusTracker, failuresByClass, publishSnapshots, readSnapshot, writeSnapshot } from '../../src/status/run-status.js';
import type { SourceStats } from '../../src/polymarket/index.js';
import type { FailedWallet, FailureClass, StatusFigures } from '../../src/warehouse/warehouse.js';
import { withTempDir } from '../../testkit/temp-dir.js';

const T0 = Date.parse('2026-11-30T12:00:05Z');

function tracked(stats: SourceStats = { requests: {}, retries: {}, retriesByEndpoint: {} }) {
  let now = T0;
  const events = new RunEvents();
  const tracker = new RunStatusTracker({
    runId: 'r1',
    leaseHolder: 'host:1 run r1',
    events,
    stats: () => stats,
    limits: { 'data:trades': { requests: 200, perMs: 10_000 } },
    now: () => now,
  });
  return { events, tracker, stats, advance: (ms: number) => (now += ms) };
}

const FIGURES: StatusFigures = {
  completed: 3,
  total: 10,
  percent_complete: 30,
  failed: 1,
  parked: 0,
  pending: 6,
  valid_wallets: 10,
  invalid_wallets: 0,
  rows: { trades: 30, markets: 2, events: 1, unresolved: 0, activity: 12, combo_activity: 0, resolutions: 1 },
  activity: { loaded_wallets: 3, pending_wallets: 0 },
  last_processed_at: null,
  refresh: { refreshed_wallets: 0, failed: 0, last_refreshed_at: null, oldest_at: null },
  billed: null,
  traders: { with_figures: 0, stale: 0, top: [] },
};

describe('RunStatusTracker', () => {
  it('counts wallets and inserted trades (not the loaded wallets\' totals) per 10 s bucket, with the covered seconds of a partial bucket, and derives rates and an ETA', () => {
    const { events, tracker, advance } = tracked();
    for (let i = 0; i < 6; i += 1) events.safeEmit('wallet:start', { wallet: `w${i}` });
    // 12:00:05 → first bucket 12:00:00, of which the run covers 5 s.
    // A loaded wallet's `trades` is its total held; the rows a commit inserted come with the commit.
    events.safeEmit('batch:committed', { wallets: 1, inserted: 100, durationMs: 1 });
    events.safeEmit('wallet:loaded', { wallet: 'w0', trades: 100 });
    advance(10_000); // 12:00:15, second bucket, 5 s into it
    events.safeEmit('batch:committed', { wallets: 2, inserted: 100, durationMs: 1 });
    events.safeEmit('wallet:loaded', { wallet: 'w1', trades: 5_000 });
    events.safeEmit('wallet:loaded', { wallet: 'w2', trades: 50 });
    events.safeEmit('wallet:failed', { wallet: 'w3', error: 'HTTP 503', stage: 'fetch', kind: 'transient' });
    const status = tracker.runStatus('running', 30);
    expect(status.throughput).toEqual([
      { t: '2026-11-30T12:00:00.000Z', wallets: 1, trades: 100, seconds: 5 },
      { t: '2026-11-30T12:00:10.000Z', wallets: 2, trades: 100, seconds: 5 },
    ]);
    expect(status).toMatchObject({ planned: 6, loaded: 3, failed: 1, trades_loaded: 200, state: 'running' });
    // 3 wallets in the 10 s since the start: 18 per minute; 30 pending → 100 s.
    expect(status.wallets_per_minute).toBe(18);
    expect(status.trades_per_second).toBe(20);
    expect(status.eta_seconds).toBe(100);
    expect(tracker.runStatus('finished', 0)).toMatchObject({ eta_seconds: null, current_batch: null, state: 'finished' });
  });

  it('shows the batch being committed until it is', () => {
    const { events, tracker } = tracked();
    events.safeEmit('batch:start', { wallets: 7 });
    expect(tracker.runStatus('running', 1).current_batch).toEqual({ wallets: 7, started_at: new Date(T0).toISOString() });
    events.safeEmit('batch:committed', { wallets: 7, inserted: 10, durationMs: 5 });
    expect(tracker.runStatus('running', 1).current_batch).toBeNull();
  });

  it('reports requests and retries per endpoint, 429s, and the share of each rate limit used over the sampled window', () => {
    const stats: SourceStats = { requests: { 'data:trades': 0 }, retries: {}, retriesByEndpoint: {} };
    const { tracker, advance } = tracked(stats);
    tracker.runStatus('running', 0);
    advance(10_000);
    stats.requests = { 'data:trades': 100, 'gamma:markets': 3 };
    stats.retries = { '429': 4, network: 1 };
    stats.retriesByEndpoint = { 'data:trades': 5 };
    const { api } = tracker.runStatus('running', 0);
    expect(api.requests).toEqual({ 'data:trades': 100, 'gamma:markets': 3 });
    expect(api.retries).toEqual({ 'data:trades': 5 });
    expect(api.throttled_429).toBe(4);
    // 100 requests in 10 s against 200 per 10 s.
    expect(api.rate_limit_utilisation).toEqual({ 'data:trades': 0.5 });
  });
});

describe('a finished publisher', () => {
  it('leaves no listener on the run events: the next run on the same RunEvents (run --refresh) is not counted by the last one\'s tracker', async () => {
    const { events, tracker } = tracked();
    const before = events.eventNames().reduce((n, e) => n + events.listenerCount(e), 0);
    expect(before).toBeGreaterThan(0);
    events.safeEmit('wallet:start', { wallet: 'w0' });
    events.safeEmit('batch:committed', { wallets: 1, inserted: 5, durationMs: 1 });
    events.safeEmit('wallet:loaded', { wallet: 'w0', trades: 5 });
    const publisher = publishSnapshots({
      path: '/unused/w.duckdb.status.json',
      intervalMs: 60_000,
      description: 'duckdb:/w',
      tracker,
      figures: async () => ({ figures: FIGURES, failed: [] }),
      write: async () => undefined,
    });
    await publisher.finish('finished');
    expect(events.eventNames().reduce((n, e) => n + events.listenerCount(e), 0)).toBe(0);
    events.safeEmit('wallet:start', { wallet: 'w1' });
    events.safeEmit('batch:committed', { wallets: 1, inserted: 7, durationMs: 1 });
    events.safeEmit('wallet:loaded', { wallet: 'w1', trades: 7 });
    expect(tracker.runStatus('finished', 0)).toMatchObject({ planned: 1, loaded: 1, trades_loaded: 5 });
  });
});

describe('failure classes', () => {
  it('groups failed wallets by the class recorded with each (never read out of the error text), newest examples first', () => {
    const recorded: [string, FailureClass | null][] = [
      // The text says "HTTP 503", the class says data: the class wins.
      ['HTTP 503 a', 'API unavailable'],
      ['HTTP 503 b', 'API unavailable'],
      ['HTTP 503 c', 'API unavailable'],
      ['HTTP 503 d', 'API unavailable'],
      ['row 1 bad, after HTTP 503', 'data'],
      ['recorded before failure_class existed', null],
    ];
    const rows: FailedWallet[] = recorded.map(([error, failureClass], i) => ({
      wallet_address: `0x${i}`,
      trade_count: 0,
      processed_at: `2026-11-30T12:00:0${i}Z`,
      error,
      attempts: 1,
      parked: false,
      gcs_file: null,
      failure_class: failureClass,
    }));
    const grouped = failuresByClass(rows, 3);
    expect(grouped['API unavailable']).toEqual({ count: 4, latest: rows.slice(0, 3).map((r) => ({ wallet: r.wallet_address, error: r.error, at: r.processed_at })) });
    expect(grouped.data?.count).toBe(1);
    expect(grouped.unclassified?.count).toBe(1);
  });
});

describe('snapshots', () => {
  it('are replaced whole (no temporary file left), read back, and unreadable ones are treated as absent', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'w.duckdb.status.json');
      const { tracker } = tracked();
      let reads = 0;
      const publisher = publishSnapshots({
        path,
        intervalMs: 60_000,
        description: 'duckdb:/w',
        tracker,
        figures: async () => {
          reads += 1;
          return { figures: FIGURES, failed: [] };
        },
      });
      await publisher.finish('finished');
      const snapshot = await readSnapshot(path);
      expect(snapshot).toMatchObject({ version: 1, process: currentProcess(), interval_ms: 60_000 });
      expect(snapshot!.status).toMatchObject({ source: 'snapshot', live: false, completed: 3, percent_complete: 30, run: { run_id: 'r1', state: 'finished' } });
      expect(reads).toBe(1); // finished before its first tick: the final snapshot only
      expect(await readdir(dir)).toEqual(['w.duckdb.status.json']);

      await writeSnapshot(path, { ...snapshot!, written_at: 'later' });
      expect((await readSnapshot(path))?.written_at).toBe('later');
      await writeFile(path, '{"version":1,"status":');
      expect(await readSnapshot(path)).toBeUndefined();
    });
  });

  describe('pacing (fake timers; snapshots written nowhere)', () => {
    beforeEach(() => {
      vi.useFakeTimers({ now: 0, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    /** A publisher whose figures are recorded by start time and take `tookMs` (fake) each. */
    function pacedPublisher(intervalMs: number, tookMs: number, firstAfter: Promise<void>) {
      const reads: number[] = [];
      const publisher = publishSnapshots({
        path: '/unused/w.duckdb.status.json',
        intervalMs,
        description: 'duckdb:/w',
        tracker: tracked().tracker,
        figures: async () => {
          reads.push(Date.now());
          if (tookMs > 0) await new Promise((resolve) => setTimeout(resolve, tookMs));
          return { figures: FIGURES, failed: [] };
        },
        firstAfter,
        write: async () => undefined,
      });
      return { reads, publisher };
    }

    it('wait for the run\'s first request, then leave the run at least nine tenths of the time: the next figures come 10× as long as the last took', async () => {
      let firstRequest!: () => void;
      // Whole-table scans of a big warehouse: 1 s each.
      const { reads, publisher } = pacedPublisher(100, 1000, new Promise<void>((resolve) => (firstRequest = resolve)));
      await vi.advanceTimersByTimeAsync(50);
      expect(reads).toEqual([]); // the plan query has the machine to itself
      firstRequest();
      await vi.advanceTimersByTimeAsync(30_000);
      expect(reads.slice(0, 3)).toEqual([50, 50 + 1000 + 10_000, 50 + 2 * (1000 + 10_000)]);
      const finished = publisher.finish('finished');
      await vi.advanceTimersByTimeAsync(3000);
      await finished;
    });

    it('publish within one interval even when no wallet starts (nothing to do)', async () => {
      const { reads, publisher } = pacedPublisher(3000, 0, new Promise<void>(() => undefined));
      await vi.advanceTimersByTimeAsync(7000);
      expect(reads).toEqual([3000, 6000]);
      await publisher.finish('finished');
    });
  });
});
