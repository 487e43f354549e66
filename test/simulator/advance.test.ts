import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataset, startSimulator, writeGroundTruth } from '../../src/simulator/index.js';
import type { AdvanceSummary, GroundTruthFill, RunningSimulator, SimDataset } from '../../src/simulator/index.js';
import { NOW, SMALL, fetchAllTrades, getJson, toGroundTruth } from './helpers.js';
import type { TradesPage } from './helpers.js';

/** 2026-10-31T23:59:59Z: the data clock before any advance. */
const DATA_END = Date.UTC(2026, 9, 31, 23, 59, 59) / 1000;
const DAY = 86_400;
const FULL = { taker_only: 'false', start: '1', limit: '1000', filter_amount: '0.000001' };

interface Market {
  conditionId: string;
  closed: boolean;
  closedTime?: string;
  endDate: string;
  outcomePrices: string;
  events: { id: string }[];
}

function snapshot(dataset: SimDataset): Map<string, GroundTruthFill[]> {
  return new Map(dataset.wallets().map((wallet) => [wallet, [...dataset.fills(wallet)]]));
}

/** The fills `advance` added to a wallet: its history now, minus the old history, which must be its unchanged tail. */
function added(before: GroundTruthFill[], after: GroundTruthFill[]): GroundTruthFill[] {
  expect(after.slice(after.length - before.length)).toEqual(before);
  return after.slice(0, after.length - before.length);
}

const closedTimeSeconds = (text: string): number => Date.parse(text.replace(' ', 'T').replace(/\+00$/, 'Z')) / 1000;

