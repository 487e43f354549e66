import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ConfigError } from '../../src/lib/errors.js';
import {
  DEFAULT_BOUNDARY_MAX_AGE_SECONDS,
  createDataset,
  feedWindowStart,
  parseFillsPerDay,
  parseGlobalFeedMode,
  startSimulator,
} from '../../src/simulator/index.js';
import type { AdvanceSummary, GroundTruthFill, RunningSimulator } from '../../src/simulator/index.js';
import { NOW, fetchAllTrades, getJson, toGroundTruth } from './helpers.js';
import type { TradesPage } from './helpers.js';

const DAY = 86_400;
const OPTIONS = { seed: 5, wallets: 600, maxTradesPerWallet: 300, nowSeconds: NOW, fillsPerDay: 2_000 };
const FEED = { taker_only: 'false', limit: '1000', filter_amount: '0.000001' };

/** Every row of the bare feed with these parameters, following next_cursor with the same filters. */
async function walkFeed(sim: RunningSimulator, params: Record<string, string>): Promise<{ rows: Record<string, unknown>[]; pages: TradesPage[] }> {
  const rows: Record<string, unknown>[] = [];
  const pages: TradesPage[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams(params);
    if (cursor) query.set('cursor', cursor);
    const { status, body } = await getJson<TradesPage>(`${sim.url}/v2/trades?${query.toString()}`);
    expect(status).toBe(200);
    pages.push(body);
    rows.push(...body.data);
    cursor = body.pagination.next_cursor;
  } while (cursor);
  return { rows, pages };
}

const key = (f: GroundTruthFill): string => JSON.stringify(f);

