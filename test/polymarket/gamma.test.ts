import { afterEach, describe, expect, it } from 'vitest';
import { normalizeEvent } from '../../src/polymarket/event-rows.js';
import {
  GAMMA_EVENTS_MAX_BATCH,
  UNRESOLVED_BAD_EVENT_ID,
  UNRESOLVED_COMBO,
  UNRESOLVED_UNKNOWN,
} from '../../src/polymarket/gamma-api.js';
import { toIsoTimestamp } from '../../src/polymarket/gamma-values.js';
import { UnexpectedResponseError } from '../../src/polymarket/http-errors.js';
import { normalizeMarket } from '../../src/polymarket/market-rows.js';
import { createPolymarketSource } from '../../src/polymarket/polymarket-source.js';
import type { PolymarketSource } from '../../src/polymarket/source.js';
import { FAST_LIMITS, fixture, recordingSleep, sendJson, startServer, type TestServer } from './helpers.js';

type Obj = Record<string, unknown>;

const btc = fixture<Obj>('gamma-market-btc-15m-open.json');
const negRisk = fixture<Obj>('gamma-market-neg-risk.json');
const FETCHED_AT = '2026-10-01T00:00:00.000Z';
const now = () => new Date(FETCHED_AT);

const cid = (n: number): string => `0x${n.toString(16).padStart(64, '0')}`;
const COMBO = `0x${'ab'.repeat(31)}`;

/** Known markets: even ids closed (resolved to "Up" or "Down"), odd ids open. */
function market(n: number): Obj {
  const closed = n % 2 === 0;
  return {
    ...btc,
    id: String(1_000_000 + n),
    conditionId: cid(n),
    closed,
    active: !closed,
    outcomePrices: closed ? (n % 4 === 0 ? '["1", "0"]' : '["0", "1"]') : '["0.585", "0.415"]',
    events: [{ id: String(500 + (n % 3)), slug: `event-${n % 3}` }],
  };
}

type Listings = 'both' | 'legacy';

/**
 * A Gamma double with Gamma's traps: an omitted `closed` means closed=false, the default page is 20,
 * over 100 condition ids is a 414, combo ids are a 400, and `include_markets=false` drops events' markets. `/markets` and `/events` answer bare arrays;
 * `/markets/keyset` and `/events/keyset` (unless `listings` is `legacy`, where they are 404) answer
 * `{ markets | events, next_cursor? }` with `next_cursor` only on a full page.
 */