describe('dataset.advance', () => {
  let dataset: SimDataset;
  let before: Map<string, GroundTruthFill[]>;
  let touchedBefore: Set<string>;
  let marketsBefore: Map<string, Market | undefined>;
  let summary: AdvanceSummary;

  beforeAll(() => {
    dataset = createDataset(SMALL);
    before = snapshot(dataset);
    touchedBefore = new Set(dataset.wallets().flatMap((w) => [...before.get(w)!].map((f) => f.condition_id)));
    summary = dataset.advance({ seconds: DAY });
    marketsBefore = new Map(
      summary.resolvedMarkets.map((id) => [id, createDataset(SMALL).market(id) as Market | undefined]),
    );
  });

  it('moves the data clock by exactly the given seconds and reports the window', () => {
    expect(summary).toMatchObject({ step: 0, fromSeconds: DATA_END, toSeconds: DATA_END + DAY });
    expect(dataset.clockSeconds).toBe(DATA_END + DAY);
  });

  it('keeps every old fill and appends new ones, newest first, only for the reported share of wallets', () => {
    let total = 0;
    const grown: string[] = [];
    for (const wallet of dataset.wallets()) {
      const now = [...dataset.fills(wallet)];
      const fresh = added(before.get(wallet)!, now);
      expect(dataset.tradeCount(wallet)).toBe(now.length);
      for (let i = 1; i < now.length; i += 1) expect(now[i]!.timestamp).toBeLessThanOrEqual(now[i - 1]!.timestamp);
      if (fresh.length > 0) grown.push(wallet);
      total += fresh.length;
    }
    expect(grown).toEqual(summary.wallets);
    expect(total).toBe(summary.fills);
    expect(grown.length).toBeGreaterThan(0);
    expect(grown.length).toBeLessThan(dataset.walletCount);
  });

  it('puts new fills after the wallet newest fill: inside (from, to], or on that exact newest timestamp', () => {
    for (const wallet of summary.wallets) {
      const old = before.get(wallet)!;
      const newest = old[0]?.timestamp;
      for (const fill of added(old, [...dataset.fills(wallet)])) {
        const inWindow = fill.timestamp > summary.fromSeconds && fill.timestamp <= summary.toSeconds;
        expect(inWindow || fill.timestamp === newest, `${wallet} ${fill.timestamp}`).toBe(true);
      }
    }
  });

  it('adds a new transaction on a wallet previous newest timestamp, whose fills all share that block time', () => {
    let boundary = 0;
    for (const wallet of summary.wallets) {
      const old = before.get(wallet)!;
      if (old.length === 0) continue;
      const oldHashes = new Set(old.map((f) => f.transaction_hash));
      const onBoundary = added(old, [...dataset.fills(wallet)]).filter((f) => f.timestamp === old[0]!.timestamp);
      for (const fill of onBoundary) expect(oldHashes.has(fill.transaction_hash)).toBe(false);
      boundary += onBoundary.length;
    }
    expect(boundary).toBeGreaterThan(0);
  });

  it('adds twin fills: two identical rows (same tx, token, side, price, size) that are two fills', () => {
    let twins = 0;
    for (const wallet of summary.wallets) {
      const fresh = added(before.get(wallet)!, [...dataset.fills(wallet)]);
      for (let i = 1; i < fresh.length; i += 1) if (JSON.stringify(fresh[i]) === JSON.stringify(fresh[i - 1])) twins += 1;
    }
    expect(twins).toBeGreaterThan(0);
  });

  it('lists new markets and events that no earlier fill touched, and fills some of them', () => {
    expect(summary.listedMarkets.length).toBeGreaterThan(0);
    for (const id of summary.listedMarkets) {
      expect(touchedBefore.has(id)).toBe(false);
      const market = dataset.market(id) as Market;
      expect(market).toMatchObject({ conditionId: id, closed: false });
      expect(dataset.event(market.events[0]!.id)).toBeDefined();
    }
    const listed = new Set(summary.listedMarkets);
    const newTouched = summary.wallets.flatMap((w) => dataset.conditionIds(w).resolvable).filter((id) => listed.has(id));
    expect(newTouched.length).toBeGreaterThan(0);
  });

  it('resolves a share of open markets whose end date passed: closed, closedTime in the window, prices "1"/"0"', () => {
    expect(summary.resolvedMarkets.length).toBeGreaterThan(0);
    for (const id of summary.resolvedMarkets) {
      const old = marketsBefore.get(id);
      const now = dataset.market(id) as Market;
      expect(old?.closed).toBe(false);
      expect(now.closed).toBe(true);
      expect(Date.parse(now.endDate) / 1000).toBeLessThanOrEqual(summary.toSeconds);
      const closedAt = closedTimeSeconds(now.closedTime!);
      expect(closedAt).toBeGreaterThan(summary.fromSeconds);
      expect(closedAt).toBeLessThanOrEqual(summary.toSeconds);
      expect((JSON.parse(now.outcomePrices) as string[]).sort()).toEqual(['0', '1']);
      // Only what resolution changes changes: same id, question, tick size, volume, tags.
      const keep = (m: object) => {
        const { closed: _c, closedTime: _t, outcomePrices: _p, liquidity: _l, liquidityNum: _n, acceptingOrders: _a,
          umaResolutionStatuses: _u, lastTradePrice: _lt, bestBid: _b, bestAsk: _k, updatedAt: _up, ...rest } = m as Record<string, unknown>;
        return rest;
      };
      expect(keep(now)).toEqual(keep(old!));
      const event = dataset.event(now.events[0]!.id) as { closed: boolean; markets: Market[] };
      expect(event.closed).toBe(true);
      expect(event.markets.find((m) => m.conditionId === id)?.closed).toBe(true);
    }
  });

  it('is deterministic: the same dataset advanced the same way is identical; another seed differs', () => {
    const again = createDataset(SMALL);
    expect(again.advance({ seconds: DAY })).toEqual(summary);
    for (const wallet of summary.wallets) expect([...again.fills(wallet)]).toEqual([...dataset.fills(wallet)]);
    const other = createDataset(SMALL).advance({ seconds: DAY, seed: 99 });
    expect(other.wallets).not.toEqual(summary.wallets);
  });

  it('keeps earlier steps on a second advance: old fills, listings and resolutions stay; each step lists its own markets', () => {
    const twice = createDataset(SMALL);
    const first = twice.advance({ seconds: DAY });
    const afterFirst = snapshot(twice);
    const second = twice.advance({ seconds: 3 * DAY, walletShare: 0.8, resolveShare: 1 });
    expect(second).toMatchObject({ step: 1, fromSeconds: first.toSeconds, toSeconds: first.toSeconds + 3 * DAY });
    for (const wallet of twice.wallets()) added(afterFirst.get(wallet)!, [...twice.fills(wallet)]);
    for (const id of first.resolvedMarkets) expect((twice.market(id) as Market).closed).toBe(true);
    for (const id of second.resolvedMarkets) expect(first.resolvedMarkets).not.toContain(id);
    expect(second.listedMarkets.filter((id) => first.listedMarkets.includes(id))).toEqual([]);
  });

  it('writes the advanced world as ground truth: new fills, listed markets and their events', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-advance-'));
    try {
      const counts = await writeGroundTruth(dataset, dir);
      const total = dataset.wallets().reduce((sum, w) => sum + dataset.tradeCount(w), 0);
      expect(counts.fills).toBe(total);
      const markets = (await readFile(join(dir, 'markets.ndjson'), 'utf8')).trimEnd().split('\n').map(
        (line) => JSON.parse(line) as { condition_id: string; event_ids: string[]; closed: boolean },
      );
      const byId = new Map(markets.map((m) => [m.condition_id, m]));
      for (const wallet of summary.wallets) {
        for (const id of dataset.conditionIds(wallet).resolvable) {
          expect(byId.get(id)).toEqual({ condition_id: id, event_ids: dataset.eventIdsOfMarket(id), closed: (dataset.market(id) as Market).closed });
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects a step that is not a whole number of seconds, and shares outside 0..1', () => {
    const fresh = createDataset(SMALL);
    expect(() => fresh.advance({ seconds: 0 })).toThrow(/advance seconds must be a whole number/);
    expect(() => fresh.advance({ seconds: 1.5 })).toThrow(RangeError);
    expect(() => fresh.advance({ seconds: 60, walletShare: 2 })).toThrow(/walletShare must be a share between 0 and 1/);
    expect(() => fresh.advance({ seconds: 60, resolveShare: -1 })).toThrow(/resolveShare/);
    expect(fresh.clockSeconds).toBe(DATA_END);
  });
});

describe('RunningSimulator.advance over HTTP', () => {
  let sim: RunningSimulator;
  let whale: string;

  beforeAll(async () => {
    // "now" at the data clock: without moving it, the default `end` (now + 1 day) would hide fills 5 days later.
    sim = await startSimulator({ ...SMALL, nowSeconds: DATA_END });
    whale = sim.dataset.walletAddress(SMALL.wallets);
  });
  afterAll(async () => {
    await sim.close();
  });

  it('serves the advanced state on /v2/trades, Gamma and the stats, and moves the server clock with it', async () => {
    const before = new Map(sim.dataset.wallets().map((w) => [w, [...sim.dataset.fills(w)]]));
    const summary = sim.advance({ seconds: 5 * DAY, walletShare: 0.5 });
    expect(sim.nowSeconds()).toBe(DATA_END + 5 * DAY);
    sim.resetStats();
    let rows = 0;
    for (const wallet of summary.wallets) {
      const { rows: served } = await fetchAllTrades(sim, wallet, FULL);
      expect(served.map(toGroundTruth)).toEqual([...sim.dataset.fills(wallet)]);
      expect(served.length).toBeGreaterThan(before.get(wallet)!.length);
      rows += served.length;
      expect(sim.stats().tradeRowsByWallet[wallet]).toBe(served.length);
    }
    expect(sim.stats().tradeRowsServed).toBe(rows);
    const id = summary.resolvedMarkets[0]!;
    const closed = await getJson<Market[]>(`${sim.url}/markets?condition_ids=${id}&closed=true`);
    expect(closed.body.map((m) => m.conditionId)).toEqual([id]);
    const listed = await getJson<Market[]>(`${sim.url}/markets?condition_ids=${summary.listedMarkets[0]!}&closed=false`);
    expect(listed.body).toHaveLength(1);
  });

  it('honours start exactly: a refresh from the newest held timestamp minus an hour gets exactly the fills since', async () => {
    const held = [...sim.dataset.fills(whale)];
    const latest = held[0]!.timestamp;
    sim.advance({ seconds: DAY, walletShare: 1 });
    const start = latest - 3600;
    const expected = [...sim.dataset.fills(whale)].filter((f) => f.timestamp >= start);
    sim.resetStats();
    const { rows } = await fetchAllTrades(sim, whale, { ...FULL, start: String(start) });
    expect(rows.map(toGroundTruth)).toEqual(expected);
    expect(expected.length).toBeGreaterThan(held.filter((f) => f.timestamp >= start).length);
    expect(sim.stats().tradeRowsServed).toBe(expected.length);
  });

  it('keeps a cursor walk started before an advance exact: no row twice, none skipped, none of the new ones', async () => {
    const old = [...sim.dataset.fills(whale)];
    const query = new URLSearchParams({ user: whale, ...FULL, limit: '500' });
    const first = await getJson<TradesPage>(`${sim.url}/v2/trades?${query.toString()}`);
    sim.advance({ seconds: DAY, walletShare: 1 });
    const rows = [...first.body.data];
    let cursor = first.body.pagination.next_cursor;
    while (cursor) {
      query.set('cursor', cursor);
      const page = await getJson<TradesPage>(`${sim.url}/v2/trades?${query.toString()}`);
      rows.push(...page.body.data);
      cursor = page.body.pagination.next_cursor;
    }
    expect(rows.map(toGroundTruth)).toEqual(old);
    expect(sim.dataset.tradeCount(whale)).toBeGreaterThan(old.length);
  });

  it('leaves NOW-anchored simulators consistent too: the server clock moves by the same seconds', async () => {
    const other = await startSimulator({ ...SMALL, nowSeconds: NOW });
    try {
      other.advance({ seconds: 2 * DAY });
      expect(other.nowSeconds()).toBe(NOW + 2 * DAY);
    } finally {
      await other.close();
    }
  });
});

describe('a data clock placed later (clockSeconds)', () => {
  // A clock a month and a bit after the generated history ends, as a test near the wall clock would place it.
  const CLOCK = DATA_END + 40 * DAY + 1_234;
  let sim: RunningSimulator;

  beforeAll(async () => {
    sim = await startSimulator({ ...SMALL, clockSeconds: CLOCK });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('keeps the generated history, starts the data clock and the server\'s now there, and puts the first advance\'s fills after it', async () => {
    const plain = createDataset(SMALL);
    for (const wallet of plain.wallets().slice(0, 5)) expect([...sim.dataset.fills(wallet)]).toEqual([...plain.fills(wallet)]);
    expect(sim.dataset.clockSeconds).toBe(CLOCK);
    expect(sim.nowSeconds()).toBe(CLOCK);
    const before = snapshot(sim.dataset);
    // Fills by count (the per-day mode): a boundary transaction lands on its wallet's newest timestamp only if that is
    // at most an hour old, and the generated history ends 40 days before the clock.
    const summary = sim.advance({ seconds: DAY, fills: 60 });
    expect([summary.fromSeconds, summary.toSeconds, sim.nowSeconds()]).toEqual([CLOCK, CLOCK + DAY, CLOCK + DAY]);
    let fills = 0;
    for (const wallet of summary.wallets) {
      for (const fill of added(before.get(wallet)!, [...sim.dataset.fills(wallet)])) {
        // Nothing lands between the end of the generated data and the clock.
        expect(fill.timestamp, wallet).toBeGreaterThan(CLOCK);
        expect(fill.timestamp, wallet).toBeLessThanOrEqual(CLOCK + DAY);
        fills += 1;
      }
    }
    expect(fills).toBe(summary.fills);
    // Served over HTTP, the server's now moved with the clock (its default `end` is now + 1 day).
    const wallet = summary.wallets[0]!;
    const { rows } = await fetchAllTrades(sim, wallet, FULL);
    expect(rows.map(toGroundTruth)).toEqual([...sim.dataset.fills(wallet)]);
  });

  it('takes an explicit nowSeconds over the clock, and refuses a clock before the end of the generated data', async () => {
    const other = await startSimulator({ ...SMALL, clockSeconds: CLOCK, nowSeconds: NOW });
    try {
      expect([other.dataset.clockSeconds, other.nowSeconds()]).toEqual([CLOCK, NOW]);
    } finally {
      await other.close();
    }
    expect(() => createDataset({ ...SMALL, clockSeconds: DATA_END - 1 })).toThrow(/clockSeconds must be whole epoch seconds from 1793491199 \(2026-10-31T23:59:59.000Z, the end of the generated data\)/);
    expect(() => createDataset({ ...SMALL, clockSeconds: CLOCK + 0.5 })).toThrow(RangeError);
    expect(() => createDataset({ ...SMALL, clockSeconds: 2 ** 31 })).toThrow(RangeError);
    expect(() => createDataset({ ...SMALL, clockSeconds: 2 ** 31 - 100 }).advance({ seconds: 200 })).toThrow(/past 2147483647/);
  });
});
