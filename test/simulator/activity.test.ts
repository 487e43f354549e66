import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIVITY_TYPES, createDataset, startSimulator } from '../../src/simulator/index.js';
import type { GroundTruthActivity, RunningSimulator, SimDataset } from '../../src/simulator/index.js';
import { NOW, SMALL, getJson, toGroundTruth } from './helpers.js';
import { contractErrors } from './v2-contract.js';

const DAY = 86_400;
const NON_TRADE = ACTIVITY_TYPES.filter((type) => type !== 'TRADE').join(',');

interface Page {
  data: Record<string, unknown>[];
  pagination: { limit: number; offset: number; has_more: boolean; next_cursor: string | null };
}

/** Follows next_cursor with identical filters, checking every page against the document's schema. */
async function fetchAll(sim: RunningSimulator, path: string, params: Record<string, string>): Promise<{ rows: Record<string, unknown>[]; pages: Page[] }> {
  const rows: Record<string, unknown>[] = [];
  const pages: Page[] = [];
  let cursor: string | null = null;
  for (;;) {
    const query = new URLSearchParams(params);
    if (cursor) query.set('cursor', cursor);
    const { status, body } = await getJson<Page>(`${sim.url}${path}?${query.toString()}`);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(contractErrors(path, 200, body)).toEqual([]);
    pages.push(body);
    rows.push(...body.data);
    cursor = body.pagination.next_cursor;
    if (!cursor) return { rows, pages };
  }
}

function activityTruth(row: Record<string, unknown>): GroundTruthActivity {
  const keys = ['proxy_wallet', 'type', 'condition_id', 'token_id', 'outcome_index', 'side', 'size', 'usdc_size', 'price', 'timestamp', 'transaction_hash'] as const;
  return Object.fromEntries(keys.map((key) => [key, row[key]])) as unknown as GroundTruthActivity;
}

function allActivity(dataset: SimDataset): GroundTruthActivity[] {
  return dataset.wallets().flatMap((wallet) => [...dataset.activity(wallet)]);
}

const prices = (market: object | undefined): number[] => (JSON.parse((market as { outcomePrices: string }).outcomePrices) as string[]).map(Number);
const tokens = (market: object | undefined): string[] => JSON.parse((market as { clobTokenIds: string }).clobTokenIds) as string[];

