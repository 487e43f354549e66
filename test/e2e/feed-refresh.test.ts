import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { BackfillRun } from '../../src/engine/backfill-run.js';
import { RunEvents } from '../../src/engine/run-events.js';
import type { RefreshOptions } from '../../src/engine/run-options.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { clockBehind, openWarehouse, runBackfill, seedTraders } from '../../testkit/backfill-harness.js';
import { expectEqualsGroundTruth } from '../../testkit/ground-truth.js';
import { withTempDir } from '../../testkit/temp-dir.js';

/**
 * `refresh --via feed` against the simulator's global feed: the cost follows what happened (pages of global activity),
 * not the number of wallets tracked, and the warehouse ends equal to the ground truth as after a per-wallet refresh.
 *
 * The simulator's data clock runs behind ours (so a simulated day added stays in the past, where fills are accepted);
 * the wallets' horizons are therefore set to the data clock at the start of the step, as if the backfill had run
 * then: a horizon is wall-clock time, and the step's fills must lie after it as they would in production.
 */
const FEED_OPTIONS: RefreshOptions = { overlapSeconds: 3_600, marketRefreshAfterMs: 0, via: 'feed' };
const WALLETS = 24;

const world = () => startSimulator({ seed: 21, wallets: WALLETS, maxTradesPerWallet: 80, nowSeconds: clockBehind(2) });

