import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { RunSummary } from '../../src/engine/run-summary.js';
import { feedWindowStart, startSimulator } from '../../src/simulator/index.js';
import type { AdvanceSummary, RunningSimulator } from '../../src/simulator/index.js';
import { openWarehouse, paths, seedTraders } from '../../testkit/backfill-harness.js';
import { feedRefreshArgs, logEvents, runArgs, runCli, startCli, waitUntil } from '../../testkit/cli.js';
import type { RunningCli } from '../../testkit/cli.js';
import { expectEqualsGroundTruth } from '../../testkit/ground-truth.js';
import { withTempDir } from '../../testkit/temp-dir.js';

/**
 * `backfill refresh --via feed` through the real binary, against the simulator over loopback, with no clock of the
 * product's overridden: the simulator's data clock starts a day and a minute before now (`clockSeconds`), so the
 * simulated day an `advance` adds ends just before the backfill ran, inside the feed's window (the current and
 * previous month by our clock) and never in our future.
 *
 * A day cannot pass between two commands of a test, so the day's fills lie before the horizons the backfill
 * recorded (its wall-clock time) instead of after them: to the product they are fills indexed late, which is what
 * `--overlap` is for, and the refresh reaches back 25 h below the oldest horizon, over the whole day. Likewise the
 * markets the backfill just asked are asked again at once (`--market-refresh-after 0s`), not an hour later. What this
 * leaves out is a horizon moved forward by the walk alone: the walk vouches for nothing newer than its start less the
 * five minutes its first page may be cached, and the horizons here are seconds old (test/e2e/feed-refresh.test.ts
 * covers that move, with the feed refresh's clock injected in-process).
 *
 * The feed serves every simulated wallet, the warehouse tracks a few: the walk reads several pages of 1,000 rows and
 * keeps the tracked wallets' rows, in chunks of `--feed-chunk-rows`. The backfill is run once; each test refreshes a
 * copy of its files.
 */
const DAY = 86_400;
const OVERLAP_SECONDS = 25 * 3_600;
const TRACKED = 16;
const SIM = { seed: 23, wallets: 700, maxTradesPerWallet: 5, fillsPerDay: 2_600 } as const;
const PAGE_ROWS = 1_000;
/** A commit every 50 ms instead of 2 s: the runs here load a few wallets, and would wait out the interval. */
const FAST = ['--commit-interval', '50ms'];

interface FeedSummary {
  via: string;
  reason: string;
  pages: number;
  rowsKept: number;
  walletsTouched: number;
  covered: number;
  fallback: string[] | 'all';
  resumed: boolean;
}

/** The refresh's summary (`--json`: one JSON line on stdout). */
function summaryOf(stdout: string): RunSummary & { feed: FeedSummary } {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as RunSummary & { feed: FeedSummary };
}

/** Pages a whole walk down to `downTo` reads: every row of the feed at or after it, and the page with the first older one. */
function pagesDownTo(sim: RunningSimulator, downTo: number): number {
  const inWindow = sim.dataset.globalFills(feedWindowStart(sim.nowSeconds()));
  const wanted = inWindow.filter((f) => f.timestamp >= downTo).length;
  return wanted < inWindow.length ? Math.floor(wanted / PAGE_ROWS) + 1 : Math.ceil(wanted / PAGE_ROWS);
}

/** For waitUntil: gives up once the refresh has exited, showing the end of its log. */
function exited(cli: RunningCli): () => string | undefined {
  return () => {
    const { exitCode, signalCode } = cli.child;
    if (exitCode === null && signalCode === null) return undefined;
    return `the refresh exited (${exitCode ?? signalCode}) first: ${cli.output().stderr.slice(-2_000)}`;
  };
}

