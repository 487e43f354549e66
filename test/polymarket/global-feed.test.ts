import type { IncomingMessage, ServerResponse } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  FeedFillSequencer,
  HttpClient,
  RateLimiter,
  createPolymarketSource,
  cursorSequenceId,
  feedWindowStart,
  globalTradePages,
  globalTradesUrl,
} from '../../src/polymarket/index.js';
import type { FeedResumePoint, GlobalFeedPage, GlobalTradesOptions, PolymarketSource, TradeRecord } from '../../src/polymarket/index.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { AdvanceSummary, GroundTruthFill, RunningSimulator } from '../../src/simulator/index.js';
import { UNTHROTTLED, noSleep } from '../../testkit/backfill-harness.js';
import { listen, sendJson } from '../fakes/http-util.js';
import type { RunningServer } from '../fakes/http-util.js';

/** 2026-11-29T00:00:00Z: the simulator's "now" before its one-day advance. */
const NOW = Date.UTC(2026, 10, 29) / 1000;
const DAY = 86_400;

const identity = (f: Pick<GroundTruthFill, 'proxy_wallet' | 'transaction_hash' | 'asset' | 'side' | 'price' | 'size'> & { timestamp: number }): string =>
  JSON.stringify([f.proxy_wallet, f.transaction_hash, f.asset, f.side, f.price, f.size, f.timestamp]);

const recordIdentity = (r: TradeRecord): string =>
  identity({ ...r, timestamp: Date.parse(r.timestamp) / 1000 });

const sorted = (values: Iterable<string>): string[] => [...values].sort();

async function collect(walk: AsyncIterable<GlobalFeedPage>): Promise<GlobalFeedPage[]> {
  const pages: GlobalFeedPage[] = [];
  for await (const page of walk) pages.push(page);
  return pages;
}

