import { afterEach, describe, expect, it } from 'vitest';
import { InvalidInputError, failureKind } from '../../src/lib/errors.js';
import { PaginationError } from '../../src/polymarket/http-errors.js';
import { PageGuard } from '../../src/polymarket/page-guard.js';
import { createPolymarketSource, type PolymarketSourceConfig } from '../../src/polymarket/polymarket-source.js';
import type { TradeRecord } from '../../src/polymarket/records.js';
import type { PolymarketSource } from '../../src/polymarket/source.js';
import { hostileRow } from '../fakes/hostile-polymarket.js';
import { failure, FAST_LIMITS, recordingSleep, sendJson, startServer, type TestServer } from './helpers.js';

const WALLET = '0x379a410a36c101e3b8dfb6c90d1176eb0def4b1a';
const row = (index: number, overrides: Record<string, unknown> = {}) => ({ ...hostileRow(WALLET, index), ...overrides });
const cursorOf = (page: number) => `cursor-${page}`;
const pageOf = (cursor: string | null) => (cursor ? Number(cursor.slice('cursor-'.length)) : 1);

/** Serves `pageRows(n)` as page n, with a fresh cursor while `more(n)`; `pagination.limit` says `limit`. */
function pagedServer(pageRows: (page: number) => unknown[], more: (page: number) => boolean, limit = 1000): Promise<TestServer> {
  return startServer((_req, res, _index, seen) => {
    const page = pageOf(seen.query.get('cursor'));
    const hasMore = more(page);
    sendJson(res, 200, { data: pageRows(page), pagination: { limit, has_more: hasMore, next_cursor: hasMore ? cursorOf(page + 1) : null } });
  });
}

let server: TestServer | undefined;
let source: PolymarketSource | undefined;

afterEach(async () => {
  await source?.close();
  await server?.close();
  source = undefined;
  server = undefined;
});

function makeSource(url: string, config: Partial<PolymarketSourceConfig> = {}): PolymarketSource {
  source = createPolymarketSource({ dataApiUrl: url, rateLimits: FAST_LIMITS, maxAttempts: 2, sleep: recordingSleep().sleep, ...config });
  return source;
}

async function collect(pages: AsyncIterable<TradeRecord[]>): Promise<TradeRecord[][]> {
  const out: TradeRecord[][] = [];
  for await (const page of pages) out.push(page);
  return out;
}

describe('a page longer than the limit asked for', () => {
  it('fails the wallet (permanent), naming the page number, the row count and the limit', async () => {
    server = await pagedServer((page) => (page === 1 ? [row(0)] : Array.from({ length: 1001 }, (_, i) => row(i + 1))), (page) => page < 2);
    const error = await failure(collect(makeSource(server.url).walletTrades(WALLET)));
    expect(error).toBeInstanceOf(PaginationError);
    expect(error.message).toMatch(/\(page 2\) returned 1001 rows, more than the limit of 1000 asked for/);
    expect(failureKind(error)).toBe('permanent');
    expect(server.requests).toHaveLength(2);
  });

  it('accepts a page of exactly the limit', async () => {
    server = await pagedServer(() => Array.from({ length: 1000 }, (_, i) => row(i)), () => false);
    expect((await collect(makeSource(server.url).walletTrades(WALLET))).map((page) => page.length)).toEqual([1000]);
  });
});

describe('the page cap', () => {
  it('fails a walk that still has a cursor after maxPagesPerWallet pages, naming the cap and --max-pages-per-wallet', async () => {
    server = await pagedServer((page) => [row(page)], () => true);
    const error = await failure(collect(makeSource(server.url, { maxPagesPerWallet: 5 }).walletTrades(WALLET)));
    expect(error).toBeInstanceOf(PaginationError);
    expect(error.message).toContain('(page 5) still has a next_cursor after 5 pages, the cap per wallet (--max-pages-per-wallet 5, i.e. 5,000 fills at 1000 per page)');
    expect(error.message).toContain('raise --max-pages-per-wallet (maxPagesPerWallet), up to 1,000,000');
    expect(failureKind(error)).toBe('permanent');
    expect(server.requests).toHaveLength(5);
  });

  it('lets a walk of exactly maxPagesPerWallet pages finish', async () => {
    server = await pagedServer((page) => [row(page)], (page) => page < 5);
    expect(await collect(makeSource(server.url, { maxPagesPerWallet: 5 }).walletTrades(WALLET))).toHaveLength(5);
  });

  it('defaults to 20,000 pages and refuses a cap outside 1..1,000,000', () => {
    for (const maxPagesPerWallet of [0, 1_000_001, 2.5]) {
      expect(() => createPolymarketSource({ maxPagesPerWallet }), String(maxPagesPerWallet)).toThrow(/maxPagesPerWallet .* is out of range: allowed a whole number from 1 to 1,000,000/);
    }
    expect(() => new PageGuard({ limit: 1000, maxPages: 0 })).toThrow(RangeError);
  });

  it('keeps a fixed-size digest per page, not the cursors themselves (memory bounded by the cap)', () => {
    const guard = new PageGuard({ limit: 1000, maxPages: 100 });
    const cursor = 'c'.repeat(1_000_000);
    // A megabyte-long cursor per page would be 100 MB if kept; 100 pages must not grow the heap by that.
    const before = process.memoryUsage().heapUsed;
    for (let page = 1; page < 100; page += 1) guard.check(page, [row(page)], `${cursor}${page}`, 'GET x');
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(50 * 1024 * 1024);
    expect(() => guard.check(100, [row(100)], `${cursor}x`, 'GET x')).toThrow(/after 100 pages/);
  });
});

