import { afterEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/lib/errors.js';
import { PaginationError, UnexpectedResponseError } from '../../src/polymarket/http-errors.js';
import { createPolymarketSource } from '../../src/polymarket/polymarket-source.js';
import type { TradeRecord } from '../../src/polymarket/records.js';
import type { PolymarketSource } from '../../src/polymarket/source.js';
import { OutOfOrderError } from '../../src/polymarket/trade-key.js';
import { failure, FAST_LIMITS, fixture, recordingSleep, sendJson, startServer, type TestServer } from './helpers.js';

const WALLET = '0x379a410a36c101e3b8dfb6c90d1176eb0def4b1a';
const template = fixture<{ data: Record<string, unknown>[] }>('v2-trades.json').data[0] as Record<string, unknown>;

function v2Row(timestamp: number, tx: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...template, timestamp, transaction_hash: tx, ...overrides };
}

/** A wallet history, newest first, with identical twin fills inside two transactions. */
const HISTORY = [
  v2Row(1789381477, '0xaa01'),
  v2Row(1789381477, '0xaa01'),
  v2Row(1789381477, '0xaa01', { side: 'SELL' }),
  v2Row(1789381400, '0xaa02'),
  v2Row(1789381300, '0xaa03', { size: 5, price: 0.1 }),
  v2Row(1789381300, '0xaa03', { size: 5, price: 0.1 }),
  v2Row(1789381300, '0xaa03', { size: 5, price: 0.1 }),
  v2Row(1789381200, '0xaa04'),
];

const cursorFor = (offset: number): string => Buffer.from(JSON.stringify({ o: offset, sig: 'x' })).toString('base64url');
const offsetOf = (cursor: string | null): number =>
  cursor ? (JSON.parse(Buffer.from(cursor, 'base64url').toString()) as { o: number }).o : 0;

