import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { NOW, SMALL, getJson } from './helpers.js';

interface Market {
  id: string;
  conditionId: string;
  closed: boolean;
}

interface Event {
  id: string;
  closed: boolean;
  markets?: Market[];
}

interface MarketsPage {
  markets: Market[];
  next_cursor?: string;
}

interface EventsPage {
  events: Event[];
  next_cursor?: string;
}

const repeated = (name: string, ids: readonly string[]): string => ids.map((id) => `${name}=${id}`).join('&');

describe('Gamma /markets/keyset and /events/keyset', () => {
  let sim: RunningSimulator;
  let ids: string[];
  let eventIds: string[];

  /** Follows next_cursor to the end with `after_cursor`; returns the pages. */
  async function walk<T extends { next_cursor?: string }>(path: string, query: string): Promise<T[]> {
    const pages: T[] = [];
    let cursor: string | undefined;
    for (;;) {
      const after = cursor === undefined ? '' : `&after_cursor=${cursor}`;
      const { status, body } = await getJson<T>(`${sim.url}${path}?${query}${after}`);
      expect(status).toBe(200);
      pages.push(body);
      cursor = body.next_cursor;
      if (cursor === undefined) return pages;
    }
  }

  beforeAll(async () => {
    sim = await startSimulator({ ...SMALL, nowSeconds: NOW });
    ids = sim.dataset.conditionIds(sim.dataset.walletAddress(SMALL.wallets)).resolvable.slice(0, 50);
    eventIds = [...new Set(ids.flatMap((id) => sim.dataset.eventIdsOfMarket(id)))];
  });
  afterAll(async () => {
    await sim.close();
  });

  it('serves exactly the legacy rows, in id order, across pages of `limit`, with next_cursor only on full pages', async () => {
    for (const closed of ['true', 'false']) {
      const legacy = await getJson<Market[]>(`${sim.url}/markets?${repeated('condition_ids', ids)}&closed=${closed}&limit=100`);
      const pages = await walk<MarketsPage>('/markets/keyset', `${repeated('condition_ids', ids)}&closed=${closed}&limit=3`);
      const rows = pages.flatMap((page) => page.markets);
      expect(rows).toEqual(legacy.body);
      expect(rows.map((m) => Number(m.id))).toEqual([...rows.map((m) => Number(m.id))].sort((a, b) => a - b));
      pages.forEach((page, i) => {
        expect(page.markets.length).toBeLessThanOrEqual(3);
        // A full last page still carries a cursor; the page after it is empty and has none.
        expect('next_cursor' in page).toBe(page.markets.length === 3);
        if (i < pages.length - 1) expect(page.markets).toHaveLength(3);
      });
    }
  });

  it('applies the implicit closed=false when closed is omitted, as the legacy listing does', async () => {
    const implicit = await getJson<MarketsPage>(`${sim.url}/markets/keyset?${repeated('condition_ids', ids)}&limit=100`);
    const open = await getJson<MarketsPage>(`${sim.url}/markets/keyset?${repeated('condition_ids', ids)}&closed=false&limit=100`);
    expect(implicit.body).toEqual(open.body);
    expect(implicit.body.markets.every((m) => !m.closed)).toBe(true);
  });

  it('clamps limit to 100 and defaults it to 20', async () => {
    // A universe of ~400 markets, so that a listing without ids has more than 100 closed ones.
    const wide = await startSimulator({ seed: 7, wallets: 200, nowSeconds: NOW });
    try {
      const big = await getJson<MarketsPage>(`${wide.url}/markets/keyset?closed=true&limit=500`);
      expect(big.body.markets).toHaveLength(100);
      expect(typeof big.body.next_cursor).toBe('string');
      const defaulted = await getJson<MarketsPage>(`${wide.url}/markets/keyset?closed=true`);
      expect(defaulted.body.markets).toHaveLength(20);
      const next = await getJson<MarketsPage>(`${wide.url}/markets/keyset?closed=true&after_cursor=${defaulted.body.next_cursor!}`);
      expect(next.body.markets).toEqual(big.body.markets.slice(20, 40));
    } finally {
      await wide.close();
    }
  });

  it('rejects offset with the documented 422 body, and a cursor it did not mint with 422', async () => {
    for (const path of ['/markets/keyset', '/events/keyset']) {
      const offset = await getJson<unknown>(`${sim.url}${path}?closed=true&offset=0`);
      expect(offset.status).toBe(422);
      expect(offset.body).toEqual({ type: 'validation error', error: 'offset is not allowed on keyset endpoints' });
      const bad = await getJson<{ error: string }>(`${sim.url}${path}?closed=true&after_cursor=nonsense`);
      expect(bad.status).toBe(422);
      expect(bad.body.error).toBe('invalid after_cursor');
    }
  });

  it('keeps the legacy filters: over 100 condition_ids and combo ids are 400, malformed event ids 422', async () => {
    const many = Array.from({ length: 101 }, (_, i) => `0x${i.toString(16).padStart(64, '0')}`);
    expect((await getJson<unknown>(`${sim.url}/markets/keyset?${repeated('condition_ids', many)}&closed=true`)).status).toBe(400);
    expect((await getJson<unknown>(`${sim.url}/markets/keyset?condition_ids=0x${'ab'.repeat(31)}&closed=true`)).status).toBe(400);
    expect((await getJson<unknown>(`${sim.url}/events/keyset?id=abc&closed=true`)).status).toBe(422);
  });

  it('serves events by repeated id, with nested markets unless include_markets=false (on both listings)', async () => {
    const query = `${repeated('id', eventIds)}&closed=false&limit=100`;
    const keyset = await getJson<EventsPage>(`${sim.url}/events/keyset?${query}`);
    const legacy = await getJson<Event[]>(`${sim.url}/events?${query}`);
    expect(keyset.body.events).toEqual(legacy.body);
    expect(keyset.body.events.length).toBeGreaterThan(0);
    for (const event of keyset.body.events) expect(event).toEqual(sim.dataset.event(event.id));
    const slim = await getJson<EventsPage>(`${sim.url}/events/keyset?${query}&include_markets=false`);
    const slimLegacy = await getJson<Event[]>(`${sim.url}/events?${query}&include_markets=false`);
    expect(slim.body.events).toEqual(slimLegacy.body);
    for (const event of slim.body.events) {
      expect(event).not.toHaveProperty('markets');
      const { markets: _markets, ...rest } = sim.dataset.event(event.id) as Event;
      expect(event).toEqual(rest);
    }
  });

  it('counts keyset and legacy requests apart in requestsByPath, under the same rate-limited route', async () => {
    sim.resetStats();
    await getJson<unknown>(`${sim.url}/markets/keyset?closed=true&limit=1`);
    await getJson<unknown>(`${sim.url}/markets?closed=true&limit=1`);
    await getJson<unknown>(`${sim.url}/events/keyset?closed=true&limit=1`);
    const stats = sim.stats();
    expect(stats.requestsByPath).toEqual({ '/markets/keyset': 1, '/markets': 1, '/events/keyset': 1 });
    expect(stats.requests).toMatchObject({ 'gamma:markets': 2, 'gamma:events': 1 });
  });
});

