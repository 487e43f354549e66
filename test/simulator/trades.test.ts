import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { NOW, SMALL, fetchAllTrades, getJson, toGroundTruth } from './helpers.js';
import type { TradesPage } from './helpers.js';

const THREE_YEARS = 3 * 365 * 86_400;

/** Field names and order of the verbatim v2 fixture in the reference notes. */
const V2_ROW_KEYS = [
  'proxy_wallet', 'side', 'token_id', 'condition_id', 'size', 'price', 'timestamp', 'title', 'slug', 'icon',
  'event_slug', 'outcome', 'outcome_index', 'name', 'pseudonym', 'bio', 'profile_image', 'profile_image_optimized',
  'transaction_hash',
];

describe('GET /v2/trades', () => {
  let sim: RunningSimulator;
  let whale: string;
  const full = { taker_only: 'false', start: '1', limit: '1000', filter_amount: '0.000001' };

  beforeAll(async () => {
    sim = await startSimulator({ ...SMALL, nowSeconds: NOW });
    whale = sim.dataset.walletAddress(SMALL.wallets);
  });
  afterAll(async () => {
    await sim.close();
  });

  it('pages to exhaustion with taker_only=false&start=1&limit=1000 and returns exactly dataset.fills(), in order', async () => {
    for (const wallet of sim.dataset.wallets()) {
      const { rows } = await fetchAllTrades(sim, wallet, full);
      expect(rows.map(toGroundTruth)).toEqual([...sim.dataset.fills(wallet)]);
    }
  });

  it('reports pagination like v2: running offset, exact has_more, null next_cursor on the last page', async () => {
    const { pages } = await fetchAllTrades(sim, whale, full);
    expect(pages).toHaveLength(6);
    pages.forEach((page, i) => {
      expect(page.pagination.limit).toBe(1000);
      expect(page.pagination.offset).toBe(i * 1000);
      expect(page.pagination.has_more).toBe(i < 5);
      expect(page.pagination.next_cursor === null).toBe(i === 5);
    });
    const cursor = pages[0]!.pagination.next_cursor!;
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as {
      data: { type: string; params: { l: number; ts: number; sq: string; d: number } };
      sig: string;
    };
    expect(decoded.data.type).toBe('trades');
    expect(decoded.data.params).toMatchObject({ l: 1000, d: 2 });
    expect(decoded.data.params.ts).toBe(pages[0]!.data[999]!.timestamp);
    expect(typeof decoded.data.params.sq).toBe('string');
  });

  it('serves rows with exactly the v2 fields, in the fixture order, and an x-trace-id header', async () => {
    const { status, body, headers } = await getJson<TradesPage>(`${sim.url}/v2/trades?user=${whale}&limit=5`);
    expect(status).toBe(200);
    expect(headers.get('x-trace-id')).toMatch(/^[0-9a-f]+$/);
    expect(body.data).toHaveLength(5);
    for (const row of body.data) expect(Object.keys(row)).toEqual(V2_ROW_KEYS);
  });

  it('defaults taker_only to true, hiding the maker fills', async () => {
    const all = (await fetchAllTrades(sim, whale, full)).rows;
    const takerDefault = (await fetchAllTrades(sim, whale, { start: '1', limit: '1000' })).rows;
    const takerExplicit = (await fetchAllTrades(sim, whale, { takerOnly: 'true', start: '1', limit: '1000' })).rows;
    expect(takerDefault.length).toBeLessThan(all.length * 0.6);
    expect(takerDefault.length).toBeGreaterThan(0);
    expect(takerExplicit).toEqual(takerDefault);
    // The taker rows are a sub-sequence of the full history.
    let j = 0;
    for (const row of all) if (j < takerDefault.length && JSON.stringify(row) === JSON.stringify(takerDefault[j])) j += 1;
    expect(j).toBe(takerDefault.length);
  });

  it('hides fills under 0.01 shares with filter_amount omitted or 0 ("defaults to 0.01, and 0 means the same") and serves them for a positive value below', async () => {
    const fills = [...sim.dataset.fills(whale)];
    const dust = fills.filter((f) => f.size < 0.01);
    expect(dust.length).toBeGreaterThan(0);
    const filters: Record<string, string>[] = [{}, { filter_amount: '0' }, { filterAmount: '0' }];
    for (const filter of filters) {
      const { rows } = await fetchAllTrades(sim, whale, { taker_only: 'false', start: '1', limit: '1000', ...filter });
      expect(rows, JSON.stringify(filter)).toHaveLength(fills.length - dust.length);
      expect(rows.every((r) => Number(r.size) >= 0.01)).toBe(true);
    }
    const { rows } = await fetchAllTrades(sim, whale, { taker_only: 'false', start: '1', limit: '1000', filter_amount: '0.000001' });
    expect(rows.map(toGroundTruth)).toEqual(fills);
  });

  it('filters by side (BUY or SELL)', async () => {
    const fills = [...sim.dataset.fills(whale)];
    const { rows } = await fetchAllTrades(sim, whale, { ...full, side: 'SELL' });
    expect(rows.map(toGroundTruth)).toEqual(fills.filter((f) => f.side === 'SELL'));
  });

  it('without start, hides fills older than three years before now', async () => {
    const floor = NOW - THREE_YEARS;
    const fills = [...sim.dataset.fills(whale)];
    const recent = fills.filter((f) => f.timestamp >= floor);
    expect(recent.length).toBeLessThan(fills.length);
    const { rows } = await fetchAllTrades(sim, whale, { taker_only: 'false', limit: '1000', filter_amount: '0.000001' });
    expect(rows.map(toGroundTruth)).toEqual(recent);
    const withZero = await fetchAllTrades(sim, whale, { taker_only: 'false', limit: '1000', start: '0', filter_amount: '0.000001' });
    expect(withZero.rows).toHaveLength(recent.length);
  });

  it('honours start and end as inclusive epoch-second bounds', async () => {
    const fills = [...sim.dataset.fills(whale)];
    const end = fills[100]!.timestamp;
    const start = fills[400]!.timestamp;
    const expected = fills.filter((f) => f.timestamp >= start && f.timestamp <= end);
    const { rows } = await fetchAllTrades(sim, whale, {
      taker_only: 'false',
      start: String(start),
      end: String(end),
      limit: '77',
      filter_amount: '0.000001',
    });
    expect(rows.map(toGroundTruth)).toEqual(expected);
  });

  it('serves at most 1000 rows a page and lets the cursor page size win over a later limit', async () => {
    const first = await getJson<TradesPage>(`${sim.url}/v2/trades?user=${whale}&taker_only=false&start=1&limit=1000`);
    expect(first.body.data).toHaveLength(1000);
    expect(first.body.pagination.limit).toBe(1000);
    const small = await getJson<TradesPage>(`${sim.url}/v2/trades?user=${whale}&taker_only=false&start=1&limit=3`);
    const next = await getJson<TradesPage>(
      `${sim.url}/v2/trades?user=${whale}&taker_only=false&start=1&limit=500&cursor=${small.body.pagination.next_cursor}`,
    );
    expect(next.body.data).toHaveLength(3);
    expect(next.body.pagination.offset).toBe(3);
    const defaulted = await getJson<TradesPage>(`${sim.url}/v2/trades?user=${whale}&taker_only=false&start=1`);
    expect(defaulted.body.data).toHaveLength(100);
  });

  it('rejects offset, an invalid or missing user, and a garbage cursor with 400 invalid_request', async () => {
    const cases: [string, string][] = [
      [`user=${whale}&offset=100`, 'offset'],
      ['user=0x1234', 'user'],
      [`user=${whale}zz`, 'user'],
      // Without `user` it is the global feed (global-feed.test.ts); a blank one is refused.
      ['user=&limit=10', 'user'],
      [`user=${whale}&cursor=not-a-cursor`, 'cursor'],
      [`user=${whale}&cursor=${Buffer.from('{"data":{"type":"trades"},"sig":"x"}').toString('base64url')}`, 'cursor'],
      [`user=${whale}&taker_only=maybe`, 'taker_only'],
      [`user=${whale}&start=-5`, 'start'],
      // Documented maximum 1000, "past-cap rejected"; an undeclared parameter is refused, not ignored.
      [`user=${whale}&limit=1001`, 'limit'],
      [`user=${whale}&filter_amount=-1`, 'filter_amount'],
      [`user=${whale}&filterAmount=abc`, 'filter_amount'],
      [`user=${whale}&side=HOLD`, 'side'],
      [`user=${whale}&filter_amout=0.000001`, 'filter_amout'],
      [`user=${whale}&page=2`, 'page'],
    ];
    for (const [query, parameter] of cases) {
      const { status, body, headers } = await getJson<Record<string, unknown>>(`${sim.url}/v2/trades?${query}`);
      expect(status, query).toBe(400);
      expect(body, query).toMatchObject({ code: 'invalid_request', retryable: false, parameter });
      expect(body.trace_id).toBe(headers.get('x-trace-id'));
    }
    const offset = await getJson<{ error: string }>(`${sim.url}/v2/trades?user=${whale}&offset=0`);
    expect(offset.body.error).toBe('offset is not allowed');
  });

  it('answers a method other than GET with 405 method_not_allowed in the v2 error body', async () => {
    const response = await fetch(`${sim.url}/v2/trades?user=${whale}`, { method: 'POST' });
    expect(response.status).toBe(405);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ code: 'method_not_allowed', retryable: false });
    expect(body.trace_id).toBe(response.headers.get('x-trace-id'));
  });

  it('accepts the wallet in any case and returns an empty page for an unknown wallet', async () => {
    const upper = `0x${whale.slice(2).toUpperCase()}`;
    const page = await getJson<TradesPage>(`${sim.url}/v2/trades?user=${upper}&taker_only=false&start=1&limit=2`);
    expect(page.body.data[0]!.proxy_wallet).toBe(whale);
    const unknown = await getJson<TradesPage>(`${sim.url}/v2/trades?user=0x${'ab'.repeat(20)}&start=1`);
    expect(unknown.status).toBe(200);
    expect(unknown.body).toEqual({ data: [], pagination: { limit: 100, offset: 0, has_more: false, next_cursor: null } });
  });

  it('serves the quirks a backfill must survive: combo rows, outcome_index 999, empty event_slug, off-tick prices', async () => {
    const { rows } = await fetchAllTrades(sim, whale, full);
    const combos = rows.filter((r) => (r.condition_id as string).length === 64);
    expect(combos.length).toBeGreaterThan(0);
    for (const combo of combos) {
      expect(combo).toMatchObject({ slug: '', outcome: '' });
      expect(combo.title).toContain(' AND ');
    }
    expect(rows.filter((r) => r.outcome_index === 999 && r.outcome !== '').length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.event_slug === '' && r.slug !== '').length).toBeGreaterThan(0);
    const offTick = rows.filter((r) => Math.abs((r.price as number) * 1000 - Math.round((r.price as number) * 1000)) > 1e-6);
    expect(offTick.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.token_id).toMatch(/^\d{60,78}$/);
      expect(['BUY', 'SELL']).toContain(row.side);
      expect(row.transaction_hash).toMatch(/^0x[0-9a-f]{64}$/);
    }
  });
});