/** A Data API v2 `/v2/trades` double that pages `rows` by cursor, `pageSize` at a time. */
async function dataApi(rows: readonly unknown[], pageSize: number): Promise<TestServer> {
  return startServer((_req, res, _index, seen) => {
    const offset = offsetOf(seen.query.get('cursor'));
    const next = offset + pageSize;
    const hasMore = next < rows.length;
    sendJson(res, 200, {
      data: rows.slice(offset, next),
      pagination: { limit: pageSize, offset, has_more: hasMore, next_cursor: hasMore ? cursorFor(next) : null },
    });
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

function makeSource(url: string): PolymarketSource {
  source = createPolymarketSource({
    dataApiUrl: url,
    gammaApiUrl: url,
    rateLimits: FAST_LIMITS,
    maxAttempts: 2,
    timeoutMs: 2000,
    sleep: recordingSleep().sleep,
  });
  return source;
}

async function collect(pages: AsyncIterable<TradeRecord[]>): Promise<TradeRecord[][]> {
  const out: TradeRecord[][] = [];
  for await (const page of pages) out.push(page);
  return out;
}

describe('walletTrades paging', () => {
  it('follows next_cursor, re-sending identical filters (user, taker_only=false, start=1, limit=1000) until it is null', async () => {
    server = await dataApi(HISTORY, 3);
    const pages = await collect(makeSource(server.url).walletTrades(WALLET.toUpperCase().replace('0X', '0x')));
    expect(pages.map((page) => page.length)).toEqual([3, 3, 2]);
    expect(server.requests).toHaveLength(3);
    const cursors: (string | null)[] = [];
    for (const request of server.requests) {
      expect(request.path).toBe('/v2/trades');
      expect(request.query.get('user')).toBe(WALLET);
      expect(request.query.get('taker_only')).toBe('false');
      expect(request.query.get('start')).toBe('1');
      expect(request.query.get('limit')).toBe('1000');
      expect(request.query.has('offset')).toBe(false);
      cursors.push(request.query.get('cursor'));
    }
    expect(cursors).toEqual([null, cursorFor(3), cursorFor(6)]);
    expect(source?.stats().requests).toEqual({ 'data:trades': 3 });
  });

  it('gives identical fills in one transaction distinct ids, and the same ids however the history is split into pages', async () => {
    const runs: TradeRecord[][] = [];
    for (const pageSize of [1, 2, 3, 5, 1000]) {
      server = await dataApi(HISTORY, pageSize);
      runs.push((await collect(makeSource(server.url).walletTrades(WALLET))).flat());
      await source?.close();
      await server.close();
      server = undefined;
      source = undefined;
    }
    const ids = runs.map((records) => records.map((record) => record.trade_id));
    for (const other of ids.slice(1)) expect(other).toEqual(ids[0]);
    const first = runs[0] as TradeRecord[];
    expect(new Set(ids[0]).size).toBe(HISTORY.length);
    expect(first.map((record) => record.fill_seq)).toEqual([0, 1, 0, 0, 0, 1, 2, 0]);
    expect(first[0]).toMatchObject({ proxy_wallet: WALLET, transaction_hash: '0xaa01', timestamp: '2026-09-14T10:24:37.000Z' });
  });

  it('stops with a PaginationError when a cursor repeats, instead of looping forever', async () => {
    server = await startServer((_req, res) => {
      sendJson(res, 200, { data: [v2Row(1789381477, '0xaa01')], pagination: { has_more: true, next_cursor: 'same-cursor' } });
    });
    const error = await failure(collect(makeSource(server.url).walletTrades(WALLET)));
    expect(error).toBeInstanceOf(PaginationError);
    expect(error.message).toContain('next_cursor already followed');
    expect(server.requests).toHaveLength(2);
  });

  it('stops with a PaginationError when has_more is true but next_cursor is null', async () => {
    server = await startServer((_req, res) => {
      sendJson(res, 200, { data: [], pagination: { has_more: true, next_cursor: null } });
    });
    const error = await failure(collect(makeSource(server.url).walletTrades(WALLET)));
    expect(error).toBeInstanceOf(PaginationError);
    expect(error.message).toContain('has_more=true but gives no next_cursor');
  });

  it('stops when empty pages keep minting new cursors', async () => {
    server = await startServer((_req, res, index) => {
      sendJson(res, 200, { data: [], pagination: { has_more: true, next_cursor: `c${index}` } });
    });
    const error = await failure(collect(makeSource(server.url).walletTrades(WALLET)));
    expect(error).toBeInstanceOf(PaginationError);
    expect(server.requests).toHaveLength(3);
  });

  it('treats data: null with a null cursor as an empty history (a documented miss), yielding no page', async () => {
    server = await startServer((_req, res) => {
      sendJson(res, 200, { data: null, pagination: { limit: 1000, offset: 0, has_more: false, next_cursor: null } });
    });
    expect(await collect(makeSource(server.url).walletTrades(WALLET))).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('rejects a body without the v2 envelope (a v1 bare array), naming the URL', async () => {
    server = await startServer((_req, res) => sendJson(res, 200, [template]));
    const error = await failure(collect(makeSource(server.url).walletTrades(WALLET)));
    expect(error).toBeInstanceOf(UnexpectedResponseError);
    expect(error.message).toContain(`${server.url}/v2/trades?user=${WALLET}`);
    expect(error.message).toContain('{data, pagination} envelope');
  });

  it('fails the wallet when rows come out of order across pages', async () => {
    server = await dataApi([v2Row(1789381400, '0xaa01'), v2Row(1789381477, '0xaa02')], 1);
    const error = await failure(collect(makeSource(server.url).walletTrades(WALLET)));
    expect(error).toBeInstanceOf(OutOfOrderError);
  });

  it('fails the wallet when a row belongs to another wallet', async () => {
    server = await dataApi([v2Row(1789381400, '0xaa01', { proxy_wallet: '0xc69bd5567b40ef4d11922eaa57e1f9be1c642076' })], 10);
    const error = await failure(collect(makeSource(server.url).walletTrades(WALLET)));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toContain('not the requested');
  });

  it('rejects a wallet that is not an address before sending anything', async () => {
    server = await dataApi(HISTORY, 10);
    const error = await failure(collect(makeSource(server.url).walletTrades('gopfan')));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toContain('"gopfan"');
    expect(server.requests).toHaveLength(0);
  });

  it('adds one listener per walk to the caller\'s signal, not several per request (no MaxListeners warning)', async () => {
    server = await dataApi(HISTORY, 1);
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    try {
      const controller = new AbortController();
      const shared = makeSource(server.url);
      const walks = Array.from({ length: 8 }, () => collect(shared.walletTrades(WALLET, { signal: controller.signal })));
      const results = await Promise.all(walks);
      expect(results.map((pages) => pages.length)).toEqual(Array.from({ length: 8 }, () => HISTORY.length));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('honours an AbortSignal between pages', async () => {
    server = await dataApi(HISTORY, 2);
    const controller = new AbortController();
    const seen: number[] = [];
    const error = await failure(
      (async () => {
        for await (const page of makeSource(server.url).walletTrades(WALLET, { signal: controller.signal })) {
          seen.push(page.length);
          controller.abort(new Error('stop requested'));
        }
      })(),
    );
    expect(error.message).toBe('stop requested');
    expect(seen).toEqual([2]);
    expect(server.requests).toHaveLength(1);
  });
});