describe('a page repeated under a new cursor', () => {
  it('fails the wallet when a page repeats the previous one, naming both page numbers, before any row is counted twice', async () => {
    server = await pagedServer(() => [row(0), row(1)], () => true);
    const pages: TradeRecord[][] = [];
    const error = await failure(
      (async () => {
        for await (const page of makeSource(server.url).walletTrades(WALLET)) pages.push(page);
      })(),
    );
    expect(error).toBeInstanceOf(PaginationError);
    expect(error.message).toContain('(page 2) returned the same 2 row(s) as page 1, under a new cursor');
    expect(failureKind(error)).toBe('permanent');
    expect(pages).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
  });

  it('fails the wallet when a page repeats an earlier, not the previous, page', async () => {
    server = await pagedServer((page) => (page === 2 ? [row(2), row(3)] : [row(0), row(1)]), () => true);
    const error = await failure(collect(makeSource(server.url).walletTrades(WALLET)));
    expect(error).toBeInstanceOf(PaginationError);
    expect(error.message).toContain('(page 3) returned the same 2 row(s) as page 1, under a new cursor');
  });

  it('compares rows, not bytes: the same rows with other whitespace or pagination still count as a repeat', async () => {
    server = await startServer((_req, res, index) => {
      const body = { data: [row(0)], pagination: { limit: 1000, offset: index * 1000, has_more: true, next_cursor: cursorOf(index + 2) } };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body, null, index));
    });
    const error = await failure(collect(makeSource(server.url).walletTrades(WALLET)));
    expect(error.message).toContain('(page 2) returned the same 1 row(s) as page 1');
  });

  it('lets identical full pages through when they lie inside one block (twin fills of one transaction filling whole pages)', async () => {
    const twin = row(0);
    server = await pagedServer(() => [twin, twin], (page) => page < 3, 2);
    const pages = await collect(makeSource(server.url).walletTrades(WALLET));
    expect(pages.flat().map((record) => record.fill_seq)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('still fails a repeated page inside one block when it is short: only the last page may be short, so it cannot be twins', async () => {
    const twin = row(0);
    server = await pagedServer(() => [twin, twin], () => true, 1000);
    const error = await failure(collect(makeSource(server.url).walletTrades(WALLET)));
    expect(error.message).toContain('(page 2) returned the same 2 row(s) as page 1');
  });
});

describe('startSeconds', () => {
  it('sends start=<startSeconds> on every page with the same other filters, following the cursor to the end', async () => {
    server = await pagedServer((page) => [row(page)], (page) => page < 3);
    const pages = await collect(makeSource(server.url).walletTrades(WALLET, { startSeconds: 1_760_000_000 }));
    expect(pages).toHaveLength(3);
    expect(server.requests.map((request) => request.query.get('cursor'))).toEqual([null, cursorOf(2), cursorOf(3)]);
    for (const request of server.requests) {
      expect(Object.fromEntries([...request.query].filter(([name]) => name !== 'cursor'))).toEqual({
        user: WALLET,
        taker_only: 'false',
        start: '1760000000',
        limit: '1000',
        filter_type: 'TOKENS',
        filter_amount: '0.000001',
      });
    }
  });

  it('defaults to start=1, the full history', async () => {
    server = await pagedServer(() => [row(0)], () => false);
    await collect(makeSource(server.url).walletTrades(WALLET));
    expect(server.requests[0]?.query.get('start')).toBe('1');
  });

  it('refuses a start that is not whole epoch seconds >= 1 before sending anything', async () => {
    server = await pagedServer(() => [row(0)], () => false);
    for (const startSeconds of [0, -5, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
      const error = await failure(collect(makeSource(server.url).walletTrades(WALLET, { startSeconds })));
      expect(error, String(startSeconds)).toBeInstanceOf(InvalidInputError);
      expect(error.message).toContain(`startSeconds ${String(startSeconds)} for wallet ${WALLET} is not a whole number of epoch seconds >= 1`);
      await source?.close();
    }
    expect(server.requests).toHaveLength(0);
  });
});