describe('refresh --via feed through the CLI, the simulator\'s clock placed at ours', () => {
  let sim: RunningSimulator;
  let tracked: string[];
  let template: string;
  let step: AdvanceSummary;
  /** Each wallet's horizon as the backfill recorded it (epoch seconds). */
  let horizons: Map<string, number>;

  /** `backfill run` of the tracked wallets, then one simulated day of global activity. */
  beforeAll(async () => {
    sim = await startSimulator({ ...SIM, clockSeconds: Math.floor(Date.now() / 1000) - DAY - 60 });
    tracked = sim.dataset.wallets().filter((w) => sim.dataset.tradeCount(w) > 0).slice(0, TRACKED);
    template = await mkdtemp(join(tmpdir(), 'backfill-feed-cli-'));
    await seedTraders(template, tracked);
    const run = await runCli(runArgs(paths(template), sim.url, FAST));
    expect(run.code, run.stderr).toBe(0);
    const wh = await openWarehouse(template);
    const rows = await wh.query<{ w: string; h: bigint }>('SELECT wallet_address AS w, floor(epoch(processed_at))::BIGINT AS h FROM backfill_checkpoint');
    await wh.close();
    horizons = new Map(rows.map((r) => [r.w, Number(r.h)]));
    step = sim.advance({ seconds: DAY });
  });
  afterAll(async () => {
    await sim?.close();
    if (template) await rm(template, { recursive: true, force: true });
  });
  beforeEach(() => {
    sim.setLatency({ min: 0, max: 0 });
    sim.resetStats();
  });

  /** A fresh copy of the backfilled files, to refresh. */
  async function backfilled<T>(work: (dir: string) => Promise<T>): Promise<T> {
    return withTempDir(async (dir) => {
      await cp(template, dir, { recursive: true });
      return work(dir);
    });
  }

  it('the day lies in the feed\'s window, never in our future, within the overlap below every horizon the backfill recorded', () => {
    const now = Math.floor(Date.now() / 1000);
    const oldest = Math.min(...horizons.values());
    expect(horizons.size).toBe(TRACKED);
    expect(step.fills).toBeGreaterThanOrEqual(SIM.fillsPerDay);
    expect(step.fromSeconds).toBeGreaterThanOrEqual(feedWindowStart(now) + 3_600);
    expect(step.toSeconds).toBeLessThanOrEqual(now);
    expect(step.toSeconds).toBeLessThan(oldest);
    expect(step.fromSeconds).toBeGreaterThan(oldest - OVERLAP_SECONDS);
    expect(tracked.filter((w) => step.wallets.includes(w)).length).toBeGreaterThan(0);
    expect(tracked.filter((w) => !step.wallets.includes(w)).length).toBeGreaterThan(0);
  });

  it('`refresh --via feed` brings the warehouse to the new ground truth for the feed\'s pages: touched wallets\' checkpoints move, untouched wallets cost no trades request', async () => {
    await backfilled(async (dir) => {
      const touched = tracked.filter((w) => step.wallets.includes(w));
      const untouched = tracked.filter((w) => !step.wallets.includes(w));
      const refresh = await runCli(feedRefreshArgs(paths(dir), sim.url, [...FAST, '--overlap', '25h', '--market-refresh-after', '0s', '--feed-chunk-rows', '20', '--json']));
      expect(refresh.code, refresh.stderr).toBe(0);
      const summary = summaryOf(refresh.stdout);
      const downTo = Math.min(...horizons.values()) - OVERLAP_SECONDS;
      const pages = pagesDownTo(sim, downTo);
      const keptRows = touched.reduce((n, w) => n + [...sim.dataset.fills(w)].filter((f) => f.timestamp > step.fromSeconds).length, 0);
      expect(pages).toBeGreaterThanOrEqual(3);
      expect(summary).toMatchObject({ mode: 'refresh', outcome: 'complete', failed: 0 });
      expect(summary.feed).toMatchObject({ via: 'feed', pages, rowsKept: keptRows, walletsTouched: touched.length, fallback: [], resumed: false });

      const stats = sim.stats();
      // The feed's pages, and at most 3 spot checks of touched wallets: never a trades request for an untouched one.
      expect(stats.feedRequests).toBe(pages);
      expect(stats.feedRowsServed).toBeGreaterThanOrEqual(step.fills);
      const walletRequests = Object.keys(stats.tradeRequestsByWallet);
      expect(walletRequests.length).toBeLessThanOrEqual(3);
      for (const wallet of walletRequests) expect(touched, wallet).toContain(wallet);
      // Activity: every touched wallet; an untouched one only if it holds a market resolved that day (its redemptions).
      const resolved = new Set(step.resolvedMarkets);
      const holders = new Set(untouched.filter((w) => [...sim.dataset.fills(w)].some((f) => resolved.has(f.condition_id))));
      for (const wallet of touched) expect(stats.activityRequestsByWallet[wallet], wallet).toBeGreaterThanOrEqual(1);
      for (const wallet of untouched) if (!holders.has(wallet)) expect(stats.activityRequestsByWallet[wallet] ?? 0, wallet).toBe(0);

      const check = await openWarehouse(dir);
      try {
        await expectEqualsGroundTruth(check, sim.dataset, tracked);
        const [walk] = await check.query<{ status: string; pages: bigint; rows_kept: bigint; down_to: bigint; started_at: bigint }>(
          'SELECT status, pages, rows_kept, epoch(down_to)::BIGINT AS down_to, epoch(started_at)::BIGINT AS started_at FROM feed_walks',
        );
        expect(walk).toMatchObject({ status: 'done' });
        expect([Number(walk!.pages), Number(walk!.rows_kept), Number(walk!.down_to)]).toEqual([pages, keptRows, downTo]);
        // No horizon is older than the walk's start less the first page's five minutes of cache: none is moved by the walk.
        const covered = [...horizons.values()].filter((h) => h < Number(walk!.started_at) - 300).length;
        expect(summary.feed.covered).toBe(covered);
        const rows = await check.query<{ w: string; refreshed: bigint | null; newest: bigint; due: boolean | null; trades: bigint }>(
          'SELECT wallet_address AS w, epoch(refreshed_at)::BIGINT AS refreshed, epoch(last_trade_at)::BIGINT AS newest, activity_due AS due, trade_count AS trades FROM backfill_checkpoint',
        );
        expect(rows).toHaveLength(TRACKED);
        for (const row of rows) {
          const newest = Math.max(...[...sim.dataset.fills(row.w)].map((f) => f.timestamp));
          expect([Number(row.newest), Number(row.trades), row.due ?? false], row.w).toEqual([newest, sim.dataset.tradeCount(row.w), false]);
          // Touched wallets (and holders) had their activity refreshed, which completes their checkpoint; the others
          // were not touched at all.
          if (touched.includes(row.w) || holders.has(row.w)) expect(Number(row.refreshed), row.w).toBeGreaterThanOrEqual(Number(walk!.started_at));
          else if (covered === 0) expect(row.refreshed, row.w).toBeNull();
        }
      } finally {
        await check.close();
      }
    });
  });

  it('a feed refresh SIGKILLed inside a chunk\'s commit, then again after a chunk committed on its third page, ends equal to the ground truth, the last rerun resuming with fewer pages than a whole walk', async () => {
    await backfilled(async (dir) => {
      const args = feedRefreshArgs(paths(dir), sim.url, [...FAST, '--overlap', '25h', '--market-refresh-after', '0s', '--feed-chunk-rows', '8', '--log-level', 'info', '--json']);
      // Every answer held 100 ms: each kill below lands while the refresh waits on the simulator, at a known point.
      sim.setLatency({ min: 100, max: 100 });

      // 1. Inside a chunk's commit: the walk's first Gamma look-up comes from a chunk whose rows touch a market the
      // warehouse lacks, after the chunk's wallets were queued for activity and its rows staged, before its load.
      const first = startCli(args);
      await waitUntil(() => (sim.stats().requests['gamma:markets'] ?? 0) > 0, 'the walk\'s first Gamma look-up', { gaveUp: exited(first) });
      first.child.kill('SIGKILL');
      expect((await first.result).signal).toBe('SIGKILL');
      const afterFirst = await openWarehouse(dir);
      const [walk1] = await afterFirst.query<{ status: string; pages: bigint; rows_kept: bigint }>('SELECT status, pages, rows_kept FROM feed_walks');
      const [due] = await afterFirst.query<{ n: bigint }>('SELECT count(*) AS n FROM backfill_checkpoint WHERE activity_due');
      const [held] = await afterFirst.query<{ n: bigint }>('SELECT count(*) AS n FROM trades');
      await afterFirst.close();
      expect(walk1?.status).toBe('running');
      // The chunk being committed queued its wallets' activity before anything else: the kill did not lose it.
      expect(Number(due!.n)).toBeGreaterThan(0);
      // Of its rows none was loaded: the warehouse holds the backfill and the chunks committed before it, no more.
      const backfilled = tracked.reduce((n, w) => n + [...sim.dataset.fills(w)].filter((f) => f.timestamp <= step.fromSeconds).length, 0);
      expect(Number(held!.n)).toBe(backfilled + Number(walk1!.rows_kept));
      const pagesSaved = Number(walk1!.pages);

      // 2. After a chunk committed while the rerun read its third page: its resume point is the second page's cursor.
      const second = startCli(args);
      await waitUntil(
        () => logEvents(second.output().stderr, 'feed_chunk').some((e) => Number(e.pages) >= pagesSaved + 3),
        'a chunk committed on the resumed walk\'s third page',
        { gaveUp: exited(second) },
      );
      second.child.kill('SIGKILL');
      expect((await second.result).signal).toBe('SIGKILL');
      const afterSecond = await openWarehouse(dir);
      const [walk2] = await afterSecond.query<{ status: string; resume_cursor: string | null }>('SELECT status, resume_cursor FROM feed_walks');
      await afterSecond.close();
      expect(walk2?.status).toBe('running');
      expect(walk2?.resume_cursor).not.toBeNull();

      // 3. The rerun resumes from there and ends in the state of a walk never killed.
      sim.setLatency({ min: 0, max: 0 });
      sim.resetStats();
      const rerun = await runCli(args);
      expect(rerun.code, rerun.stderr).toBe(0);
      const summary = summaryOf(rerun.stdout);
      expect(summary).toMatchObject({ outcome: 'complete', failed: 0 });
      expect(summary.feed, summary.feed.reason).toMatchObject({ via: 'feed', resumed: true, fallback: [] });
      const check = await openWarehouse(dir);
      try {
        const walks = await check.query<{ status: string; down_to: bigint }>('SELECT status, epoch(down_to)::BIGINT AS down_to FROM feed_walks');
        expect(walks).toHaveLength(1);
        expect(walks[0]?.status).toBe('done');
        const whole = pagesDownTo(sim, Number(walks[0]!.down_to));
        expect(whole).toBeGreaterThanOrEqual(3);
        // This rerun's pages: from the second page on, not the whole walk (`pages` in feed_walks counts every part).
        const rerunPages = sim.stats().feedRequests;
        expect(rerunPages).toBeGreaterThan(0);
        expect(rerunPages).toBeLessThan(whole);
        expect(summary.feed.pages).toBeGreaterThanOrEqual(whole);
        // No duplicate, missing or extra trade or activity row; every checkpoint's trade count and activity right.
        await expectEqualsGroundTruth(check, sim.dataset, tracked);
        const [left] = await check.query<{ n: bigint }>('SELECT count(*) AS n FROM backfill_checkpoint WHERE activity_due');
        expect(Number(left!.n)).toBe(0);
      } finally {
        await check.close();
      }
    });
  });
});
