import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/lib/errors.js';
import { DATA_LEADERBOARD_KEY, PNL_CHECK_RATE_LIMITS, createPolymarketSource, parseRateLimitSpec, type PolymarketSourceConfig } from '../../src/polymarket/index.js';
import { OCCASIONAL_RATE_LIMIT_KEYS } from '../../src/polymarket/source-limits.js';
import type { PolymarketSource } from '../../src/polymarket/source.js';
import { FAST_LIMITS, fixture, recordingSleep, sendJson, startServer, type TestServer } from './helpers.js';

let server: TestServer | undefined;
let source: PolymarketSource | undefined;

afterEach(async () => {
  await source?.close();
  await server?.close();
  source = undefined;
  server = undefined;
});

describe('parseRateLimitSpec', () => {
  it('parses the CLI form into per-endpoint limits (units ms, s, m; a bare unit means 1)', () => {
    expect(parseRateLimitSpec('data:trades=200/10s, gamma:markets=300/10s,gamma:events=5/500ms')).toEqual({
      'data:trades': { requests: 200, perMs: 10_000 },
      'gamma:markets': { requests: 300, perMs: 10_000 },
      'gamma:events': { requests: 5, perMs: 500 },
    });
    expect(parseRateLimitSpec('data:trades=20/s')).toEqual({ 'data:trades': { requests: 20, perMs: 1000 } });
    expect(parseRateLimitSpec('DATA:TRADES=100/1m')).toEqual({ 'data:trades': { requests: 100, perMs: 60_000 } });
    expect(parseRateLimitSpec('')).toEqual({});
  });

  it('accepts rpc, the Polygon JSON-RPC key of `backfill audit`, beside the Polymarket endpoints, and still refuses an unknown bare key', () => {
    expect(parseRateLimitSpec('rpc=25/1s,data:trades=200/10s')).toEqual({ rpc: { requests: 25, perMs: 1000 }, 'data:trades': { requests: 200, perMs: 10_000 } });
    expect(() => parseRateLimitSpec('rcp=25/1s')).toThrow(/unknown endpoint "rcp".*Known endpoints: .*rpc/);
  });

  it("accepts the keys of the calls outside a backfill (the leaderboard, verify-pnl's two routes), spelled as their clients spell them", () => {
    expect(parseRateLimitSpec('data:positions=5/10s,data:user-pnl=6/10s,data:leaderboard=7/10s')).toEqual({
      'data:positions': { requests: 5, perMs: 10_000 },
      'data:user-pnl': { requests: 6, perMs: 10_000 },
      'data:leaderboard': { requests: 7, perMs: 10_000 },
    });
    expect([...OCCASIONAL_RATE_LIMIT_KEYS].sort()).toEqual([DATA_LEADERBOARD_KEY, ...Object.keys(PNL_CHECK_RATE_LIMITS)].sort());
  });

  it('names the bad token in a ConfigError', () => {
    expect(() => parseRateLimitSpec('data:trades=200/10s,gamma:markets=300')).toThrow(ConfigError);
    expect(() => parseRateLimitSpec('data:trades=200/10s,gamma:markets=300')).toThrow(/"gamma:markets=300"/);
    expect(() => parseRateLimitSpec('data:trade=200/10s')).toThrow(/unknown endpoint "data:trade".*Known endpoints: data:trades/);
    expect(() => parseRateLimitSpec('data:trades=0/10s')).toThrow(/"data:trades=0\/10s"/);
    expect(() => parseRateLimitSpec('data:trades=200/10h')).toThrow(/"data:trades=200\/10h"/);
  });
});

describe('createPolymarketSource', () => {
  it('rejects bad configuration with a ConfigError', () => {
    const bad: PolymarketSourceConfig[] = [
      { dataApiUrl: 'data-api.polymarket.com' },
      { gammaApiUrl: 'ftp://gamma' },
      { timeoutMs: 0 },
      { maxAttempts: 0 },
      { maxInFlight: 1.5 },
      { rateLimits: { 'data:trades': { requests: -1, perMs: 10 } } },
    ];
    for (const config of bad) expect(() => createPolymarketSource(config), JSON.stringify(config)).toThrow(ConfigError);
  });

  it('accepts a pino logger, logs each retry, and counts requests, and retries per class and per endpoint, in stats()', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
    const rows = fixture<{ data: unknown[] }>('v2-trades.json');
    server = await startServer((_req, res, index) => {
      if (index === 0) sendJson(res, 503, { error: 'busy', code: 'dependency_unavailable', retryable: true }, { 'retry-after': '1' });
      else sendJson(res, 200, { data: [rows.data[0]], pagination: { has_more: false, next_cursor: null } });
    });
    const { sleep, delays } = recordingSleep();
    source = createPolymarketSource({ dataApiUrl: `${server.url}/`, rateLimits: FAST_LIMITS, sleep, logger });
    const pages: unknown[] = [];
    for await (const page of source.walletTrades('0x379a410a36c101e3b8dfb6c90d1176eb0def4b1a')) pages.push(page);
    expect(pages).toHaveLength(1);
    expect(delays).toEqual([1000]);
    expect(source.stats()).toEqual({ requests: { 'data:trades': 2 }, retries: { '503': 1 }, retriesByEndpoint: { 'data:trades': 1 } });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ level: 40, retryClass: '503', delayMs: 1000, attempt: 1, maxAttempts: 8 });
    // A trailing slash on the base URL does not double the path separator.
    expect(server.requests[0]?.path).toBe('/v2/trades');
  });

  it('close() releases the agent; later requests fail clearly instead of hanging', async () => {
    server = await startServer((_req, res) => sendJson(res, 200, []));
    source = createPolymarketSource({ gammaApiUrl: server.url, rateLimits: FAST_LIMITS, sleep: recordingSleep().sleep });
    await source.close();
    await expect(source.markets([`0x${'1'.repeat(64)}`])).rejects.toThrow(/client is closed/);
    await source.close();
  });
});
