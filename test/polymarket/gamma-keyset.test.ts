import { afterEach, describe, expect, it } from 'vitest';
import { UNRESOLVED_COMBO, UNRESOLVED_UNKNOWN } from '../../src/polymarket/gamma-api.js';
import { PaginationError } from '../../src/polymarket/http-errors.js';
import { PagingStalledError } from '../../src/polymarket/page-guard.js';
import { createPolymarketSource } from '../../src/polymarket/polymarket-source.js';
import type { PolymarketSource } from '../../src/polymarket/source.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { GammaPaging, RunningSimulator } from '../../src/simulator/index.js';
import { FAST_LIMITS, fixture, recordingSleep, sendJson, startServer, type TestServer } from './helpers.js';

type Obj = Record<string, unknown>;

const FETCHED_AT = '2026-11-01T00:00:00.000Z';
/** Enough wallets that their markets fill three Gamma batches (101 to 150 ids). */
const SIM = { seed: 7, wallets: 200, maxTradesPerWallet: 300, whales: [6_000], nowSeconds: Date.UTC(2026, 10, 29) / 1000 };
const cid = (n: number): string => `0x${n.toString(16).padStart(64, '0')}`;

interface LogLine {
  level: 'info' | 'warn';
  obj: object;
  msg: string | undefined;
}

function recordingLogger(): { lines: LogLine[]; logger: { debug(): void; info(o: object, m?: string): void; warn(o: object, m?: string): void } } {
  const lines: LogLine[] = [];
  return {
    lines,
    logger: {
      debug: () => undefined,
      info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
      warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    },
  };
}

let sim: RunningSimulator | undefined;
let server: TestServer | undefined;
const sources: PolymarketSource[] = [];

afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.close()));
  await sim?.close();
  await server?.close();
  sim = undefined;
  server = undefined;
});

function makeSource(url: string, extra: Partial<Parameters<typeof createPolymarketSource>[0]> = {}): PolymarketSource {
  const source = createPolymarketSource({
    dataApiUrl: url,
    gammaApiUrl: url,
    rateLimits: FAST_LIMITS,
    maxAttempts: 2,
    sleep: recordingSleep().sleep,
    now: () => new Date(FETCHED_AT),
    ...extra,
  });
  sources.push(source);
  return source;
}

/** 120 markets the wallets touch and their events, plus ids Gamma cannot resolve: three batches of markets. */
function lookupIds(running: RunningSimulator): { conditionIds: string[]; eventIds: string[] } {
  const wallets = running.dataset.wallets();
  const resolvable = [...new Set(wallets.flatMap((w) => running.dataset.conditionIds(w).resolvable))].sort().slice(0, 120);
  const unresolvable = running.dataset.conditionIds(running.dataset.walletAddress(SIM.wallets)).unresolvable;
  expect(resolvable).toHaveLength(120);
  const conditionIds = [...resolvable, ...unresolvable, cid(9_999)];
  const eventIds = [...new Set(resolvable.flatMap((id) => running.dataset.eventIdsOfMarket(id))), '999999999'];
  return { conditionIds, eventIds };
}