describe('the gamma option', () => {
  it('keyset: the legacy listings answer 410 Gone and the keyset ones work', async () => {
    const sim = await startSimulator({ ...SMALL, nowSeconds: NOW, gamma: 'keyset' });
    try {
      for (const path of ['/markets', '/events']) {
        const gone = await getJson<{ error: string }>(`${sim.url}${path}?closed=true`);
        expect(gone.status).toBe(410);
        expect(gone.body.error).toContain('retired');
        expect((await getJson<unknown>(`${sim.url}${path}/keyset?closed=true`)).status).toBe(200);
      }
    } finally {
      await sim.close();
    }
  });

  it('legacy: the keyset listings answer 404 and the legacy ones work; setGamma switches at run time', async () => {
    const sim = await startSimulator({ ...SMALL, nowSeconds: NOW, gamma: 'legacy' });
    try {
      for (const path of ['/markets', '/events']) {
        expect((await getJson<unknown>(`${sim.url}${path}/keyset?closed=true`)).status).toBe(404);
        expect((await getJson<unknown>(`${sim.url}${path}?closed=true`)).status).toBe(200);
      }
      sim.setGamma('keyset');
      expect((await getJson<unknown>(`${sim.url}/markets?closed=true`)).status).toBe(410);
      expect((await getJson<unknown>(`${sim.url}/markets/keyset?closed=true`)).status).toBe(200);
      expect(() => sim.setGamma('sometimes' as never)).toThrow(/gamma must be one of keyset, legacy, both/);
    } finally {
      await sim.close();
    }
  });
});