describe('the global feed (/v2/trades without user)', () => {
  let sim: RunningSimulator;
  let summary: AdvanceSummary;
  let windowStart: number;
  let feed: Record<string, unknown>[];

  beforeAll(async () => {
    sim = await startSimulator(OPTIONS);
    summary = sim.advance({ seconds: DAY });
    windowStart = feedWindowStart(sim.nowSeconds());
    feed = (await walkFeed(sim, FEED)).rows;
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('serves every wallet\'s fills of the current and previous month, newest first, as the ground truth lists them', () => {
    expect(windowStart).toBe(Date.UTC(2026, 9, 1) / 1000);
    const truth = sim.dataset.globalFills(windowStart);
    expect(truth.length).toBeGreaterThan(summary.fills);
    expect(feed.map(toGroundTruth)).toEqual(truth);
    const times = feed.map((row) => row.timestamp as number);
    expect(times.every((ts, i) => i === 0 || ts <= times[i - 1]!)).toBe(true);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(windowStart);
  });

  it('holds, for each wallet, exactly the rows its own /v2/trades?user= serves over the same window, in the same order', async () => {
    const byWallet = new Map<string, Record<string, unknown>[]>();
    for (const row of feed) byWallet.set(row.proxy_wallet as string, [...(byWallet.get(row.proxy_wallet as string) ?? []), row]);
    const sample = [...summary.wallets.slice(0, 15), ...[...byWallet.keys()].slice(0, 15)];
    for (const wallet of sample) {
      const own = await fetchAllTrades(sim, wallet, { ...FEED, start: String(windowStart) });
      expect(byWallet.get(wallet) ?? [], wallet).toEqual(own.rows);
    }
  });

  it('includes every fill the day added, and those fills are in each wallet\'s ground truth', () => {
    const added = sim.dataset.globalFills(summary.fromSeconds + 1);
    const boundary = sim.dataset.globalFills(summary.fromSeconds - DEFAULT_BOUNDARY_MAX_AGE_SECONDS).length - added.length;
    // Boundary transactions land on their wallet's previous newest timestamp, at most an hour back.
    expect(added.length + boundary).toBeGreaterThanOrEqual(summary.fills);
    const feedKeys = new Set(feed.map((row) => key(toGroundTruth(row))));
    for (const fill of added) expect(feedKeys.has(key(fill))).toBe(true);
    const fillsOf = new Map(summary.wallets.map((w) => [w, new Set([...sim.dataset.fills(w)].map(key))]));
    for (const fill of added) expect(fillsOf.get(fill.proxy_wallet)?.has(key(fill)), fill.proxy_wallet).toBe(true);
  });

  it('serves taker rows only by default (taker_only=true), and taker_only=false adds the maker rows', async () => {
    const takers = (await walkFeed(sim, { limit: '1000', filter_amount: '0.000001' })).rows;
    expect(takers.length).toBeGreaterThan(0);
    expect(takers.length).toBeLessThan(feed.length * 0.7);
    const all = new Set(feed.map((row) => JSON.stringify(row)));
    for (const row of takers) expect(all.has(JSON.stringify(row))).toBe(true);
    // Each wallet's taker rows are what its own feed serves with taker_only=true.
    const wallet = summary.wallets[0]!;
    const own = await fetchAllTrades(sim, wallet, { limit: '1000', filter_amount: '0.000001', start: String(windowStart) });
    expect(takers.filter((row) => row.proxy_wallet === wallet)).toEqual(own.rows);
  });

  it('a feed set not to honour taker_only=false omits the maker rows, whatever the request says', async () => {
    const takers = (await walkFeed(sim, { limit: '1000', filter_amount: '0.000001' })).rows;
    sim.setGlobalFeed({ takerOnly: 'ignored' });
    try {
      const served = (await walkFeed(sim, FEED)).rows;
      expect(served).toEqual(takers);
      expect(served.length).toBeLessThan(feed.length);
      // The per-wallet feed still honours it: that difference is what a product can detect.
      const wallet = summary.wallets[0]!;
      const own = await fetchAllTrades(sim, wallet, { ...FEED, start: String(windowStart) });
      expect(own.rows.length).toBeGreaterThan(served.filter((row) => row.proxy_wallet === wallet).length);
    } finally {
      sim.setGlobalFeed({});
    }
  });

  it('a feed set to a shorter window ends there, and ignores start and end as documented', async () => {
    sim.setGlobalFeed({ windowSeconds: sim.nowSeconds() - summary.fromSeconds });
    try {
      const { rows } = await walkFeed(sim, { ...FEED, start: '1', end: String(summary.fromSeconds + 10) });
      expect(rows.map(toGroundTruth)).toEqual(sim.dataset.globalFills(summary.fromSeconds));
    } finally {
      sim.setGlobalFeed({});
    }
  });

  it('pages by cursor like the user shape: the cursor\'s size wins, pages do not overlap, stats count the feed apart', async () => {
    sim.resetStats();
    const first = await getJson<TradesPage>(`${sim.url}/v2/trades?taker_only=false&filter_amount=0.000001&limit=7`);
    const next = await getJson<TradesPage>(
      `${sim.url}/v2/trades?taker_only=false&filter_amount=0.000001&limit=500&cursor=${first.body.pagination.next_cursor!}`,
    );
    expect(next.body.data).toEqual(feed.slice(7, 14));
    const stats = sim.stats();
    expect(stats).toMatchObject({ feedRequests: 2, feedRowsServed: 14, tradeRowsServed: 14, tradeRequestsByWallet: {} });
    const blank = await getJson<Record<string, unknown>>(`${sim.url}/v2/trades?user=&limit=10`);
    expect(blank.status).toBe(400);
    expect(blank.body).toMatchObject({ code: 'invalid_request', parameter: 'user' });
  });

  it('keeps a cursor minted before an advance on its place: the walk goes on with the rows it would have walked', async () => {
    const local = await startSimulator(OPTIONS);
    try {
      const before = (await walkFeed(local, FEED)).rows;
      const first = await getJson<TradesPage>(`${local.url}/v2/trades?taker_only=false&filter_amount=0.000001&limit=100`);
      local.advance({ seconds: DAY });
      const rest = await getJson<TradesPage>(`${local.url}/v2/trades?taker_only=false&filter_amount=0.000001&cursor=${first.body.pagination.next_cursor!}`);
      expect(rest.body.data).toEqual(before.slice(100, 200));
    } finally {
      await local.close();
    }
  });
});

describe('advance with a number of fills', () => {
  it('adds at least the fills asked for, overshooting by no more than one wallet\'s transactions', () => {
    for (const fills of [0, 500, 2_000]) {
      const dataset = createDataset(OPTIONS);
      const summary = dataset.advance({ seconds: DAY, fills });
      expect(summary.fills, String(fills)).toBeGreaterThanOrEqual(fills);
      expect(summary.fills - fills, String(fills)).toBeLessThan(60);
    }
  });

  it('takes fillsPerDay scaled to the step by default, and refuses more fills than every wallet can add', () => {
    const dataset = createDataset(OPTIONS);
    const half = dataset.advance({ seconds: DAY / 2 });
    expect(half.fills).toBeGreaterThanOrEqual(1_000);
    expect(half.fills).toBeLessThan(1_060);
    expect(() => createDataset(OPTIONS).advance({ seconds: DAY, fills: 1_000_000 })).toThrow(/asked for 1000000 fills.*600 wallets/);
    expect(() => createDataset(OPTIONS).advance({ seconds: DAY, fills: 10, walletShare: 0.5 })).toThrow(/fills or walletShare, not both/);
  });

  it('is deterministic: the same dataset and step add the same fills', () => {
    const a = createDataset(OPTIONS);
    const b = createDataset(OPTIONS);
    const sa = a.advance({ seconds: DAY });
    const sb = b.advance({ seconds: DAY });
    expect(sa).toEqual(sb);
    expect(a.globalFills(sa.fromSeconds - 3_600)).toEqual(b.globalFills(sb.fromSeconds - 3_600));
  });

  it('places boundary transactions at most an hour back in the per-day mode, and anywhere back without it', () => {
    // The second day, when the first has left wallets with fills in its last hour.
    const oldestNewFill = (fillsPerDay: number | undefined): number => {
      const options = { ...OPTIONS, fillsPerDay };
      const before = createDataset(options);
      const after = createDataset(options);
      before.advance({ seconds: DAY });
      after.advance({ seconds: DAY });
      const summary = after.advance({ seconds: DAY });
      let oldest = summary.toSeconds;
      for (const wallet of summary.wallets) {
        const added = after.tradeCount(wallet) - before.tradeCount(wallet);
        // New fills are the newest rows of the wallet's history (advance appends them).
        for (const fill of [...after.fills(wallet)].slice(0, added)) oldest = Math.min(oldest, fill.timestamp);
      }
      return summary.fromSeconds - oldest;
    };
    const perDay = oldestNewFill(OPTIONS.fillsPerDay);
    expect(perDay, 'a boundary transaction at or before the step').toBeGreaterThanOrEqual(0);
    expect(perDay).toBeLessThanOrEqual(DEFAULT_BOUNDARY_MAX_AGE_SECONDS);
    // The classic mode keeps its boundary transactions on the wallet's newest fill, however old.
    expect(oldestNewFill(undefined)).toBeGreaterThan(30 * DAY);
  });
});

describe('the simulator command-line options for the global feed', () => {
  it('parses fills per day as a whole number, with k and m shorthands', () => {
    expect(parseFillsPerDay('100000')).toBe(100_000);
    expect(parseFillsPerDay('100k')).toBe(100_000);
    expect(parseFillsPerDay('2.5m')).toBe(2_500_000);
    expect(parseFillsPerDay('0')).toBe(0);
    for (const bad of ['-1', '1.5', 'lots', '2g', '']) expect(() => parseFillsPerDay(bad), bad).toThrow(ConfigError);
  });

  it('parses the global feed mode: documented, taker-only, a shorter window, or both', () => {
    expect(parseGlobalFeedMode('documented')).toEqual({});
    expect(parseGlobalFeedMode('taker-only')).toEqual({ takerOnly: 'ignored' });
    expect(parseGlobalFeedMode('window=7d')).toEqual({ windowSeconds: 7 * DAY });
    expect(parseGlobalFeedMode(' taker-only , window=90m ')).toEqual({ takerOnly: 'ignored', windowSeconds: 5_400 });
    for (const bad of ['window=5', 'window=', 'maker-only', 'window=7 days']) expect(() => parseGlobalFeedMode(bad), bad).toThrow(/Bad global feed mode/);
  });
});
