import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { SMALL, getJson } from './helpers.js';

/** 2026-10-31T23:59:59Z: the data clock before any advance. */
const DATA_END = Date.UTC(2026, 9, 31, 23, 59, 59) / 1000;
const DAY = 86_400;

/** Field names and order of a live capture (polyoxide-data/tests/fixtures/v2/leaderboard.json). */
const ROW_KEYS = ['rank', 'user_id', 'pnl', 'volume', 'user_name', 'profile_image', 'x_username', 'verified'];

interface Row {
  rank: number;
  user_id: string;
  pnl: number;
  volume: number;
  user_name: string;
  verified: boolean;
}

interface BoardPage {
  data: Row[];
  pagination: { limit: number; offset: number; has_more: boolean; next_cursor: string | null };
}

describe('GET /v2/leaderboard', () => {
  let sim: RunningSimulator;

  /** Every row of a board, following the cursor alone as the docs allow. */
  async function board(query: string): Promise<{ rows: Row[]; pages: BoardPage[] }> {
    const pages: BoardPage[] = [];
    let url = `${sim.url}/v2/leaderboard?${query}`;
    for (;;) {
      const { status, body } = await getJson<BoardPage>(url);
      expect(status, url).toBe(200);
      pages.push(body);
      if (!body.pagination.next_cursor) return { rows: pages.flatMap((p) => p.data), pages };
      url = `${sim.url}/v2/leaderboard?cursor=${body.pagination.next_cursor}`;
    }
  }

  beforeAll(async () => {
    sim = await startSimulator({ ...SMALL, nowSeconds: DATA_END });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('ranks every wallet with fills exactly once on the all-time board, in the v2 row shape, paged by cursor', async () => {
    const { rows, pages } = await board('time_period=all&limit=7');
    expect(pages.length).toBeGreaterThan(2);
    const withFills = sim.dataset.wallets().filter((w) => sim.dataset.tradeCount(w) > 0);
    expect(rows.map((r) => r.user_id).sort()).toEqual([...withFills].sort());
    for (const row of rows) expect(Object.keys(row)).toEqual(ROW_KEYS);
    pages.forEach((page, i) => {
      expect(page.pagination).toMatchObject({ limit: 7, offset: i * 7, has_more: i < pages.length - 1 });
    });
  });

  it('orders by PnL (default) or by volume, best first, with competition ranks', async () => {
    for (const [sort, metric] of [['PNL', 'pnl'], ['VOLUME', 'volume']] as const) {
      const { rows } = await board(`time_period=all&sort_by=${sort}&limit=1000`);
      for (let i = 1; i < rows.length; i += 1) {
        const [a, b] = [rows[i - 1]!, rows[i]!];
        expect(a[metric]).toBeGreaterThanOrEqual(b[metric]);
        expect(b.rank).toBe(a[metric] === b[metric] ? a.rank : i + 1);
      }
      expect(rows[0]!.rank).toBe(1);
    }
    const defaulted = await board('time_period=all&limit=1000');
    const pnl = await board('time_period=all&sort_by=PNL&limit=1000');
    expect(defaulted.rows).toEqual(pnl.rows);
  });

  it('measures volume as the shares the wallet traded in the window, both sides', async () => {
    const { rows } = await board('time_period=all&sort_by=VOLUME&limit=1000');
    for (const row of rows.slice(0, 5)) {
      const shares = [...sim.dataset.fills(row.user_id)].reduce((sum, f) => sum + f.size, 0);
      expect(row.volume).toBeCloseTo(shares, 5);
    }
  });

  it('follows the data clock: the day board lists exactly the wallets that traded in the last day, before and after an advance', async () => {
    const tradedInLastDay = (): string[] =>
      sim.dataset
        .wallets()
        .filter((w) => [...sim.dataset.fills(w)].some((f) => f.timestamp > sim.nowSeconds() - DAY))
        .sort();
    const before = (await board('time_period=day&limit=1000')).rows.map((r) => r.user_id).sort();
    expect(before).toEqual(tradedInLastDay());
    const step = sim.advance({ seconds: DAY });
    const after = (await board('time_period=day&limit=1000')).rows.map((r) => r.user_id).sort();
    expect(after).toEqual(tradedInLastDay());
    expect(after).not.toEqual(before);
    expect(after.filter((w) => step.wallets.includes(w)).length).toBeGreaterThan(0);
  });

  it('filters by category: a Gamma category in any case, combos, and an unknown one gives an empty board', async () => {
    const all = (await board('time_period=all&limit=1000')).rows;
    const sports = (await board('time_period=all&category=Sports&limit=1000')).rows;
    expect(sports.length).toBeGreaterThan(0);
    expect(sports.length).toBeLessThanOrEqual(all.length);
    const combos = (await board('time_period=all&category=combos&limit=1000')).rows;
    const whale = sim.dataset.walletAddress(SMALL.wallets);
    expect(combos.map((r) => r.user_id)).toContain(whale);
    expect((await board('time_period=all&category=combos&sort_by=VOLUME')).rows).toEqual([]);
    expect((await board('time_period=all&category=no-such-category')).rows).toEqual([]);
  });

  it('pins the board in the cursor: restating the same values is fine, contradicting them is a 400', async () => {
    const first = await getJson<BoardPage>(`${sim.url}/v2/leaderboard?time_period=all&sort_by=VOLUME&limit=3`);
    const cursor = first.body.pagination.next_cursor!;
    const bare = await getJson<BoardPage>(`${sim.url}/v2/leaderboard?cursor=${cursor}`);
    const restated = await getJson<BoardPage>(`${sim.url}/v2/leaderboard?cursor=${cursor}&time_period=all&sort_by=VOLUME&limit=50`);
    expect(restated.body).toEqual(bare.body);
    expect(bare.body.data).toHaveLength(3);
    const contradicted = await getJson<{ code: string; parameter: string }>(`${sim.url}/v2/leaderboard?cursor=${cursor}&sort_by=PNL`);
    expect(contradicted.status).toBe(400);
    expect(contradicted.body).toMatchObject({ code: 'invalid_request', parameter: 'cursor' });
  });

  it('rejects an unknown time_period or sort_by, a limit over 1000, offset and an undeclared parameter with the v2 error body', async () => {
    const cases: [string, string, string][] = [
      ['time_period=year', 'time_period', 'time_period must be one of day, week, month, all'],
      ['sort_by=ROI', 'sort_by', 'sort_by must be PNL or VOLUME'],
      ['limit=1001', 'limit', 'limit must be at most 1000'],
      ['cursor=garbage', 'cursor', 'invalid cursor'],
      ['offset=100', 'offset', 'offset is not allowed'],
      ['time_period=all&window=7d', 'window', 'unknown query parameter: window'],
    ];
    for (const [query, parameter, error] of cases) {
      const { status, body } = await getJson<Record<string, unknown>>(`${sim.url}/v2/leaderboard?${query}`);
      expect(status, query).toBe(400);
      expect(body, query).toMatchObject({ code: 'invalid_request', parameter, error, retryable: false });
    }
  });

  it('answers ?user= with one standing carrying both ranks, and data null for a wallet that is not on the board', async () => {
    const { rows: pnl } = await board('time_period=all&limit=1000');
    const { rows: volume } = await board('time_period=all&sort_by=VOLUME&limit=1000');
    const wallet = pnl[2]!.user_id;
    const { body } = await getJson<{ data: Record<string, unknown> }>(`${sim.url}/v2/leaderboard?time_period=all&user=${wallet.toUpperCase().replace('0X', '0x')}`);
    expect(body.data).toMatchObject({
      user_id: wallet,
      rank_pnl: pnl[2]!.rank,
      rank_volume: volume.find((r) => r.user_id === wallet)!.rank,
      pnl: pnl[2]!.pnl,
    });
    const unknown = await getJson<{ data: unknown }>(`${sim.url}/v2/leaderboard?time_period=all&user=0x${'ab'.repeat(20)}`);
    expect(unknown.body).toEqual({ data: null });
    expect(sim.stats().requests['data:leaderboard']).toBeGreaterThan(0);
  });
});
