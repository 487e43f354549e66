import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { NOW, SMALL, getJson } from './helpers.js';

interface GammaMarket {
  id: string;
  conditionId: string;
  closed: boolean;
  outcomes: string;
  outcomePrices: string;
  clobTokenIds: string;
  volume: string;
  volumeNum: number;
  liquidity: string;
  negRisk: boolean;
  negRiskMarketID?: string;
  closedTime?: string;
  endDate: string;
  events?: { id: string; slug: string; title: string; ticker: string; negRisk: boolean; negRiskMarketID?: string }[];
}

interface GammaEvent {
  id: string;
  closed: boolean;
  negRisk: boolean;
  enableNegRisk: boolean;
  negRiskMarketID?: string;
  volume: number;
  liquidity: number;
  tags: { id: string; label: string; slug: string }[];
  markets: GammaMarket[];
}

describe('Gamma /markets and /events', () => {
  let sim: RunningSimulator;
  let ids: string[];
  let closedIds: string[];
  let openIds: string[];

  const markets = async (query: string): Promise<GammaMarket[]> => {
    const { status, body } = await getJson<GammaMarket[]>(`${sim.url}/markets?${query}`);
    expect(status).toBe(200);
    return body;
  };
  const repeated = (list: string[]): string => list.map((id) => `condition_ids=${id}`).join('&');

  beforeAll(async () => {
    sim = await startSimulator({ ...SMALL, nowSeconds: NOW });
    ids = sim.dataset.conditionIds(sim.dataset.walletAddress(SMALL.wallets)).resolvable.slice(0, 50);
    const objects = ids.map((id) => sim.dataset.market(id) as GammaMarket);
    closedIds = objects.filter((m) => m.closed).map((m) => m.conditionId);
    openIds = objects.filter((m) => !m.closed).map((m) => m.conditionId);
  });
  afterAll(async () => {
    await sim.close();
  });

  it('has both closed and open markets among a wallet\'s markets (precondition of the closed tests)', () => {
    expect(closedIds.length).toBeGreaterThan(0);
    expect(openIds.length).toBeGreaterThan(0);
  });

  it('silently drops closed markets when closed is omitted (implicit closed=false)', async () => {
    const body = await markets(`${repeated(ids)}&limit=100`);
    expect(body.map((m) => m.conditionId).sort()).toEqual([...openIds].sort());
    const explicit = await markets(`${repeated(ids)}&closed=false&limit=100`);
    expect(explicit).toEqual(body);
  });

  it('returns the closed markets with closed=true, resolved with a winning outcome priced "1"', async () => {
    const body = await markets(`${repeated(ids)}&closed=true&limit=100`);
    expect(body.map((m) => m.conditionId).sort()).toEqual([...closedIds].sort());
    for (const market of body) {
      expect(market.closed).toBe(true);
      expect((JSON.parse(market.outcomePrices) as string[]).sort()).toEqual(['0', '1']);
      expect(market.closedTime).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\+00$/);
    }
  });

  it('serves outcomes, outcomePrices and clobTokenIds as JSON-encoded strings and volume as a string', async () => {
    const body = await markets(`${repeated(openIds)}&closed=false&limit=100`);
    for (const market of body) {
      for (const field of [market.outcomes, market.outcomePrices, market.clobTokenIds]) {
        expect(typeof field).toBe('string');
        expect(JSON.parse(field)).toHaveLength(2);
      }
      const prices = (JSON.parse(market.outcomePrices) as string[]).map(Number);
      expect(prices[0]! + prices[1]!).toBeCloseTo(1, 9);
      expect(prices[0]).toBeGreaterThan(0);
      expect(prices[0]).toBeLessThan(1);
      expect(typeof market.volume).toBe('string');
      expect(Number(market.volume)).toBe(market.volumeNum);
      expect(typeof market.liquidity).toBe('string');
      expect(market.id).toMatch(/^\d+$/);
      expect(market.endDate).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      expect(market.events).toHaveLength(1);
      expect(Object.keys(market.events![0]!)).toEqual(
        expect.arrayContaining(['id', 'slug', 'title', 'ticker', 'negRisk']),
      );
      expect(market).toEqual(sim.dataset.market(market.conditionId));
    }
  });

  it('accepts comma-separated ids in one value, applies limit (default 20) and offset after filtering', async () => {
    const all = await markets(`condition_ids=${closedIds.join(',')}&closed=true&limit=100`);
    expect(all).toHaveLength(closedIds.length);
    const defaulted = await markets(`${repeated(ids)}&closed=true`);
    expect(defaulted).toHaveLength(Math.min(20, closedIds.length));
    const second = await markets(`${repeated(ids)}&closed=true&limit=2&offset=2`);
    expect(second).toEqual(all.slice(2, 4));
    expect(await markets(`condition_ids=0x${'ab'.repeat(32)}&closed=true`)).toEqual([]);
  });

  it('rejects more than 100 condition_ids, and combo ids, with 400', async () => {
    const many = Array.from({ length: 101 }, (_, i) => `0x${i.toString(16).padStart(64, '0')}`);
    const tooMany = await getJson<unknown>(`${sim.url}/markets?${repeated(many)}&closed=true`);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toEqual({ type: 'validation error', error: 'too many condition_ids' });
    const exactly100 = await getJson<unknown>(`${sim.url}/markets?${repeated(many.slice(0, 100))}&closed=true`);
    expect(exactly100.status).toBe(200);
    const combo = sim.dataset
      .conditionIds(sim.dataset.walletAddress(SMALL.wallets))
      .unresolvable.find((id) => id.length === 64)!;
    const comboResponse = await getJson<{ error: string }>(`${sim.url}/markets?condition_ids=${combo}&closed=true`);
    expect(comboResponse.status).toBe(400);
    expect(comboResponse.body.error).toContain('invalid condition id');
  });

  it('serves events by repeated id with nested markets that carry no events key', async () => {
    const eventIds = [...new Set(ids.flatMap((id) => sim.dataset.eventIdsOfMarket(id)))];
    const closed = await getJson<GammaEvent[]>(`${sim.url}/events?${eventIds.map((id) => `id=${id}`).join('&')}&closed=true&limit=100`);
    const open = await getJson<GammaEvent[]>(`${sim.url}/events?${eventIds.map((id) => `id=${id}`).join('&')}&closed=false&limit=100`);
    const implicit = await getJson<GammaEvent[]>(`${sim.url}/events?${eventIds.map((id) => `id=${id}`).join('&')}&limit=100`);
    expect(implicit.body).toEqual(open.body);
    const served = [...closed.body, ...open.body];
    expect(served.map((e) => e.id).sort()).toEqual([...eventIds].sort());
    for (const event of served) {
      expect(typeof event.volume).toBe('number');
      expect(typeof event.liquidity).toBe('number');
      expect(event.markets.length).toBeGreaterThan(0);
      for (const market of event.markets) {
        expect(market).not.toHaveProperty('events');
        expect(market.closed).toBe(event.closed);
      }
      expect(event).toEqual(sim.dataset.event(event.id));
    }
  });

  it('groups neg-risk markets into events sharing one negRiskMarketID, with exactly one winner once closed', async () => {
    const events = await getJson<GammaEvent[]>(`${sim.url}/events?closed=true&limit=100`);
    const negRisk = events.body.filter((e) => e.negRisk);
    expect(negRisk.length).toBeGreaterThan(0);
    for (const event of negRisk) {
      expect(event.enableNegRisk).toBe(true);
      expect(event.markets.length).toBeGreaterThanOrEqual(3);
      expect(event.markets.length).toBeLessThanOrEqual(8);
      for (const market of event.markets) expect(market.negRiskMarketID).toBe(event.negRiskMarketID);
      const winners = event.markets.filter((m) => JSON.parse(m.outcomePrices)[0] === '1');
      expect(winners).toHaveLength(1);
    }
  });

  it('answers unknown routes with a 404 JSON body', async () => {
    const response = await getJson<{ code: string }>(`${sim.url}/v1/nothing-here`);
    expect(response.status).toBe(404);
    expect(response.body.code).toBe('not_found');
  });
});