describe('refresh by the global trade feed', () => {
  let sim: RunningSimulator;
  let FEED: RefreshOptions;
  /**
   * Every wallet of the world backfilled once, copied into each test that starts from the whole world: each test's
   * simulator is the same seed's world before its own step, so the copy is what its own backfill would load.
   */
  let template: string;
  beforeAll(async () => {
    template = await mkdtemp(join(tmpdir(), 'backfill-feed-template-'));
    const first = await world();
    try {
      await seedTraders(template, first.dataset.wallets());
      expect(await runBackfill(template, first.url)).toMatchObject({ outcome: 'complete', loaded: WALLETS });
    } finally {
      await first.close();
    }
  });
  afterAll(async () => {
    if (template) await rm(template, { recursive: true, force: true });
  });
  beforeEach(async () => {
    sim = await world();
    // The refresh reads the feed's window against the simulator's data clock (see the top of this file).
    FEED = { ...FEED_OPTIONS, clock: () => sim.dataset.clockSeconds * 1000 + 60_000 };
  });
  afterEach(async () => {
    await sim.close();
  });

  async function backfill(dir: string, wallets?: readonly string[]): Promise<void> {
    if (wallets === undefined) {
      await cp(template, dir, { recursive: true });
      return;
    }
    await seedTraders(dir, wallets);
    expect(await runBackfill(dir, sim.url)).toMatchObject({ outcome: 'complete', loaded: wallets.length });
  }

  /** Dates the wallets' horizons at the simulator's data clock before a step (see the top of this file). */
  async function horizonsAt(dir: string, seconds: number): Promise<void> {
    const wh = await openWarehouse(dir);
    await wh.query(`UPDATE backfill_checkpoint SET processed_at = to_timestamp(${seconds})::TIMESTAMP, refreshed_at = NULL`);
    await wh.close();
  }

  /** Backfills, then moves the simulator on by one day of `fills` global fills, the horizons at the day's start. */
  async function backfillThenStep(dir: string, seed: number, fills: number, wallets?: readonly string[]) {
    await backfill(dir, wallets);
    const step = sim.advance({ seconds: 86_400, seed, fills });
    await horizonsAt(dir, step.fromSeconds);
    return step;
  }

  it('brings the warehouse to the new ground truth in a few feed pages: untouched wallets cost no request, touched ones their activity only', async () => {
    await withTempDir(async (dir) => {
      const step = await backfillThenStep(dir, 3, 60);
      expect(step.fills).toBeGreaterThanOrEqual(60);
      sim.resetStats();
      const summary = await runBackfill(dir, sim.url, { refresh: FEED });
      expect(summary).toMatchObject({ mode: 'refresh', outcome: 'complete', failed: 0, feed: { via: 'feed', fallback: [] } });
      const feed = summary.feed!;
      expect(feed.walletsTouched).toBe(step.wallets.length);
      expect(feed.covered).toBe(WALLETS);
      const stats = sim.stats();
      // The feed's pages, and the per-wallet spot checks (at most 3 wallets): never a request per tracked wallet.
      expect(stats.feedRequests).toBe(feed.pages);
      expect(Object.keys(stats.tradeRequestsByWallet).length).toBeLessThanOrEqual(3);
      // Activity: the touched wallets, and the holders of markets resolved in the step (their redemptions).
      expect(stats.requests['data:activity'] ?? 0).toBeGreaterThanOrEqual(step.wallets.length);

      const check = await openWarehouse(dir);
      try {
        await expectEqualsGroundTruth(check, sim.dataset);
        const rows = await check.query<{ w: string; due: boolean | null; refreshed: boolean; newest: bigint | null }>(
          'SELECT wallet_address AS w, activity_due AS due, refreshed_at IS NOT NULL AS refreshed, epoch(last_trade_at)::BIGINT AS newest FROM backfill_checkpoint',
        );
        for (const row of rows) {
          expect(row.refreshed, row.w).toBe(true);
          expect(row.due ?? false, row.w).toBe(false);
          const newest = Math.max(...[...sim.dataset.fills(row.w)].map((f) => f.timestamp));
          expect(Number(row.newest), row.w).toBe(newest);
        }
        const [walk] = await check.query<{ status: string; rows_kept: bigint }>('SELECT status, rows_kept FROM feed_walks');
        expect(walk).toMatchObject({ status: 'done' });
        expect(Number(walk!.rows_kept)).toBe(feed.rowsKept);
      } finally {
        await check.close();
      }
    });
  });

  it('refreshes per wallet exactly the wallets whose horizon lies outside the feed\'s window', async () => {
    await withTempDir(async (dir) => {
      const step = await backfillThenStep(dir, 4, 60);
      const old = sim.dataset.wallets().slice(0, 4);
      const wh = await openWarehouse(dir);
      await wh.query(`UPDATE backfill_checkpoint SET processed_at = to_timestamp(${step.fromSeconds - 75 * 86_400})::TIMESTAMP WHERE wallet_address IN (${old.map((w) => `'${w}'`).join(', ')})`);
      await wh.close();
      sim.resetStats();
      const summary = await runBackfill(dir, sim.url, { refresh: FEED });
      expect(summary.feed).toMatchObject({ via: 'feed', fallback: [...old].sort() });
      const byWallet = sim.stats().tradeRequestsByWallet;
      for (const wallet of old) expect(byWallet[wallet], wallet).toBeGreaterThanOrEqual(1);
      const check = await openWarehouse(dir);
      await expectEqualsGroundTruth(check, sim.dataset);
      await check.close();
    });
  });

  it('a feed walk stopped part-way resumes from its last committed page and ends in the same state', async () => {
    await withTempDir(async (dir) => {
      await backfillThenStep(dir, 5, 60);
      const events = new RunEvents();
      let commits = 0;
      let run: BackfillRun | undefined;
      // Stopped after the walk's second committed chunk: the run ends there, the walk stays `running`.
      events.on('batch:committed', () => {
        commits += 1;
        if (commits === 2) run?.stop('test: stop mid-walk');
      });
      const stopped = await runBackfill(dir, sim.url, { refresh: { ...FEED, feedChunkRows: 15 } }, {}, events, undefined, undefined, (r) => (run = r));
      expect(stopped.outcome).toBe('stopped');
      const mid = await openWarehouse(dir);
      const [walk] = await mid.query<{ status: string; pages: bigint }>('SELECT status, pages FROM feed_walks');
      await mid.close();
      expect(walk?.status).toBe('running');
      sim.resetStats();
      const summary = await runBackfill(dir, sim.url, { refresh: FEED });
      expect(summary).toMatchObject({ outcome: 'complete', feed: { via: 'feed', resumed: true } });
      const check = await openWarehouse(dir);
      await expectEqualsGroundTruth(check, sim.dataset);
      const walks = await check.query<{ status: string }>('SELECT status FROM feed_walks ORDER BY started_at');
      expect(walks.at(-1)?.status).toBe('done');
      await check.close();
    });
  });

  it('a stopped walk whose anchor has since left the feed\'s window is abandoned, not resumed: a new walk covers the wallets', async () => {
    await withTempDir(async (dir) => {
      const step = await backfillThenStep(dir, 9, 60);
      const wh = await openWarehouse(dir);
      const old = (days: number) => `to_timestamp(${step.fromSeconds - days * 86_400})::TIMESTAMP`;
      await wh.query(`INSERT INTO feed_walks (walk_id, run_id, status, started_at, covered_from, down_to, resume_cursor, resume_ts, pages, rows_seen, rows_kept, wallets_touched)
        VALUES ('old-walk', 'old-run', 'running', ${old(70)}, ${old(71)}, ${old(71)}, 'stale-cursor', ${step.fromSeconds - 71 * 86_400}, 3, 3000, 10, 2)`);
      await wh.close();
      const summary = await runBackfill(dir, sim.url, { refresh: FEED });
      expect(summary.feed).toMatchObject({ via: 'feed', resumed: false, covered: WALLETS });
      const check = await openWarehouse(dir);
      try {
        await expectEqualsGroundTruth(check, sim.dataset);
        const walks = await check.query<{ walk_id: string; status: string; note: string | null }>('SELECT walk_id, status, note FROM feed_walks ORDER BY started_at');
        expect(walks[0]).toMatchObject({ walk_id: 'old-walk', status: 'abandoned' });
        expect(walks[0]!.note).toMatch(/left the feed's window/);
        expect(walks[1]).toMatchObject({ status: 'done' });
      } finally {
        await check.close();
      }
    });
  });

  it('discovery adds the wallets seen in the feed above the volume threshold only, as source feed', async () => {
    await withTempDir(async (dir) => {
      const tracked = sim.dataset.wallets().slice(0, 20);
      const step = await backfillThenStep(dir, 6, 60, tracked);
      const threshold = 50;
      const volume = new Map<string, number>();
      const from = step.fromSeconds - 3_600;
      for (const wallet of sim.dataset.wallets().filter((w) => !tracked.includes(w))) {
        for (const fill of sim.dataset.fills(wallet)) if (fill.timestamp >= from) volume.set(wallet, (volume.get(wallet) ?? 0) + fill.size * fill.price);
      }
      const expected = [...volume].filter(([, usdc]) => usdc >= threshold).map(([w]) => w).sort();
      expect(expected.length).toBeGreaterThan(0);
      expect([...volume].some(([, usdc]) => usdc > 0 && usdc < threshold)).toBe(true);
      expect(step.wallets.length).toBeGreaterThan(0);
      const summary = await runBackfill(dir, sim.url, { refresh: { ...FEED, discoverMinVolume: threshold } });
      expect(summary.feed?.discovered).toBe(expected.length);
      const check = await openWarehouse(dir);
      const added = await check.query<{ w: string }>("SELECT wallet_address AS w FROM traders WHERE source = 'feed' ORDER BY w");
      await check.close();
      expect(added.map((r) => r.w)).toEqual(expected);
    });
  });

  it('auto takes whichever costs fewer requests and says why: the feed for 24 wallets, per wallet for a single one', async () => {
    await withTempDir(async (dir) => {
      await backfillThenStep(dir, 8, 60);
      const decided: { via: string; reason: string }[] = [];
      const events = new RunEvents();
      events.on('feed:decided', (d) => decided.push(d));
      const many = await runBackfill(dir, sim.url, { refresh: { ...FEED, via: 'auto' } }, {}, events);
      expect(decided[0]).toMatchObject({ via: 'feed' });
      expect(decided[0]!.reason).toMatch(/^refresh via feed: the feed needs \d+ requests .*per-wallet refresh needs at least 24 requests/);
      expect(many.feed).toMatchObject({ via: 'feed', covered: WALLETS });
      const check = await openWarehouse(dir);
      await expectEqualsGroundTruth(check, sim.dataset);
      await check.close();
    });
    await withTempDir(async (dir) => {
      const [one] = sim.dataset.wallets().filter((w) => sim.dataset.tradeCount(w) > 0);
      await backfill(dir, [one!]);
      await horizonsAt(dir, sim.dataset.clockSeconds - 86_400);
      sim.resetStats();
      const single = await runBackfill(dir, sim.url, { refresh: { ...FEED, via: 'auto' } });
      expect(single.feed?.via).toBe('wallets');
      expect(single.feed?.reason).toMatch(/^refresh via wallets: per-wallet refresh needs at least 1 requests/);
      expect(sim.stats().tradeRequestsByWallet[one!]).toBe(1);
    });
  });

  it('a feed that leaves out maker rows (taker_only=false ignored) is detected by the spot check: every wallet is refreshed per wallet', async () => {
    await withTempDir(async (dir) => {
      await backfillThenStep(dir, 7, 60);
      sim.setGlobalFeed({ takerOnly: 'ignored' });
      sim.resetStats();
      const summary = await runBackfill(dir, sim.url, { refresh: FEED });
      expect(summary.feed?.via).toBe('wallets');
      expect(summary.feed?.reason).toMatch(/the global feed left out \d+ fill\(s\) of wallet 0x[0-9a-f]{40}/);
      expect(Object.keys(sim.stats().tradeRequestsByWallet).length).toBe(WALLETS);
      const check = await openWarehouse(dir);
      await expectEqualsGroundTruth(check, sim.dataset);
      const [walk] = await check.query<{ status: string }>('SELECT status FROM feed_walks');
      expect(walk?.status).toBe('abandoned');
      await check.close();
    });
  });
});

/**
 * A combo (a parlay of two markets) is redeemed once both its legs resolve, so a wallet's combo rows change when a leg
 * resolves, whether or not the wallet ever traded that leg on its own. Each setting below holds such a wallet: it does
 * not trade in the step and holds no fill in any market the step resolves, yet its combo's last leg resolves in the
 * step and a REDEEM row appears. In the first, a SPLIT row of the combo names its legs; in the second the wallet
 * bought the combo (no combo row before the REDEEM), so nothing it holds names the legs. Found by walking seeds; each
 * test checks its setting holds.
 */
describe('refresh by the global trade feed: combo redemptions', () => {
  const settings = [
    { name: 'its combo rows name the legs', seed: 36, step: 2, legsNamed: true },
    { name: 'it bought the combo: no row names the legs', seed: 114, step: 1, legsNamed: false },
  ];
  for (const setting of settings) {
    it(`queues the activity of a wallet whose combo legs resolved, though it neither traded in the step nor holds the legs (${setting.name}): its REDEEM row is loaded`, async () => {
      const sim = await startSimulator({ seed: setting.seed, wallets: 40, maxTradesPerWallet: 80, nowSeconds: clockBehind(2) });
      try {
        await withTempDir(async (dir) => {
          const wallets = sim.dataset.wallets();
          await seedTraders(dir, wallets);
          expect(await runBackfill(dir, sim.url)).toMatchObject({ outcome: 'complete', loaded: wallets.length });
          const before = new Map(wallets.map((w) => [w, sim.dataset.comboActivity(w)]));
          const step = sim.advance({ seconds: 86_400, seed: setting.step, fills: 60 });
          const wh = await openWarehouse(dir);
          await wh.query(`UPDATE backfill_checkpoint SET processed_at = to_timestamp(${step.fromSeconds})::TIMESTAMP, refreshed_at = NULL`);
          await wh.close();

          // The setting: wallets the step did not touch, holding no fill in a market it resolved, with a new combo REDEEM.
          const resolved = new Set(step.resolvedMarkets);
          const quiet = wallets.filter((w) => !step.wallets.includes(w) && ![...sim.dataset.fills(w)].some((f) => resolved.has(f.condition_id)));
          const redeemed = quiet.filter((w) => {
            const held = before.get(w)!;
            return sim.dataset.comboActivity(w).some(
              (c) => c.type === 'REDEEM' && !held.some((h) => h.id === c.id) && held.some((h) => h.combo_condition_id === c.combo_condition_id) === setting.legsNamed,
            );
          });
          expect(redeemed.length).toBeGreaterThan(0);

          sim.resetStats();
          const summary = await runBackfill(dir, sim.url, { refresh: { overlapSeconds: 3_600, marketRefreshAfterMs: 0, via: 'feed', clock: () => sim.dataset.clockSeconds * 1000 + 60_000 } });
          expect(summary).toMatchObject({ outcome: 'complete', failed: 0, feed: { via: 'feed' } });
          const asked = sim.stats().activityRequestsByWallet;
          for (const wallet of redeemed) expect(asked[wallet] ?? 0, wallet).toBeGreaterThan(0);
          const check = await openWarehouse(dir);
          try {
            await expectEqualsGroundTruth(check, sim.dataset);
          } finally {
            await check.close();
          }
        });
      } finally {
        await sim.close();
      }
    });
  }
});
