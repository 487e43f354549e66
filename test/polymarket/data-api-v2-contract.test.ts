import { readFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { walletActivityPages, walletComboActivityPages } from '../../src/polymarket/activity-api.js';
import { HttpClient } from '../../src/polymarket/http-client.js';
import { DEFAULT_RATE_LIMITS, RateLimiter } from '../../src/polymarket/rate-limiter.js';
import { PNL_CHECK_RATE_LIMITS, latestUserPnl, walletClosedPositions } from '../../src/polymarket/pnl-api.js';
import { lookupResolutions } from '../../src/polymarket/resolutions-api.js';
import { createPolymarketSource } from '../../src/polymarket/index.js';
import type { PolymarketSource } from '../../src/polymarket/index.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator, SimExchange } from '../../src/simulator/index.js';
import { UNTHROTTLED, noSleep } from '../../testkit/backfill-harness.js';
import { DESCRIBED_VALUES, DOCUMENT_COPY, SHARED_DOCUMENT, dataApiContract, readDocument, sharedDocumentExists } from '../../testkit/openapi-contract.js';

/**
 * The Data API v2 OpenAPI document as the contract: our client's requests and our simulator's
 * responses are each checked against the document, never against each other, over real loopback
 * traffic (walks, a refresh window, a discovery, with injected 429/503/500).
 */

const document = readDocument();
const contract = dataApiContract(document);

describe('the Data API v2 document', () => {
  it.skipIf(!sharedDocumentExists())('the repository copy is byte for byte the shared mirror (../shared/reference)', () => {
    expect(readFileSync(DOCUMENT_COPY, 'utf8') === readFileSync(SHARED_DOCUMENT, 'utf8'), `copy ${SHARED_DOCUMENT} to ${DOCUMENT_COPY}`).toBe(true);
  });

  it('every value the contract takes from a description is listed in that parameter\'s description', () => {
    for (const [path, parameters] of Object.entries(DESCRIBED_VALUES)) {
      for (const [name, values] of Object.entries(parameters)) {
        const parameter = document.paths[path]?.get?.parameters?.find((p) => p.name === name);
        expect(parameter, `${path} ${name}`).toBeDefined();
        for (const value of values) expect(parameter!.description, `${path} ${name}`).toMatch(new RegExp(`\\b${value}\\b`));
      }
    }
  });

  it('can fail: it flags requests and responses that break the document (negative controls)', () => {
    const user = `user=0x${'1'.repeat(40)}`;
    expect(contract.checkRequest(`/v2/trades?${user}&filter_amount=0.000001&filterType=TOKENS&takerOnly=false&condition_id=0xab`)).toEqual([]);
    // The global feed is the same operation without `user`.
    expect(contract.checkRequest('/v2/trades?taker_only=false&limit=1000&filter_type=TOKENS&filter_amount=0.000001&cursor=abc')).toEqual([]);
    expect(contract.checkRequest('/v2/trades?taker_only=maybe&limit=1000').join('; ')).toMatch(/is not true or false/);
    const bad: [string, RegExp][] = [
      [`/v2/trades?${user}&offset=10`, /"offset" is not declared/],
      [`/v2/trades?${user}&limit=1001`, /limit="1001" is above the maximum 1000/],
      [`/v2/trades?${user}&limit=-1`, /below the minimum 0/],
      [`/v2/trades?${user}&start=1.5`, /start="1.5" is not an integer/],
      [`/v2/trades?${user}&filter_amount=tiny`, /is not a number/],
      [`/v2/trades?${user}&taker_only=no`, /is not true or false/],
      [`/v2/trades?${user}&filter_type=SHARES`, /is not one of the values its description lists \(CASH, TOKENS\)/],
      [`/v2/trades?${user}&side=buy`, /side="buy" is not one of/],
      [`/v2/trades?${user}&limit=10&limit=20`, /"limit" is sent twice/],
      [`/v2/leaderboard?time_period=year`, /time_period="year" is not one of/],
      [`/v2/nowhere?${user}`, /not a GET operation/],
    ];
    for (const [url, problem] of bad) expect(contract.checkRequest(url).join('; '), url).toMatch(problem);

    const ok = { method: 'GET', url: '/v2/trades?user=x', status: 200, headers: { 'content-type': 'application/json', 'x-trace-id': 't' } };
    const page = (rows: unknown[]) => JSON.stringify({ data: rows, pagination: { limit: 1000, offset: 0, has_more: false, next_cursor: null } });
    const row = JSON.parse(readFileSync(new URL('../fixtures/polymarket/v2-trades.json', import.meta.url), 'utf8')) as { data: Record<string, unknown>[] };
    expect(contract.checkResponse({ ...ok, body: page(row.data) })).toEqual([]);
    const badResponses: [Parameters<typeof contract.checkResponse>[0], RegExp][] = [
      [{ ...ok, body: page([{ ...row.data[0], size: undefined }]) }, /\/data\/0 must have required property 'size'/],
      [{ ...ok, body: page([{ ...row.data[0], timestamp: 1.5 }]) }, /\/data\/0\/timestamp must be integer/],
      [{ ...ok, body: page([{ ...row.data[0], outcome_index: 2 ** 31 }]) }, /outcome_index must match format "int32"/],
      [{ ...ok, body: JSON.stringify({ data: [] }) }, /must have required property 'pagination'/],
      [{ ...ok, headers: { 'content-type': 'application/json' }, body: page([]) }, /no x-trace-id header/],
      [{ ...ok, status: 502, body: '<html>' }, /not among the operation's declared responses/],
      [{ ...ok, status: 400, body: JSON.stringify({ error: 'x', code: 'invalid_request', trace_id: 't' }) }, /must have required property 'retryable'/],
      [{ ...ok, status: 400, body: JSON.stringify({ error: 'x', code: 'nope', retryable: false, trace_id: 't' }) }, /\/code must be equal to one of the allowed values/],
      [{ ...ok, status: 503, body: JSON.stringify({ error: 'x', code: 'request_timeout', retryable: true, trace_id: 't' }) }, /retryable, but no Retry-After/],
      [{ ...ok, status: 500, body: JSON.stringify({ error: 'x', code: 'rate_limited', retryable: true, trace_id: 't' }) }, /code rate_limited maps to HTTP 429/],
      [{ ...ok, status: 400, body: JSON.stringify({ error: 'x', code: 'invalid_request', retryable: false, trace_id: 'other' }) }, /is not the x-trace-id/],
    ];
    for (const [exchange, problem] of badResponses) expect(contract.checkResponse(exchange).join('; '), exchange.body).toMatch(problem);
    // int64 takes integers past 2^31 (block times in milliseconds would be one).
    expect(contract.checkResponse({ ...ok, body: page([{ ...row.data[0], timestamp: 2 ** 40 }]) })).toEqual([]);
  });
});

describe('our client and our simulator, each held to the document over real traffic', () => {
  let sim: RunningSimulator;
  let source: PolymarketSource;
  const exchanges: SimExchange[] = [];
  /** URLs this test sends itself (to reach responses the client never asks for): responses only, not client requests. */
  const ownUrls = new Set<string>();

  beforeAll(async () => {
    sim = await startSimulator({
      seed: 17,
      wallets: 25,
      maxTradesPerWallet: 1500,
      whales: [2600],
      // Only faults the API itself answers; a CDN's text 429 or HTML 502 is not a v2 response.
      faults: { rateLimitedWithRetryAfter: 0.12, unavailable: 0.12, serverError: 0.12 },
      faultSeed: 3,
      retryAfterSeconds: 0,
      onExchange: (exchange) => exchanges.push(exchange),
    });
    source = createPolymarketSource({ dataApiUrl: sim.url, gammaApiUrl: sim.url, rateLimits: UNTHROTTLED, sleep: noSleep, maxAttempts: 30 });
  });
  afterAll(async () => {
    await source.close();
    await sim.close();
  });

  it('every request the client sends to /v2/* is declared by its operation, and every simulator response to /v2/* matches its schema', async () => {
    const wallets = sim.dataset.wallets();
    let rows = 0;
    for (const wallet of wallets) for await (const page of source.walletTrades(wallet)) rows += page.length;
    expect(rows).toBe(wallets.reduce((sum, wallet) => sum + sim.dataset.tradeCount(wallet), 0));
    // A refresh window: `start` a block time instead of 1.
    const whale = wallets.at(-1)!;
    const fills = [...sim.dataset.fills(whale)];
    for await (const page of source.walletTrades(whale, { startSeconds: fills[1500]!.timestamp })) rows += page.length;
    expect((await source.leaderboard({ limit: 20, timePeriod: 'all', orderBy: 'VOLUME', category: 'overall' })).entries.length).toBe(20);

    // The test's own requests get real answers, not injected faults.
    sim.setFaults({});
    for (const path of [
      `/v2/leaderboard?user=${wallets[0]}&time_period=all`,
      `/v2/leaderboard?user=0x${'e'.repeat(40)}`,
      `/v2/trades?user=${whale}&limit=1001`,
      `/v2/trades?user=${whale}&offset=5`,
      `/v2/trades?user=${whale}&filter_amout=1`,
      '/v2/leaderboard?sort_by=ROI',
    ]) {
      ownUrls.add(path);
      await fetch(`${sim.url}${path}`);
    }

    const v2 = exchanges.filter((exchange) => exchange.url.startsWith('/v2/'));
    const statuses = new Set(v2.map((exchange) => exchange.status));
    for (const status of [200, 400, 429, 500, 503]) expect(statuses, `HTTP ${status} seen`).toContain(status);
    const clientRequests = v2.filter((exchange) => !ownUrls.has(exchange.url));
    expect(clientRequests.some((exchange) => exchange.url.startsWith('/v2/leaderboard'))).toBe(true);
    expect(clientRequests.flatMap((exchange) => contract.checkRequest(exchange.url))).toEqual([]);
    expect(v2.flatMap((exchange) => contract.checkResponse(exchange))).toEqual([]);
    // A request outside the declared parameters is refused with a 400 naming the parameter, never served.
    const refused = v2.filter((exchange) => contract.checkRequest(exchange.url).length > 0);
    expect(refused.map((exchange) => exchange.url).sort()).toEqual([...ownUrls].filter((url) => contract.checkRequest(url).length > 0).sort());
    for (const exchange of refused) {
      expect(exchange.status, exchange.url).toBe(400);
      expect(JSON.parse(exchange.body), exchange.url).toMatchObject({ code: 'invalid_request', retryable: false, parameter: expect.any(String) });
    }
    // The description: filter_amount "defaults to 0.01, and 0 means the same". Every walk asks below it.
    const walks = clientRequests.filter((exchange) => exchange.url.startsWith('/v2/trades'));
    for (const { url } of walks) {
      const amount = Number(new URL(url, sim.url).searchParams.get('filter_amount'));
      expect(amount > 0 && amount < 0.01, url).toBe(true);
    }
  });

  it('the global feed: every request of a feed walk (first page, cursors, a resume) declared, every simulator answer matching its schema', async () => {
    sim.setFaults({ rateLimitedWithRetryAfter: 0.12, unavailable: 0.12, serverError: 0.12 });
    const summary = sim.advance({ seconds: 86_400, fills: 100 });
    // This simulator's clock is the wall clock, a month past its data: a window of 1,200 days gives the walk pages to follow.
    sim.setGlobalFeed({ windowSeconds: sim.nowSeconds() - (summary.fromSeconds - 1_200 * 86_400) });
    const from = exchanges.length;
    const downToSeconds = summary.fromSeconds - 1_000 * 86_400;
    const pages = [];
    for await (const page of source.globalTrades({ downToSeconds })) pages.push(page);
    expect(pages.length).toBeGreaterThan(2);
    for await (const page of source.globalTrades({ downToSeconds, resumeFrom: pages[1]!.resume })) expect(page.page).toBeGreaterThan(0);
    // The shapes a product detecting a misbehaving feed meets: maker rows missing, a shorter window.
    sim.setGlobalFeed({ takerOnly: 'ignored', windowSeconds: 3_600 });
    for await (const page of source.globalTrades({ downToSeconds: summary.fromSeconds })) expect(page.rowsServed).toBeGreaterThanOrEqual(0);
    sim.setGlobalFeed({});
    sim.setFaults({});
    ownUrls.add('/v2/trades?limit=3&taker_only=true');
    await fetch(`${sim.url}/v2/trades?limit=3&taker_only=true`);

    const feed = exchanges.slice(from).filter((exchange) => exchange.url.startsWith('/v2/trades') && !exchange.url.includes('user='));
    expect(feed.filter((exchange) => exchange.status === 200 && exchange.url.includes('cursor=')).length).toBeGreaterThan(2);
    for (const status of [200, 429, 500, 503]) expect(new Set(feed.map((exchange) => exchange.status)), `HTTP ${status} seen`).toContain(status);
    expect(feed.filter((exchange) => !ownUrls.has(exchange.url)).flatMap((exchange) => contract.checkRequest(exchange.url))).toEqual([]);
    expect(feed.flatMap((exchange) => contract.checkResponse(exchange))).toEqual([]);
    for (const { url } of feed.filter((exchange) => !ownUrls.has(exchange.url))) {
      expect(new URL(url, sim.url).searchParams.get('taker_only'), url).toBe('false');
    }
  });

  it('the activity, combo activity and resolutions routes: every client request declared, every simulator response matching its schema', async () => {
    sim.setFaults({ rateLimitedWithRetryAfter: 0.12, unavailable: 0.12, serverError: 0.12 });
    const from = exchanges.length;
    const http = new HttpClient({ rateLimiter: new RateLimiter(DEFAULT_RATE_LIMITS), timeoutMs: 10_000, maxAttempts: 30, maxInFlight: 4, sleep: noSleep });
    try {
      const held = new Set<string>();
      for (const wallet of sim.dataset.wallets().slice(0, 8)) {
        for await (const page of walletActivityPages(http, sim.url, wallet)) for (const row of page) if (row.condition_id) held.add(row.condition_id);
        for await (const page of walletComboActivityPages(http, sim.url, wallet)) expect(Array.isArray(page)).toBe(true);
        for (const id of sim.dataset.conditionIds(wallet).resolvable) held.add(id);
      }
      await lookupResolutions(http, sim.url, [...held]);
    } finally {
      await http.close();
    }
    const v2 = exchanges.slice(from).filter((exchange) => exchange.url.startsWith('/v2/'));
    for (const route of ['/v2/activity?', '/v2/activity/combos?', '/v2/resolutions?']) {
      expect(v2.some((exchange) => exchange.url.startsWith(route) && exchange.status === 200), route).toBe(true);
    }
    expect(v2.flatMap((exchange) => contract.checkRequest(exchange.url))).toEqual([]);
    expect(v2.flatMap((exchange) => contract.checkResponse(exchange))).toEqual([]);
  });

  it('the positions and user-PnL routes: every client request declared, every simulator response matching its schema', async () => {
    sim.setFaults({ rateLimitedWithRetryAfter: 0.12, unavailable: 0.12, serverError: 0.12 });
    const from = exchanges.length;
    const http = new HttpClient({ rateLimiter: new RateLimiter({ ...DEFAULT_RATE_LIMITS, ...PNL_CHECK_RATE_LIMITS }), timeoutMs: 10_000, maxAttempts: 30, maxInFlight: 4, sleep: noSleep });
    const wallets = sim.dataset.wallets();
    const whale = wallets.at(-1)!;
    let closed = 0;
    try {
      for (const wallet of [...wallets.slice(0, 6), whale]) {
        closed += (await walletClosedPositions(http, sim.url, wallet)).length;
        await latestUserPnl(http, sim.url, wallet);
      }
    } finally {
      await http.close();
    }
    expect(closed).toBeGreaterThan(0);
    const clientRequests = exchanges.slice(from).filter((exchange) => exchange.url.startsWith('/v2/'));
    for (const route of ['/v2/positions?', '/v2/user-pnl?']) {
      expect(clientRequests.some((exchange) => exchange.url.startsWith(route) && exchange.status === 200), route).toBe(true);
    }
    expect(clientRequests.flatMap((exchange) => contract.checkRequest(exchange.url))).toEqual([]);

    // Every status, sort, a walk over pages, the other windows, and the 400s, answered without injected faults.
    sim.setFaults({});
    const own = exchanges.length;
    const paths: string[] = [`/v2/user-pnl?user=0x${'e'.repeat(40)}&interval=all`, '/v2/user-pnl?interval=all', `/v2/user-pnl?user=${whale}&interval=5y`];
    for (const status of ['OPEN', 'REDEEMABLE', 'REDEEMABLE_LOST', 'MERGEABLE', 'CLOSED']) {
      for (const sort of ['CURRENT_VALUE', 'PRICE', 'TOKENS', 'UNREALIZED_PNL', 'REALIZED_PNL', 'TOTAL_PNL', 'TIMESTAMP']) {
        paths.push(`/v2/positions?user=${whale}&status=${status}&sort_by=${sort}&sort_direction=ASC&limit=5`);
      }
    }
    for (const interval of ['max', '1m', '1w', '1d', '12h', '6h']) paths.push(`/v2/user-pnl?user=${whale}&interval=${interval}&fidelity=3h`);
    paths.push(`/v2/positions?user=${whale}&status=CLOSED&include_archived=true`, `/v2/positions?user=${whale}&offset=5`, '/v2/positions', `/v2/positions?user=${whale}&status=NOPE`);
    for (const path of paths) await fetch(`${sim.url}${path}`);
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? 'limit=7' : `cursor=${cursor}&status=OPEN`;
      const body = (await (await fetch(`${sim.url}/v2/positions?user=${whale}&${query}`)).json()) as { pagination: { next_cursor: string | null } };
      cursor = body.pagination.next_cursor;
      pages += 1;
    } while (cursor !== null && pages < 50);
    expect(pages).toBeGreaterThan(1);
    const contradicted = await fetch(`${sim.url}/v2/positions?user=${whale}&limit=7&status=OPEN`)
      .then(async (response) => ((await response.json()) as { pagination: { next_cursor: string } }).pagination.next_cursor)
      .then((next) => fetch(`${sim.url}/v2/positions?user=${whale}&cursor=${next}&status=CLOSED`));
    expect(contradicted.status).toBe(400);

    const v2 = exchanges.slice(from).filter((exchange) => exchange.url.startsWith('/v2/'));
    expect(new Set(exchanges.slice(own).map((exchange) => exchange.status))).toEqual(new Set([200, 400]));
    expect(v2.flatMap((exchange) => contract.checkResponse(exchange))).toEqual([]);
  });
});