describe('the global feed walk over the simulator', () => {
  let sim: RunningSimulator;
  let source: PolymarketSource;
  let summary: AdvanceSummary;
  /** An hour before the day's activity: the boundary transactions of the day land in it. */
  let downTo: number;
  let full: GlobalFeedPage[];

  beforeAll(async () => {
    sim = await startSimulator({ seed: 11, wallets: 900, maxTradesPerWallet: 300, nowSeconds: NOW, fillsPerDay: 2_500 });
    summary = sim.advance({ seconds: DAY });
    downTo = summary.fromSeconds - 3_600;
    source = createPolymarketSource({
      dataApiUrl: sim.url,
      gammaApiUrl: sim.url,
      rateLimits: UNTHROTTLED,
      sleep: noSleep,
      now: () => new Date(sim.nowSeconds() * 1000),
    });
    full = await collect(source.globalTrades({ downToSeconds: downTo }));
  });
  afterAll(async () => {
    await source?.close();
    await sim?.close();
  });

  it('yields every fill of every wallet at or after the anchor time, maker rows included, and nothing older', () => {
    const records = full.flatMap((page) => page.records);
    const expected = sim.dataset.globalFills(downTo);
    expect(expected.length).toBeGreaterThan(2_500);
    expect(records).toHaveLength(expected.length);
    expect(records.map(recordIdentity)).toEqual(expected.map((fill) => identity(fill)));
    expect(Math.min(...records.map((r) => Date.parse(r.timestamp) / 1000))).toBeGreaterThanOrEqual(downTo);
    expect(full.length).toBeGreaterThan(2);
    expect(full.at(-1)!.rowsServed).toBeGreaterThan(full.at(-1)!.records.length);
  });

  it('says it ended at the anchor, with the pages, rows and block times it saw', async () => {
    const walk = source.globalTrades({ downToSeconds: downTo });
    const pages = await collect(walk);
    expect(walk.outcome).toMatchObject({
      ended: 'anchor-reached',
      pages: pages.length,
      rowsServed: pages.reduce((sum, page) => sum + page.rowsServed, 0),
      rowsKept: pages.reduce((sum, page) => sum + page.records.length, 0),
      newestTimestamp: Date.parse(pages[0]!.records[0]!.timestamp) / 1000,
      documentedWindowStart: feedWindowStart(sim.nowSeconds() * 1000),
    });
    expect(walk.outcome!.oldestTimestamp).toBeGreaterThanOrEqual(downTo);
    expect(walk.smallFillsExcluded).toBe(false);
  });

  it('gives every fill the trade_id and fill_seq the per-wallet walk gives it, twins included', async () => {
    const byWallet = new Map<string, TradeRecord[]>();
    for (const record of full.flatMap((page) => page.records)) {
      byWallet.set(record.proxy_wallet, [...(byWallet.get(record.proxy_wallet) ?? []), record]);
    }
    expect(byWallet.size).toBeGreaterThan(100);
    let twins = 0;
    for (const [wallet, records] of byWallet) {
      const own: TradeRecord[] = [];
      for await (const page of source.walletTrades(wallet, { startSeconds: downTo })) own.push(...page);
      expect(sorted(records.map((r) => `${r.trade_id}:${r.fill_seq}`)), wallet).toEqual(sorted(own.map((r) => `${r.trade_id}:${r.fill_seq}`)));
      twins += records.filter((r) => r.fill_seq > 0).length;
    }
    expect(twins, 'the day holds twin fills, the case where fill_seq matters').toBeGreaterThan(0);
  });

  it('resumes from any committed page: the rows after it come back with the same keys, none missing, none new', async () => {
    const keyed = new Map(full.flatMap((page) => page.records).map((r) => [r.trade_id, recordIdentity(r)]));
    for (const [i, page] of full.slice(0, -1).entries()) {
      const committed = full.slice(0, i + 1).flatMap((p) => p.records);
      const resumed = (await collect(source.globalTrades({ downToSeconds: downTo, resumeFrom: page.resume }))).flatMap((p) => p.records);
      for (const r of resumed) expect(keyed.get(r.trade_id), `page ${i + 1}: ${r.trade_id}`).toBe(recordIdentity(r));
      expect(new Set([...committed, ...resumed].map((r) => r.trade_id)).size, `resumed after page ${i + 1}`).toBe(keyed.size);
      expect(new Set(resumed.map((r) => r.trade_id)).size).toBe(resumed.length);
    }
    // Each page's resume point sits on its oldest timestamp, whose rows start on that page or an earlier one.
    for (const page of full.slice(0, -1)) expect(page.resume.blockTimestamp).toBe(page.anchor!.blockTimestamp);
  });

  it('anchors every page on its oldest row and the sequence id its next cursor seeks from', () => {
    for (const page of full.slice(0, -1)) {
      const oldest = page.records.at(-1)!;
      expect(page.anchor).toEqual({ blockTimestamp: Date.parse(oldest.timestamp) / 1000, sequenceId: expect.stringMatching(/^\d+$/) });
    }
    expect(cursorSequenceId('not base64 json')).toBeNull();
    expect(cursorSequenceId(Buffer.from('{"data":{"params":{"sq":"42"}}}').toString('base64url'))).toBe('42');
  });

  it('keeps only the wallets asked for, still counting every row served', async () => {
    const tracked = new Set(summary.wallets.slice(0, 20));
    const pages = await collect(source.globalTrades({ downToSeconds: downTo, wallets: tracked }));
    const records = pages.flatMap((page) => page.records);
    expect(new Set(records.map((r) => r.proxy_wallet))).toEqual(tracked);
    const expected = full.flatMap((page) => page.records).filter((r) => tracked.has(r.proxy_wallet));
    expect(records.map((r) => r.trade_id)).toEqual(expected.map((r) => r.trade_id));
    expect(pages.reduce((sum, page) => sum + page.rowsServed, 0)).toBe(full.reduce((sum, page) => sum + page.rowsServed, 0));
  });

  it('counts its walks, pages and rows in stats(), and its requests under data:trades', async () => {
    const before = source.stats();
    const walk = source.globalTrades({ downToSeconds: downTo });
    await collect(walk);
    const after = source.stats();
    expect(after.globalFeed!.walks - before.globalFeed!.walks).toBe(1);
    expect(after.globalFeed!.pages - before.globalFeed!.pages).toBe(walk.outcome!.pages);
    expect(after.globalFeed!.rowsServed - before.globalFeed!.rowsServed).toBe(walk.outcome!.rowsServed);
    expect(after.requests['data:trades']! - before.requests['data:trades']!).toBe(walk.outcome!.pages);
  });

  it('reports a feed that ends above an anchor the documented window covers: the sign of a shorter window', async () => {
    // The simulator's clock runs 29 days ahead of its data: a window reaching 6 hours into the day's activity.
    const windowStart = summary.toSeconds - 6 * 3_600;
    sim.setGlobalFeed({ windowSeconds: sim.nowSeconds() - windowStart });
    try {
      const walk = source.globalTrades({ downToSeconds: downTo });
      const records = (await collect(walk)).flatMap((page) => page.records);
      expect(walk.outcome!.ended).toBe('feed-ended');
      expect(walk.outcome!.oldestTimestamp).toBeGreaterThanOrEqual(windowStart);
      expect(walk.outcome!.oldestTimestamp! - downTo).toBeGreaterThan(DAY / 2);
      expect(walk.outcome!.documentedWindowStart).toBeLessThanOrEqual(downTo);
      expect(records).toEqual(full.flatMap((page) => page.records).filter((r) => Date.parse(r.timestamp) / 1000 >= windowStart));
    } finally {
      sim.setGlobalFeed({});
    }
  });

  it('refuses an anchor that is not whole epoch seconds, before any request', () => {
    for (const downToSeconds of [0, 1.5, 1_793_491_199_000 / 1e12, Number.NaN]) {
      expect(() => source.globalTrades({ downToSeconds } as GlobalTradesOptions), String(downToSeconds)).toThrow(/whole number of epoch seconds/);
    }
  });
});