async function gamma(
  markets: Obj[],
  events: Obj[] = [],
  options: { ignoreFilters?: boolean; listings?: Listings } = {},
): Promise<TestServer> {
  return startServer((_req, res, _index, seen) => {
    const closedParam = seen.query.get('closed');
    const wantClosed = closedParam === 'true';
    const keyset = seen.path.endsWith('/keyset');
    if (keyset && options.listings === 'legacy') return sendJson(res, 404, { error: 'not found' });
    const limit = Number(seen.query.get('limit') ?? 20);
    const kind = seen.path.replace(/\/keyset$/, '');
    let rows: Obj[];
    if (kind === '/markets') {
      const ids = seen.query.getAll('condition_ids');
      if (ids.length > 100) return sendJson(res, 414, { error: 'URI too long' });
      if (ids.some((id) => !/^0x[0-9a-f]{64}$/.test(id))) return sendJson(res, 400, { error: 'invalid condition id' });
      rows = markets.filter((m) => options.ignoreFilters || (ids.includes(m.conditionId as string) && m.closed === wantClosed));
    } else if (kind === '/events') {
      const ids = seen.query.getAll('id');
      rows = events.filter((e) => ids.includes(e.id as string) && e.closed === wantClosed);
      // Omitted is true; `include_markets=false` removes the key rather than sending [] (gamma-OBSERVED.md).
      if (seen.query.get('include_markets') === 'false') rows = rows.map(({ markets: _markets, ...rest }) => rest);
    } else {
      return sendJson(res, 404, { error: 'not found' });
    }
    if (!keyset) return sendJson(res, 200, options.ignoreFilters ? rows : rows.slice(0, limit));
    const after = Number(seen.query.get('after_cursor') ?? 0);
    const page = rows.slice(after, after + Math.min(limit, 100));
    const body: Obj = { [kind.slice(1)]: page };
    if (page.length === Math.min(limit, 100)) body.next_cursor = String(after + page.length);
    return sendJson(res, 200, body);
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

/** Warnings a source logged, message and fields. */
const warnings: { obj: object; msg: string | undefined }[] = [];

function makeSource(url: string): PolymarketSource {
  warnings.length = 0;
  source = createPolymarketSource({
    dataApiUrl: url,
    gammaApiUrl: url,
    rateLimits: FAST_LIMITS,
    maxAttempts: 2,
    sleep: recordingSleep().sleep,
    now,
    logger: { debug: () => undefined, info: () => undefined, warn: (obj, msg) => warnings.push({ obj, msg }) },
  });
  return source;
}

describe('markets lookup', () => {
  it.each<[Listings, string, number]>([
    ['both', '/markets/keyset', 0],
    ['legacy', '/markets', 1],
  ])('with %s listings, asks %s closed=true and closed=false for every batch of at most 50 repeated condition_ids, never sends combo ids, and reports unknown ids', async (listings, path, probes) => {
    const known = Array.from({ length: 120 }, (_, i) => market(i + 1));
    server = await gamma(known, [], { listings });
    const unknown = [cid(9001), cid(9002), cid(9003)];
    const input = [
      ...known.map((m) => m.conditionId as string),
      cid(7).toUpperCase().replace('0X', '0x'), // a duplicate in another case
      ...unknown,
      COMBO,
      '0x1234',
    ];
    const lookup = await makeSource(server.url).markets(input);

    expect(lookup.markets).toHaveLength(120);
    expect(new Set(lookup.markets.map((m) => m.condition_id)).size).toBe(120);
    expect(lookup.unresolved).toEqual([
      { id: COMBO, reason: UNRESOLVED_COMBO },
      { id: '0x1234', reason: UNRESOLVED_COMBO },
      ...unknown.map((id) => ({ id, reason: UNRESOLVED_UNKNOWN })),
    ]);

    // 123 valid ids -> batches of 50, 50, 23, each asked twice; a legacy-only Gamma costs one keyset probe.
    expect(server.requests).toHaveLength(6 + probes);
    expect(server.requests.filter((r) => r.path === '/markets/keyset' && path === '/markets')).toHaveLength(probes);
    const byBatch = new Map<string, string[]>();
    for (const request of server.requests.filter((r) => r.path === path)) {
      const ids = request.query.getAll('condition_ids');
      expect(ids.length).toBeLessThanOrEqual(50);
      expect(ids).not.toContain(COMBO);
      expect(request.url).toMatch(/condition_ids=0x[0-9a-f]{64}&condition_ids=0x/);
      expect(Number(request.query.get('limit'))).toBeGreaterThanOrEqual(ids.length);
      const key = ids.join(',');
      byBatch.set(key, [...(byBatch.get(key) ?? []), request.query.get('closed') ?? 'omitted']);
    }
    expect([...byBatch.values()].map((closed) => closed.sort())).toEqual([
      ['false', 'true'],
      ['false', 'true'],
      ['false', 'true'],
    ]);
    expect([...byBatch.keys()].map((key) => key.split(',').length).sort((a, b) => b - a)).toEqual([50, 50, 23]);
    expect(source?.stats().requests).toEqual({ 'gamma:markets': 6 + probes });
  });

  it('records winning label and token of closed markets and leaves open ones without', async () => {
    server = await gamma([market(4), market(6), market(5)]);
    const lookup = await makeSource(server.url).markets([cid(4), cid(6), cid(5)]);
    const byId = new Map(lookup.markets.map((m) => [m.condition_id, m]));
    expect(byId.get(cid(4))).toMatchObject({
      status: 'closed',
      winning_label: 'Up',
      winning_token_id: '8851848546962572193739008211889046036776198486765606333032192644001246174440',
    });
    expect(byId.get(cid(6))).toMatchObject({
      status: 'closed',
      winning_label: 'Down',
      winning_token_id: '10181859819235412241349111952383458602722012323104397550162049365057126390549',
    });
    expect(byId.get(cid(5))).toMatchObject({ status: 'open', winning_label: null, winning_token_id: null });
  });

  it('ignores markets Gamma returns that were not asked for (an ignored filter serves an unfiltered page)', async () => {
    server = await gamma([market(1), market(2), market(3)], [], { ignoreFilters: true });
    const lookup = await makeSource(server.url).markets([cid(2)]);
    expect(lookup.markets.map((m) => m.condition_id)).toEqual([cid(2)]);
  });

  it('sends nothing for an empty or all-combo list', async () => {
    server = await gamma([]);
    const gammaSource = makeSource(server.url);
    expect(await gammaSource.markets([])).toEqual({ markets: [], unresolved: [] });
    expect((await gammaSource.markets([COMBO])).unresolved).toEqual([{ id: COMBO, reason: UNRESOLVED_COMBO }]);
    expect(server.requests).toHaveLength(0);
  });

  it('fails with a clear error naming both listings when keyset is missing and legacy answers something other than an array', async () => {
    server = await startServer((_req, res, _index, seen) =>
      seen.path.endsWith('/keyset') ? sendJson(res, 404, { error: 'not found' }) : sendJson(res, 200, { markets: [] }),
    );
    const gammaSource = makeSource(server.url);
    await expect(gammaSource.markets([cid(1)])).rejects.toThrow(UnexpectedResponseError);
    await expect(gammaSource.markets([cid(1)])).rejects.toThrow(
      /\/markets\/keyset answered HTTP 404, and \/markets answered GET .* returned a JSON object, not the bare array/,
    );
  });

  it('fails with a clear error when the keyset listing answers something other than its documented page', async () => {
    server = await startServer((_req, res) => sendJson(res, 200, { data: [] }));
    await expect(makeSource(server.url).markets([cid(1)])).rejects.toThrow(
      /returned an object with keys data, not the keyset page \{ markets: \[\.\.\.\], next_cursor\? \}/,
    );
  });
});

describe('normalizeMarket on real Gamma bodies', () => {
  it('normalises the full BTC 15-minute market (open): string-encoded arrays parsed, string numbers as numbers', () => {
    const record = normalizeMarket(btc, FETCHED_AT);
    expect(record).toEqual({
      condition_id: '0x2e6af11e4b853b05ba7135239b21d77e808889b6ce1e735de856c94c4e5b5fce',
      market_id: '1066851',
      question: 'Bitcoin Up or Down - December 31, 12:00PM-12:15PM ET',
      slug: 'btc-updown-15m-1767200400',
      status: 'open',
      active: true,
      closed: false,
      outcomes: '["Up","Down"]',
      outcome_prices: '["0.585","0.415"]',
      clob_token_ids:
        '["8851848546962572193739008211889046036776198486765606333032192644001246174440","10181859819235412241349111952383458602722012323104397550162049365057126390549"]',
      winning_label: null,
      winning_token_id: null,
      start_date: '2025-12-30T17:10:15.861Z',
      end_date: '2025-12-31T17:15:00.000Z',
      closed_time: null,
      volume: 92509.470055,
      liquidity: 20579.7452,
      neg_risk: false,
      neg_risk_market_id: null,
      event_ids: '[]',
      event_slug: null,
      tags: null,
      raw: JSON.stringify(btc),
      fetched_at: FETCHED_AT,
    });
  });

  it('normalises the neg-risk market with its nested parent event', () => {
    const record = normalizeMarket(negRisk, FETCHED_AT);
    expect(record).toMatchObject({
      condition_id: '0xb6d6f15a1b5d08753653f1867ccd6126badfbe182a75159a330dc7b15336b309',
      market_id: '2063135',
      neg_risk: true,
      neg_risk_market_id: '0x55ab76d092f682bf5cbb7e14f13ee12f8410ce7cc1b7906f23b8fb56c11f6500',
      event_ids: '["411239"]',
      event_slug: 'next-prime-minister-of-ethiopia',
      clob_token_ids: '["111","222"]',
      status: 'open',
      volume: null,
      liquidity: null,
      end_date: '2026-12-31T12:00:00.000Z',
    });
  });

  it('finds the winning outcome of a closed market from the price that parses to 1, else null', () => {
    const closed = (prices: unknown) => normalizeMarket({ ...btc, closed: true, outcomePrices: prices }, FETCHED_AT);
    expect(closed('["0", "1"]')).toMatchObject({ status: 'closed', winning_label: 'Down' });
    expect(closed('["1.0", "0.0"]').winning_label).toBe('Up');
    expect(closed(['1', '0']).winning_label).toBe('Up');
    expect(closed('["0.5", "0.5"]').winning_label).toBeNull();
    expect(closed('["1", "1"]').winning_label).toBeNull();
    expect(closed('not json').winning_label).toBeNull();
    expect(normalizeMarket({ ...btc, closed: false, outcomePrices: '["1", "0"]' }, FETCHED_AT).winning_label).toBeNull();
  });

  it('parses arrays defensively: real arrays accepted, garbage becomes null, never a crash', () => {
    const odd = normalizeMarket(
      { ...btc, outcomes: ['Yes', 'No'], outcomePrices: '{"not":"an array"}', clobTokenIds: 42, volume: 'n/a', liquidity: 12.5 },
      FETCHED_AT,
    );
    expect(odd.outcomes).toBe('["Yes","No"]');
    expect(odd.outcome_prices).toBeNull();
    expect(odd.clob_token_ids).toBeNull();
    expect(odd.volume).toBe(92509.470055); // falls back to volumeNum
    expect(odd.liquidity).toBe(12.5);
    expect(() => normalizeMarket({ conditionId: cid(1), events: 'x', tags: {}, closed: 'yes' }, FETCHED_AT)).not.toThrow();
    expect(normalizeMarket({ conditionId: cid(1) }, FETCHED_AT)).toMatchObject({ market_id: '', status: 'open', event_ids: '[]' });
  });

  it('normalises Gamma date formats to ISO UTC (closedTime uses a space and +00)', () => {
    expect(normalizeMarket({ ...btc, closedTime: '2026-09-28 17:46:27+00' }, FETCHED_AT).closed_time).toBe(
      '2026-09-28T17:46:27.000Z',
    );
    expect(toIsoTimestamp('2025-12-31')).toBe('2025-12-31T00:00:00.000Z');
    expect(toIsoTimestamp('2026-09-28T17:46:27')).toBe('2026-09-28T17:46:27.000Z');
    expect(toIsoTimestamp('soon')).toBeNull();
    expect(toIsoTimestamp(1767200400)).toBeNull();
  });

  it('keeps tags as JSON text when Gamma includes them', () => {
    const tags = [{ id: '1', label: 'Crypto', slug: 'crypto' }];
    expect(normalizeMarket({ ...btc, tags }, FETCHED_AT).tags).toBe(JSON.stringify(tags));
  });
});

describe('events lookup', () => {
  const event = (id: number, closed: boolean): Obj => ({
    id: String(id),
    ticker: `t-${id}`,
    slug: `event-${id}`,
    title: `Event ${id}`,
    category: 'Politics',
    active: !closed,
    closed,
    negRisk: true,
    enableNegRisk: true,
    negRiskMarketID: '0x55ab76d092f682bf5cbb7e14f13ee12f8410ce7cc1b7906f23b8fb56c11f6500',
    startDate: '2026-01-01T00:00:00Z',
    endDate: '2026-12-31T12:00:00Z',
    volume: 1234.5,
    liquidity: '99.5',
    tags: [{ id: '2', label: 'Politics' }],
    markets: [negRisk],
  });

  it('looks up numeric ids in batches of at most 20 (events come with their markets) with closed=true and closed=false on /events/keyset, include_markets=true; malformed and unknown ids are unresolved', async () => {
    const events = Array.from({ length: 60 }, (_, i) => event(1000 + i, i % 2 === 0));
    server = await gamma([], events);
    const ids = [...events.map((e) => e.id as string), '1000', '999999', 'next-pm-ethiopia', ''];
    const lookup = await makeSource(server.url).events(ids);
    expect(lookup.events).toHaveLength(60);
    expect(lookup.unresolved).toEqual([
      { id: 'next-pm-ethiopia', reason: UNRESOLVED_BAD_EVENT_ID },
      { id: '', reason: UNRESOLVED_BAD_EVENT_ID },
      { id: '999999', reason: UNRESOLVED_UNKNOWN },
    ]);
    // 61 ids asked: 20 + 20 + 20 + 1, each batch twice.
    expect(server.requests).toHaveLength(8);
    for (const request of server.requests) {
      expect(request.path).toBe('/events/keyset');
      expect(request.query.getAll('id').length).toBeLessThanOrEqual(GAMMA_EVENTS_MAX_BATCH);
      expect(Number(request.query.get('limit'))).toBeGreaterThanOrEqual(request.query.getAll('id').length);
      expect(request.query.get('include_markets')).toBe('true');
      expect(['true', 'false']).toContain(request.query.get('closed'));
    }
    expect(server.requests.map((r) => r.query.get('closed')).sort()).toEqual([...Array(4).fill('false'), ...Array(4).fill('true')]);
    expect(source?.stats().requests).toEqual({ 'gamma:events': 8 });
    for (const record of lookup.events) {
      expect(record.market_ids).toBe(JSON.stringify([negRisk.conditionId]));
      expect(JSON.parse(record.raw)).not.toHaveProperty('markets');
    }
  });

  it('asks the legacy /events with include_markets=true too, and records the members each event lists in market_ids (lower case, once each), raw keeping none of them', async () => {
    const members = [cid(0xa1), cid(0xa2).toUpperCase().replace('0X', '0x'), cid(0xa3)];
    const withMembers = { ...event(7, false), markets: [...members.map((conditionId) => ({ ...negRisk, conditionId })), { ...negRisk, conditionId: cid(0xa1) }] };
    server = await gamma([], [withMembers, event(8, true)], { listings: 'legacy' });
    const lookup = await makeSource(server.url).events(['7', '8']);
    const legacy = server.requests.filter((r) => r.path === '/events');
    expect(legacy).toHaveLength(2);
    for (const request of legacy) expect(request.query.get('include_markets')).toBe('true');
    const byId = new Map(lookup.events.map((e) => [e.event_id, e]));
    expect(JSON.parse(byId.get('7')!.market_ids!)).toEqual([cid(0xa1), cid(0xa2), cid(0xa3)]);
    expect(JSON.parse(byId.get('8')!.market_ids!)).toEqual([negRisk.conditionId]);
    for (const record of lookup.events) expect(JSON.parse(record.raw)).not.toHaveProperty('markets');
    expect(warnings).toEqual([expect.objectContaining({ msg: expect.stringContaining('/events') })]);
  });

  it('an event nesting a market whose conditionId is malformed keeps its other members and says which one it left out; markets that are not an array record none; no crash', async () => {
    const bad = { ...event(9, false), markets: [negRisk, { ...negRisk, conditionId: '0x1234' }, { ...negRisk, conditionId: null }, 'not a market'] };
    const odd = { ...event(10, false), markets: { conditionId: 'x' } };
    server = await gamma([], [bad, odd]);
    const lookup = await makeSource(server.url).events(['9', '10']);
    const byId = new Map(lookup.events.map((e) => [e.event_id, e]));
    expect(byId.get('9')!.market_ids).toBe(JSON.stringify([negRisk.conditionId]));
    expect(byId.get('10')!.market_ids).toBeNull();
    const messages = warnings.map((w) => w.msg ?? '');
    expect(messages).toEqual([
      expect.stringMatching(/^Gamma event 9 nests a market \(index 1\) whose conditionId "0x1234" is not 0x \+ 64 hex; left out/),
      expect.stringMatching(/^Gamma event 9 nests a market \(index 2\) whose conditionId null is not 0x \+ 64 hex/),
      expect.stringMatching(/^Gamma event 9 nests a market \(index 3\) whose conditionId undefined is not 0x \+ 64 hex/),
      'Gamma event 10 has `markets` {"conditionId":"x"}, not an array of markets; its members are not recorded (a neg-risk event is asked again at the end of a later run)',
    ]);
    expect(warnings[0]!.obj).toMatchObject({ eventId: '9', index: 1, conditionId: '"0x1234"' });
  });

  it('normalises an event: numbers from strings, neg-risk fields, tags JSON, and raw without the nested markets', () => {
    const record = normalizeEvent(event(411239, false), FETCHED_AT);
    expect(record).toMatchObject({
      event_id: '411239',
      slug: 'event-411239',
      title: 'Event 411239',
      ticker: 't-411239',
      category: 'Politics',
      active: true,
      closed: false,
      neg_risk: true,
      enable_neg_risk: true,
      neg_risk_market_id: '0x55ab76d092f682bf5cbb7e14f13ee12f8410ce7cc1b7906f23b8fb56c11f6500',
      start_date: '2026-01-01T00:00:00.000Z',
      volume: 1234.5,
      liquidity: 99.5,
      tags: '[{"id":"2","label":"Politics"}]',
      fetched_at: FETCHED_AT,
    });
    const raw = JSON.parse(record.raw) as Obj;
    expect(raw).not.toHaveProperty('markets');
    expect(raw.id).toBe('411239');
    expect(record.market_ids).toBe(JSON.stringify([negRisk.conditionId]));
    // Fetched without its markets, an event says nothing of its members: NULL, not an empty list.
    const { markets: _markets, ...without } = event(411239, false);
    expect(normalizeEvent(without, FETCHED_AT).market_ids).toBeNull();
    expect(normalizeEvent({ ...without, markets: [] }, FETCHED_AT).market_ids).toBe('[]');
  });

  it('normalises the slim parent event nested in the real neg-risk market', () => {
    const parent = (negRisk.events as Obj[])[0];
    expect(normalizeEvent(parent, FETCHED_AT)).toMatchObject({
      event_id: '411239',
      slug: 'next-prime-minister-of-ethiopia',
      ticker: 'next-pm-ethiopia',
      neg_risk: true,
      category: null,
      volume: null,
      tags: null,
    });
  });
});