describe('GET /v2/activity', () => {
  let sim: RunningSimulator;
  let whale: string;

  beforeAll(async () => {
    sim = await startSimulator({ ...SMALL, nowSeconds: NOW });
    whale = sim.dataset.walletAddress(SMALL.wallets);
  });
  afterAll(async () => {
    await sim.close();
  });

  it('walks ASC with start=1 and every non-trade type to exactly dataset.activity(), each page an ActivityPage of the document', async () => {
    let total = 0;
    for (const wallet of sim.dataset.wallets()) {
      const { rows } = await fetchAll(sim, '/v2/activity', {
        user: wallet, start: '1', sort_direction: 'ASC', limit: '200', type: NON_TRADE, exclude_deposits_withdrawals: 'false',
      });
      expect(rows.map(activityTruth)).toEqual([...sim.dataset.activity(wallet)]);
      total += rows.length;
    }
    expect(total).toBeGreaterThan(500);
    const types = new Set(allActivity(sim.dataset).map((row) => row.type));
    for (const type of ['SPLIT', 'MERGE', 'REDEEM', 'CONVERSION', 'MAKER_REBATE', 'TAKER_REBATE', 'REWARD', 'DEPOSIT']) expect(types).toContain(type);
  });

  it('serves DESC by default, the exact reverse of ASC, and a resumed cursor keeps the direction it was minted under', async () => {
    const params = { user: whale, start: '1', limit: '100', type: NON_TRADE };
    const asc = (await fetchAll(sim, '/v2/activity', { ...params, sort_direction: 'ASC' })).rows;
    const desc = (await fetchAll(sim, '/v2/activity', params)).rows;
    expect(asc.length).toBeGreaterThan(200);
    expect(desc).toEqual([...asc].reverse());
    const first = await getJson<Page>(`${sim.url}/v2/activity?${new URLSearchParams({ ...params, sort_direction: 'ASC' }).toString()}`);
    const flipped = await getJson<Page>(
      `${sim.url}/v2/activity?${new URLSearchParams({ ...params, sort_direction: 'DESC', cursor: first.body.pagination.next_cursor! }).toString()}`,
    );
    expect(flipped.body.data).toEqual(asc.slice(100, 200));
    expect(flipped.body.pagination.offset).toBe(100);
  });

  it('serves the fills as TRADE rows (maker and taker, as /v2/trades with taker_only=false), merged in time order', async () => {
    const trades = (await fetchAll(sim, '/v2/activity', { user: whale, start: '1', sort_direction: 'ASC', limit: '1000', type: 'TRADE' })).rows;
    expect(trades.map(toGroundTruth)).toEqual([...sim.dataset.fills(whale)].reverse());
    for (const row of trades) expect(row.usdc_size).toBeCloseTo((row.size as number) * (row.price as number), 5);
    const everything = (await fetchAll(sim, '/v2/activity', { user: whale, start: '1', sort_direction: 'ASC', limit: '1000' })).rows;
    const visible = [...sim.dataset.activity(whale)].filter((row) => row.type !== 'DEPOSIT' && row.type !== 'WITHDRAWAL');
    expect(everything).toHaveLength(trades.length + visible.length);
    const times = everything.map((row) => row.timestamp as number);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('hides DEPOSIT and WITHDRAWAL unless exclude_deposits_withdrawals=false, even when named in type', async () => {
    const wallets = sim.dataset.wallets().filter((w) => [...sim.dataset.activity(w)].some((row) => row.type === 'DEPOSIT'));
    expect(wallets.length).toBeGreaterThan(0);
    const wallet = wallets[0]!;
    const hidden = await getJson<Page>(`${sim.url}/v2/activity?user=${wallet}&start=1&type=DEPOSIT,WITHDRAWAL`);
    expect(hidden.body.data).toEqual([]);
    const shown = await getJson<Page>(`${sim.url}/v2/activity?user=${wallet}&start=1&type=DEPOSIT&exclude_deposits_withdrawals=false`);
    expect(shown.body.data.length).toBeGreaterThan(0);
  });

  it('answers an unknown wallet with an empty page, and the window without start with the last three years only', async () => {
    const unknown = await getJson<Page>(`${sim.url}/v2/activity?user=0x${'ab'.repeat(20)}`);
    expect(unknown.body).toEqual({ data: [], pagination: { limit: 100, offset: 0, has_more: false, next_cursor: null } });
    const recent = (await fetchAll(sim, '/v2/activity', { user: whale, sort_direction: 'ASC', limit: '1000', type: NON_TRADE })).rows;
    const floor = NOW - 3 * 365 * DAY;
    expect(recent).toEqual(
      (await fetchAll(sim, '/v2/activity', { user: whale, start: '1', sort_direction: 'ASC', limit: '1000', type: NON_TRADE })).rows.filter(
        (row) => (row.timestamp as number) >= floor,
      ),
    );
  });

  it('rejects what the document rejects with the v2 error body naming the parameter', async () => {
    const cases: [string, string][] = [
      [`offset=5&user=${whale}`, 'offset'],
      ['limit=5', 'user'],
      [`user=${whale}&limit=1001`, 'limit'],
      [`user=${whale}&type=SPLIT,NOPE`, 'type'],
      [`user=${whale}&sort_by=CASH`, 'sort_by'],
      [`user=${whale}&sort_direction=UP`, 'sort_direction'],
      [`user=${whale}&condition=0x1234`, 'condition'],
      [`user=${whale}&side=LONG`, 'side'],
      [`user=${whale}&cursor=not-a-cursor`, 'cursor'],
    ];
    for (const [query, parameter] of cases) {
      const { status, body, headers } = await getJson<Record<string, unknown>>(`${sim.url}/v2/activity?${query}`);
      expect(status, query).toBe(400);
      expect(contractErrors('/v2/activity', 400, body)).toEqual([]);
      expect(body).toMatchObject({ code: 'invalid_request', retryable: false, parameter });
      expect(headers.get('x-trace-id')).toBe(body.trace_id);
    }
  });

  it('counts requests under data:activity and data:activity-combos, per wallet, apart from data:trades', async () => {
    sim.resetStats();
    await getJson(`${sim.url}/v2/activity?user=${whale}`);
    await getJson(`${sim.url}/v2/activity/combos?user=${whale}`);
    const stats = sim.stats();
    expect(stats.requests).toMatchObject({ 'data:activity': 1, 'data:activity-combos': 1, 'data:trades': 0 });
    expect(stats.activityRequestsByWallet).toEqual({ [whale]: 2 });
  });
});

describe('GET /v2/activity/combos', () => {
  let sim: RunningSimulator;

  beforeAll(async () => {
    sim = await startSimulator({ ...SMALL, nowSeconds: NOW });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('pages every combo lifecycle row newest first by block, as ComboActivityPages, exactly dataset.comboActivity()', async () => {
    let rows = 0;
    let redeems = 0;
    for (const wallet of sim.dataset.wallets()) {
      const served = (await fetchAll(sim, '/v2/activity/combos', { user: wallet, limit: '3' })).rows;
      expect(served).toEqual(sim.dataset.comboActivity(wallet));
      const blocks = served.map((row) => row.block_number as number);
      expect(blocks).toEqual([...blocks].sort((a, b) => b - a));
      for (const row of served) {
        expect(row.id).toBe(`${row.transaction_hash as string}-${String(row.id).split('-')[1]}`);
        if (row.type === 'REDEEM') {
          redeems += 1;
          const legs = row.legs as { leg_status: string }[];
          // A combo pays only when every leg won.
          expect(row.payout_usdc === 0).toBe(legs.some((leg) => leg.leg_status === 'RESOLVED_LOSS'));
        }
      }
      rows += served.length;
    }
    expect(rows).toBeGreaterThan(5);
    expect(redeems).toBeGreaterThan(0);
  });
});

describe('GET /v2/resolutions', () => {
  let sim: RunningSimulator;
  let resolvable: string[];

  beforeAll(async () => {
    sim = await startSimulator({ ...SMALL, nowSeconds: NOW });
    resolvable = [...new Set(sim.dataset.wallets().flatMap((w) => sim.dataset.conditionIds(w).resolvable))].sort();
  });
  afterAll(async () => {
    await sim.close();
  });

  it('answers batches of 20 condition ids with one row each, conforming to the document and agreeing with Gamma', async () => {
    let resolved = 0;
    for (let i = 0; i < resolvable.length; i += 20) {
      const batch = resolvable.slice(i, i + 20);
      const { status, body } = await getJson<{ data: Record<string, unknown>[] }>(`${sim.url}/v2/resolutions?condition=${batch.join(',')}`);
      expect(status).toBe(200);
      expect(contractErrors('/v2/resolutions', 200, body)).toEqual([]);
      expect(body.data.map((row) => row.condition_id)).toEqual(batch);
      for (const row of body.data) {
        expect(row).toEqual(sim.dataset.resolution(row.condition_id as string));
        const market = sim.dataset.market(row.condition_id as string) as { closed: boolean; closedTime?: string };
        expect(row.status === 'resolved').toBe(market.closed);
        if (row.status !== 'resolved') {
          expect(row.payouts).toBeNull();
          continue;
        }
        resolved += 1;
        // Payouts per share are Gamma's final prices, in micro-USDC; resolved_at is Gamma's closedTime.
        expect((row.payouts as number[]).map((p) => p / 1e6)).toEqual(prices(market));
        expect(Date.parse(row.resolved_at as string)).toBe(Date.parse(market.closedTime!.replace(' ', 'T').replace(/\+00$/, 'Z')));
      }
    }
    expect(resolved).toBeGreaterThan(10);
  });

  it('leaves markets Gamma does not know out, and rejects more than 20 ids, a combo id, or two selectors', async () => {
    const ghosts = sim.dataset.wallets().flatMap((w) => sim.dataset.conditionIds(w).unresolvable).filter((id) => id.length === 66);
    expect(ghosts.length).toBeGreaterThan(0);
    const miss = await getJson<{ data: unknown[] }>(`${sim.url}/v2/resolutions?condition=${ghosts[0]!}`);
    expect(miss.body).toEqual({ data: [] });
    const combo = sim.dataset.wallets().flatMap((w) => sim.dataset.conditionIds(w).unresolvable).find((id) => id.length === 64)!;
    const cases: [string, string | undefined][] = [
      [`condition=${[...resolvable.slice(0, 21)].join(',')}`, 'condition'],
      [`condition=${combo}`, 'condition'],
      [`condition=${resolvable[0]!}&event_id=1`, undefined],
      ['', undefined],
    ];
    for (const [query, parameter] of cases) {
      const { status, body } = await getJson<Record<string, unknown>>(`${sim.url}/v2/resolutions?${query}`);
      expect(status, query).toBe(400);
      expect(contractErrors('/v2/resolutions', 400, body)).toEqual([]);
      expect(body.parameter).toBe(parameter);
    }
  });
});

describe('activity ground truth', () => {
  const dataset = createDataset(SMALL);
  const activity = allActivity(dataset);

  it('every REDEEM follows its market resolution and pays size × payout, the payout of Gamma winner: winners and losers alike', () => {
    const redeems = activity.filter((row) => row.type === 'REDEEM');
    let winners = 0;
    let losers = 0;
    for (const row of redeems) {
      const resolution = dataset.resolution(row.condition_id)!;
      expect(resolution.status).toBe('resolved');
      expect(row.timestamp).toBeGreaterThanOrEqual(Date.parse(resolution.resolved_at as string) / 1000);
      const payout = (resolution.payouts as number[])[row.outcome_index]!;
      expect(payout / 1e6).toBe(prices(dataset.market(row.condition_id))[row.outcome_index]);
      expect(row.token_id).toBe(tokens(dataset.market(row.condition_id))[row.outcome_index]);
      expect(row.usdc_size).toBeCloseTo((row.size * payout) / 1e6, 6);
      if (payout > 0) winners += 1;
      else losers += 1;
    }
    expect(winners).toBeGreaterThan(5);
    expect(losers).toBeGreaterThan(5);
  });

  it('a REDEEM burns what the wallet holds of the token: its fills, splits, merges and conversions, floored at zero', () => {
    let checked = 0;
    for (const wallet of dataset.wallets()) {
      const held = new Map<string, number>();
      const add = (token: string, amount: number): void => {
        held.set(token, (held.get(token) ?? 0) + amount);
      };
      for (const fill of dataset.fills(wallet)) add(fill.asset, fill.side === 'BUY' ? fill.size : -fill.size);
      const rows = [...dataset.activity(wallet)];
      for (const row of rows) {
        // Markets Gamma does not know never resolve, so their tokens are never redeemed.
        if ((row.type === 'SPLIT' || row.type === 'MERGE') && dataset.market(row.condition_id)) {
          for (const token of tokens(dataset.market(row.condition_id))) add(token, row.type === 'SPLIT' ? row.size : -row.size);
        }
        if (row.type === 'CONVERSION') {
          // No shares of one member become as many Yes shares of every other member of the neg-risk event.
          add(row.token_id, -row.size);
          const event = dataset.event(dataset.eventIdsOfMarket(row.condition_id)[0]!) as { markets: { conditionId: string; clobTokenIds: string }[] };
          for (const member of event.markets) if (member.conditionId !== row.condition_id) add(tokens(member)[0]!, row.size);
        }
      }
      for (const row of rows.filter((r) => r.type === 'REDEEM')) {
        expect(row.size).toBeCloseTo(Math.max(0, held.get(row.token_id) ?? 0), 5);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('pays some rebates twice in one transaction: identical rows a key must tell apart', () => {
    const seen = new Map<string, number>();
    for (const row of activity) seen.set(JSON.stringify(row), (seen.get(JSON.stringify(row)) ?? 0) + 1);
    expect([...seen.values()].some((count) => count > 1)).toBe(true);
  });
});

describe('advance and activity', () => {
  let sim: RunningSimulator;

  beforeAll(async () => {
    sim = await startSimulator({ ...SMALL, nowSeconds: NOW });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('keeps every earlier row, and adds the REDEEMs of the markets it resolved, after their resolution and by the new clock', async () => {
    const before = new Map(sim.dataset.wallets().map((w) => [w, [...sim.dataset.activity(w)]]));
    const resolutionsBefore = new Map<string, Record<string, unknown> | undefined>();
    const summary = sim.advance({ seconds: 60 * DAY, resolveShare: 1 });
    for (const id of summary.resolvedMarkets) resolutionsBefore.set(id, createDataset(SMALL).resolution(id));
    expect(summary.resolvedMarkets.length).toBeGreaterThan(0);
    const resolved = new Set(summary.resolvedMarkets);
    let newRedeems = 0;
    for (const wallet of sim.dataset.wallets()) {
      const after = [...sim.dataset.activity(wallet)];
      const remaining = new Map<string, number>();
      for (const row of after) remaining.set(JSON.stringify(row), (remaining.get(JSON.stringify(row)) ?? 0) + 1);
      for (const row of before.get(wallet)!) {
        const key = JSON.stringify(row);
        expect(remaining.get(key), `${wallet} lost ${key}`).toBeGreaterThan(0);
        remaining.set(key, remaining.get(key)! - 1);
      }
      for (const [key, count] of remaining) {
        if (count === 0) continue;
        const row = JSON.parse(key) as GroundTruthActivity;
        expect(row.timestamp).toBeLessThanOrEqual(summary.toSeconds);
        if (row.type === 'REDEEM' && resolved.has(row.condition_id)) {
          newRedeems += count;
          expect(row.timestamp).toBeGreaterThan(summary.fromSeconds);
        }
      }
      // What the route serves follows at once.
      const { rows } = await fetchAll(sim, '/v2/activity', {
        user: wallet, start: '1', sort_direction: 'ASC', limit: '1000', type: NON_TRADE, exclude_deposits_withdrawals: 'false',
      });
      expect(rows.map(activityTruth)).toEqual(after);
    }
    expect(newRedeems).toBeGreaterThan(0);
    for (const id of summary.resolvedMarkets) {
      expect(resolutionsBefore.get(id)?.status).not.toBe('resolved');
      const now = await getJson<{ data: Record<string, unknown>[] }>(`${sim.url}/v2/resolutions?condition=${id}`);
      expect(now.body.data[0]?.status).toBe('resolved');
      expect((now.body.data[0]?.payouts as number[]).map((p) => p / 1e6)).toEqual(prices(sim.dataset.market(id)));
    }
  });
});