/**
 * A feed whose page boundary splits a pair of twin fills (one wallet, one transaction, identical rows): resuming
 * from the page's own next cursor would number the second twin 0 again and give both fills one key.
 */
describe('resuming the feed inside a timestamp', () => {
  let server: RunningServer;
  let http: HttpClient;
  const row = (wallet: string, ts: number, tx: string) => ({
    proxy_wallet: wallet, side: 'BUY', token_id: '123', condition_id: `0x${'c'.repeat(64)}`, size: 5, price: 0.5, timestamp: ts,
    title: '', slug: '', icon: '', event_slug: '', outcome: 'Yes', outcome_index: 0, name: '', pseudonym: '', bio: '',
    profile_image: '', profile_image_optimized: '', transaction_hash: tx,
  });
  const a = `0x${'a'.repeat(40)}`;
  const b = `0x${'b'.repeat(40)}`;
  const txTwin = `0x${'1'.repeat(64)}`;
  const pages: Record<string, { rows: unknown[]; next: string | null }> = {
    first: { rows: [row(b, 1_790_000_100, `0x${'2'.repeat(64)}`), row(a, 1_790_000_090, txTwin)], next: 'p2' },
    p2: { rows: [row(a, 1_790_000_090, txTwin), row(b, 1_790_000_080, `0x${'3'.repeat(64)}`)], next: 'p3' },
    p3: { rows: [row(b, 1_790_000_070, `0x${'4'.repeat(64)}`)], next: null },
  };

  beforeAll(async () => {
    server = await listen((req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const page = pages[url.searchParams.get('cursor') ?? 'first']!;
      sendJson(res, 200, { data: page.rows, pagination: { limit: 1000, offset: 0, has_more: page.next !== null, next_cursor: page.next } });
    });
    http = new HttpClient({ rateLimiter: new RateLimiter(UNTHROTTLED), timeoutMs: 5_000, maxAttempts: 1, maxInFlight: 2, sleep: noSleep });
  });
  afterAll(async () => {
    await http.close();
    await server.close();
  });

  const walk = (resumeFrom?: FeedResumePoint) =>
    collect(globalTradePages(http, server.url, { downToSeconds: 1_790_000_000, resumeFrom, now: () => 1_790_001_000_000 }));

  it('resumes from where the split timestamp began, so both twins keep their own keys', async () => {
    const full = await walk();
    const twins = full.flatMap((p) => p.records).filter((r) => r.transaction_hash === txTwin);
    expect(twins.map((r) => r.fill_seq)).toEqual([0, 1]);
    expect(full[0]!.resume).toEqual({ cursor: null, blockTimestamp: 1_790_000_090 });

    const resumed = (await walk(full[0]!.resume)).flatMap((p) => p.records);
    // Page 1's newer row is skipped, the split timestamp is keyed whole again, and the rest follows.
    expect(resumed.map((r) => r.trade_id)).toEqual(full.flatMap((p) => p.records).slice(1).map((r) => r.trade_id));

    // The naive resume, from page 1's next cursor, would key the second twin as the first: one fill lost on MERGE.
    const naive = (await walk({ cursor: 'p2', blockTimestamp: null })).flatMap((p) => p.records).filter((r) => r.transaction_hash === txTwin);
    expect(naive[0]!.trade_id).toBe(twins[0]!.trade_id);
  });

  it('refuses rows that go back up in time, naming the page and row', async () => {
    const saved = pages.p3!.rows;
    pages.p3!.rows = [row(b, 1_790_000_095, `0x${'5'.repeat(64)}`)];
    try {
      await expect(walk()).rejects.toThrow(/page 3\) row 1 has block time 1790000095, newer than 1790000080/);
    } finally {
      pages.p3!.rows = saved;
    }
  });

  it('sends the bare feed request: no user, taker_only=false, the wallet walk\'s filters', () => {
    const url = globalTradesUrl('https://data-api.polymarket.com/', 'abc');
    expect(url.pathname).toBe('/v2/trades');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      taker_only: 'false', limit: '1000', filter_type: 'TOKENS', filter_amount: '0.000001', cursor: 'abc',
    });
  });

  it('numbers twins per wallet within one timestamp, and starts again at the next timestamp', () => {
    const seq = new FeedFillSequencer();
    const fill = { transaction_hash: txTwin, asset: '1', side: 'BUY', price: 0.5, size: 5, timestamp: 100 };
    expect([seq.next(a, fill), seq.next(b, fill), seq.next(a, fill), seq.next(a, { ...fill, timestamp: 99 })]).toEqual([0, 0, 1, 0]);
    expect(() => seq.next(a, { ...fill, timestamp: 101 })).toThrow(/out of order/);
  });
});
