import { afterEach, describe, expect, it } from 'vitest';
import { isTransient } from '../../src/lib/errors.js';
import { PaginationError, HttpStatusError } from '../../src/polymarket/http-errors.js';
import { createPolymarketSource } from '../../src/polymarket/polymarket-source.js';
import type { TradeRecord } from '../../src/polymarket/records.js';
import type { PolymarketSource } from '../../src/polymarket/source.js';
import { failure, FAST_LIMITS, fixture, recordingSleep, sendJson, startServer, type SeenRequest, type TestServer } from './helpers.js';

/**
 * `filter_amount`: the client asks for every fill with a positive value below the smallest possible
 * fill (0 would be the documented 0.01 floor), and falls back to the documented default for the rest
 * of the run when the API refuses it, saying so on every walk that ran without the small fills.
 */

const WALLET = '0x379a410a36c101e3b8dfb6c90d1176eb0def4b1a';
const OTHER = '0x' + 'b'.repeat(40);
const template = fixture<{ data: Record<string, unknown>[] }>('v2-trades.json').data[0] as Record<string, unknown>;
const rowsOf = (user: string | null) =>
  [0, 1, 2].map((i) => ({ ...template, timestamp: 1789381477 - i, transaction_hash: `0xaa0${i}`, proxy_wallet: user ?? WALLET }));
const rows = rowsOf(WALLET);

interface Warning {
  fields: object;
  message: string | undefined;
}

let server: TestServer | undefined;
let sources: PolymarketSource[] = [];

afterEach(async () => {
  for (const source of sources) await source.close();
  await server?.close();
  sources = [];
  server = undefined;
});

function makeSource(url: string, warnings: Warning[] = []): PolymarketSource {
  const source = createPolymarketSource({
    dataApiUrl: url,
    gammaApiUrl: url,
    rateLimits: FAST_LIMITS,
    maxAttempts: 2,
    timeoutMs: 2000,
    sleep: recordingSleep().sleep,
    logger: { debug: () => undefined, info: () => undefined, warn: (fields, message) => warnings.push({ fields, message }) },
  });
  sources.push(source);
  return source;
}

async function collect(pages: AsyncIterable<TradeRecord[]>): Promise<TradeRecord[]> {
  const out: TradeRecord[] = [];
  for await (const page of pages) out.push(...page);
  return out;
}

const page = (data: unknown[], next: string | null = null) => ({ data, pagination: { limit: 1000, offset: 0, has_more: next !== null, next_cursor: next } });

/** A Data API that refuses `filter_amount` with `body` and otherwise serves `rows` on one page. */
function refusing(body: Record<string, unknown>): (req: unknown, res: Parameters<typeof sendJson>[0], index: number, seen: SeenRequest) => void {
  return (_req, res, _index, seen) => {
    if (seen.query.has('filter_amount')) sendJson(res, 400, body);
    else sendJson(res, 200, page(rowsOf(seen.query.get('user'))));
  };
}

const REFUSAL = { error: 'filter_amount must be at least 0.01', code: 'invalid_request', retryable: false, trace_id: 't-1', parameter: 'filter_amount' };

describe('filter_amount', () => {
  it('asks with filter_amount=0.000001 (one on-chain unit), never 0, which the document says means the 0.01 default', async () => {
    server = await startServer((_req, res) => sendJson(res, 200, page(rows)));
    const walk = makeSource(server.url).walletTrades(WALLET);
    expect(await collect(walk)).toHaveLength(3);
    expect(walk.smallFillsExcluded).toBe(false);
    expect(server.requests.map((r) => [r.query.get('filter_type'), r.query.get('filter_amount')])).toEqual([['TOKENS', '0.000001']]);
  });

  it('on a 400 naming filter_amount, walks again without it, says the walk excluded the small fills, and logs one warning for the whole run', async () => {
    server = await startServer(refusing(REFUSAL));
    const warnings: Warning[] = [];
    const source = makeSource(server.url, warnings);
    const first = source.walletTrades(WALLET);
    expect(await collect(first)).toHaveLength(3);
    expect(first.smallFillsExcluded).toBe(true);
    const second = source.walletTrades(OTHER);
    await collect(second);
    expect(second.smallFillsExcluded).toBe(true);
    // The refused request once, then never again in this run: the fallback omits the parameter.
    expect(server.requests.map((r) => r.query.get('filter_amount'))).toEqual(['0.000001', null, null]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(
      /^The Data API refused filter_amount=0\.000001 \(GET \S+\/v2\/trades\?\S+: HTTP 400, "filter_amount must be at least 0\.01" \(code "invalid_request", parameter "filter_amount", trace_id "t-1"\)\); for the rest of this run .* 0\.01 shares.*small_fills_excluded = true/,
    );
  });

  it('keeps the fallback per source: another source (another run) asks with filter_amount again', async () => {
    server = await startServer(refusing(REFUSAL));
    await collect(makeSource(server.url).walletTrades(WALLET));
    const fresh = makeSource(server.url).walletTrades(WALLET);
    await collect(fresh);
    expect(fresh.smallFillsExcluded).toBe(true);
    expect(server.requests.map((r) => r.query.get('filter_amount'))).toEqual(['0.000001', null, '0.000001', null]);
  });

  it('also falls back when the v2 body names filter_amount only in its error text (camelCase too)', async () => {
    server = await startServer(refusing({ error: 'unknown query parameter filterAmount', code: 'invalid_request', retryable: false, trace_id: 't-2' }));
    const walk = makeSource(server.url).walletTrades(WALLET);
    expect(await collect(walk)).toHaveLength(3);
    expect(walk.smallFillsExcluded).toBe(true);
  });

  it('does not fall back on a 400 naming another parameter: the wallet fails with the API\'s words and is not retried', async () => {
    server = await startServer(refusing({ ...REFUSAL, parameter: 'user', error: 'invalid user address (filter_amount is fine)' }));
    const walk = makeSource(server.url).walletTrades(WALLET);
    const error = await failure(collect(walk));
    expect(error).toBeInstanceOf(HttpStatusError);
    expect(error.message).toContain('(code "invalid_request", parameter "user", trace_id "t-1")');
    expect(walk.smallFillsExcluded).toBe(false);
    expect(server.requests).toHaveLength(1);
  });

  it('a refusal after pages that accepted it fails the wallet as transient (its rows cannot be taken back) and later walks use the fallback', async () => {
    server = await startServer((_req, res, index, seen) => {
      if (index === 0) sendJson(res, 200, page(rows.slice(0, 1), 'c2'));
      else if (seen.query.has('filter_amount')) sendJson(res, 400, REFUSAL);
      else sendJson(res, 200, page(rowsOf(seen.query.get('user'))));
    });
    const source = makeSource(server.url);
    const error = await failure(collect(source.walletTrades(WALLET)));
    expect(error).toBeInstanceOf(PaginationError);
    expect(isTransient(error)).toBe(true);
    expect(error.message).toContain(`wallet ${WALLET} was refused filter_amount=0.000001 after 1 page(s) that accepted it`);
    expect(error.message).toContain('fetched again from the start by the next run');
    const next = source.walletTrades(OTHER);
    await collect(next);
    expect(next.smallFillsExcluded).toBe(true);
    expect(server.requests.at(-1)!.query.has('filter_amount')).toBe(false);
  });
});