describe('Gamma look-ups over keyset and legacy listings', () => {
  it('give identical results from a keyset-only, a legacy-only and a both-listings simulator', async () => {
    const results: unknown[] = [];
    const pagings: unknown[] = [];
    for (const gamma of ['both', 'keyset', 'legacy'] as GammaPaging[]) {
      sim = await startSimulator({ ...SIM, gamma });
      const { conditionIds, eventIds } = lookupIds(sim);
      const source = makeSource(sim.url);
      const markets = await source.markets(conditionIds);
      const events = await source.events(eventIds);
      expect(markets.markets.length).toBeGreaterThan(100);
      expect(markets.unresolved).toContainEqual({ id: cid(9_999), reason: UNRESOLVED_UNKNOWN });
      expect(markets.unresolved.some((u) => u.reason === UNRESOLVED_COMBO)).toBe(true);
      expect(events.unresolved).toEqual([{ id: '999999999', reason: UNRESOLVED_UNKNOWN }]);
      // Events are asked with their markets on either listing (the simulator drops them on include_markets=false):
      // each lists its members, raw keeps none of them.
      for (const event of events.events) {
        const members = (sim.dataset.event(event.event_id) as { markets: { conditionId: string }[] }).markets.map((m) => m.conditionId.toLowerCase());
        expect(JSON.parse(event.market_ids ?? 'null'), event.event_id).toEqual(members);
        expect(JSON.parse(event.raw), event.event_id).not.toHaveProperty('markets');
      }
      expect(events.events.some((e) => e.neg_risk && JSON.parse(e.market_ids!).length > 1)).toBe(true);
      results.push({ markets, events });
      pagings.push(source.stats().gammaPaging);
      await sim.close();
      sim = undefined;
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
    expect(pagings).toEqual([
      { markets: 'keyset', events: 'keyset' },
      { markets: 'keyset', events: 'keyset' },
      { markets: 'legacy', events: 'legacy' },
    ]);
  });

  it('falls back from keyset to legacy once per source, remembers it for later look-ups, and logs it once', async () => {
    sim = await startSimulator({ ...SIM, gamma: 'legacy' });
    const { conditionIds } = lookupIds(sim);
    const { lines, logger } = recordingLogger();
    const source = makeSource(sim.url, { logger });
    await source.markets(conditionIds);
    // 3 batches x closed=true/false, concurrently; the first request probes alone, so one 404 only.
    expect(sim.stats().requestsByPath).toEqual({ '/markets/keyset': 1, '/markets': 6 });
    await source.markets(conditionIds.slice(0, 10));
    expect(sim.stats().requestsByPath).toEqual({ '/markets/keyset': 1, '/markets': 8 });
    expect(lines.filter((l) => l.level === 'warn')).toEqual([
      {
        level: 'warn',
        obj: { kind: 'markets', from: '/markets/keyset', to: '/markets', reason: 'HTTP 404' },
        msg: 'Gamma /markets/keyset is not available (HTTP 404); using /markets for the rest of the run',
      },
    ]);
    expect(lines.filter((l) => l.level === 'info').map((l) => l.msg)).toEqual(['Gamma markets look-ups use /markets']);
    // Another source starts over: the choice is per source instance.
    await makeSource(sim.url).markets(conditionIds.slice(0, 1));
    expect(sim.stats().requestsByPath['/markets/keyset']).toBe(2);
  });

  it('goes back to keyset when the legacy listing it fell back to is retired mid-run (410)', async () => {
    sim = await startSimulator({ ...SIM, gamma: 'legacy' });
    const { conditionIds } = lookupIds(sim);
    const { lines, logger } = recordingLogger();
    const source = makeSource(sim.url, { logger });
    const before = await source.markets(conditionIds);
    sim.setGamma('keyset');
    sim.resetStats();
    const after = await source.markets(conditionIds);
    expect(after).toEqual(before);
    expect(source.stats().gammaPaging).toEqual({ markets: 'keyset' });
    // Requests already sent to the remembered legacy listing each meet the 410 once; later ones go to keyset only.
    expect(sim.stats().requestsByPath['/markets/keyset']).toBe(6);
    sim.resetStats();
    await source.markets(conditionIds);
    expect(sim.stats().requestsByPath).toEqual({ '/markets/keyset': 6 });
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([
      'Gamma /markets/keyset is not available (HTTP 404); using /markets for the rest of the run',
      'Gamma /markets is not available (HTTP 410); using /markets/keyset for the rest of the run',
    ]);
  });

  it('falls back on 503 "keyset pagination is not configured" after the client retries, but not on a plain 503', async () => {
    const market = fixture<Obj>('gamma-market-btc-15m-open.json');
    const id = market.conditionId as string;
    let plain503 = false;
    server = await startServer((_req, res, _index, seen) => {
      if (seen.path === '/markets/keyset') {
        const error = plain503 ? 'upstream unavailable' : 'keyset pagination is not configured';
        return sendJson(res, 503, { type: 'server error', error });
      }
      return sendJson(res, 200, seen.query.get('closed') === 'false' ? [market] : []);
    });
    const lookup = await makeSource(server.url).markets([id]);
    expect(lookup.markets.map((m) => m.condition_id)).toEqual([id]);
    // maxAttempts 2: the probe is retried once, then the legacy pair answers.
    expect(server.requests.map((r) => r.path)).toEqual(['/markets/keyset', '/markets/keyset', '/markets', '/markets']);

    plain503 = true;
    await expect(makeSource(server.url).markets([id])).rejects.toThrow(/HTTP 503.*upstream unavailable/);
  });

  it('follows next_cursor across several keyset pages, short pages included, and only stops when it is absent', async () => {
    const markets = Array.from({ length: 7 }, (_, i) => ({ ...fixture<Obj>('gamma-market-btc-15m-open.json'), id: String(i), conditionId: cid(i + 1), closed: true }));
    // Pages of 3, then a short page of 1 that still carries a cursor, then the rest without one.
    const pages = [[0, 1, 2], [3], [4, 5, 6]];
    server = await startServer((_req, res, _index, seen) => {
      if (seen.query.get('closed') === 'false') return sendJson(res, 200, { markets: [] });
      const page = Number(seen.query.get('after_cursor') ?? 0);
      const body: Obj = { markets: (pages[page] ?? []).map((i) => markets[i]) };
      if (page < pages.length - 1) body.next_cursor = String(page + 1);
      return sendJson(res, 200, body);
    });
    const lookup = await makeSource(server.url).markets(markets.map((m) => m.conditionId as string));
    expect(lookup.markets.map((m) => m.condition_id)).toEqual(markets.map((m) => m.conditionId));
    expect(lookup.unresolved).toEqual([]);
    const closedPages = server.requests.filter((r) => r.query.get('closed') === 'true');
    expect(closedPages.map((r) => r.query.get('after_cursor'))).toEqual([null, '1', '2']);
    for (const request of server.requests) {
      expect(request.query.getAll('condition_ids')).toHaveLength(7);
      expect(request.query.has('offset')).toBe(false);
    }
  });

  it('fails with a PaginationError when a keyset walk hands back a cursor it already gave', async () => {
    server = await startServer((_req, res) => sendJson(res, 200, { markets: [], next_cursor: 'same' }));
    await expect(makeSource(server.url).markets([cid(1)])).rejects.toThrow(PaginationError);
  });

  // Each of these hung before the walk had a no-progress limit (2,604 requests in 90 s against a hostile Gamma);
  // the timeout makes such a hang a failure instead of a stuck suite.
  it('fails a keyset walk of empty pages that hand out a fresh cursor every time, after 3 of them, naming the request, the pages and what it saw', { timeout: 10_000 }, async () => {
    let minted = 0;
    server = await startServer((_req, res) => sendJson(res, 200, { markets: [], next_cursor: `fresh-${(minted += 1)}` }));
    const error = await makeSource(server.url).markets([cid(1)]).then(
      () => new Error('expected a failure'),
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(PagingStalledError);
    expect(error.message).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/markets\/keyset\?closed=true&limit=100&include_tag=true&after_cursor=\*\*\* \(1 condition_ids\) \(page 3\): 3 pages in a row added no new market yet still handed out a fresh next_cursor \(0 markets in 3 pages\)/,
    );
    expect(error.message).toContain('The Gamma markets look-up of this batch cannot finish, so the wallets waiting on it are failed rather than stored without their markets; retry later');
    // Three pages for closed=true, and at most three more for closed=false, asked beside it.
    expect(server.requests.length).toBeLessThanOrEqual(6);
  });

  it('fails a keyset walk that serves the same market again and again under fresh cursors (no new id), instead of paging 100 times', { timeout: 10_000 }, async () => {
    const market = { ...fixture<Obj>('gamma-market-btc-15m-open.json'), conditionId: cid(1), closed: true };
    let minted = 0;
    server = await startServer((_req, res) => sendJson(res, 200, { markets: [market], next_cursor: `fresh-${(minted += 1)}` }));
    const error = await makeSource(server.url).markets([cid(1)]).then(
      () => new Error('expected a failure'),
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(PagingStalledError);
    expect(error.message).toContain('(page 4): 3 pages in a row added no new market yet still handed out a fresh next_cursor (1 market in 4 pages)');
    expect(server.requests.length).toBeLessThanOrEqual(8);
  });

  it('stops a keyset walk that pages past the ids asked for (an ignored filter), keeping only the ids asked for', async () => {
    const base = fixture<Obj>('gamma-market-btc-15m-open.json');
    server = await startServer((_req, res, _index, seen) => {
      const page = Number(seen.query.get('after_cursor') ?? 0);
      const rows = Array.from({ length: 100 }, (_, i) => ({ ...base, conditionId: cid(page * 100 + i + 1), closed: false }));
      return sendJson(res, 200, { markets: rows, next_cursor: String(page + 1) });
    });
    const { lines, logger } = recordingLogger();
    const lookup = await makeSource(server.url, { logger }).markets([cid(2)]);
    expect(lookup.markets.map((m) => m.condition_id)).toEqual([cid(2)]);
    expect(server.requests.length).toBeLessThanOrEqual(4);
    expect(lines.some((l) => l.level === 'warn' && /kept paging past the ids asked for/.test(l.msg ?? ''))).toBe(true);
  });
});
