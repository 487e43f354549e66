import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/lib/errors.js';
import { PaginationError, UnexpectedResponseError } from '../../src/polymarket/http-errors.js';
import { PagingStalledError } from '../../src/polymarket/page-guard.js';
import type { LeaderboardQuery } from '../../src/polymarket/leaderboard.js';
import { createPolymarketSource } from '../../src/polymarket/polymarket-source.js';
import type { PolymarketSource } from '../../src/polymarket/source.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { FAST_LIMITS, recordingSleep, sendJson, startServer, type TestServer } from './helpers.js';

type Obj = Record<string, unknown>;

/** Two rows as captured live (polyoxide-data/tests/fixtures/v2/leaderboard.json, 2026-09-14). */
const LIVE_ROWS: Obj[] = [
  { rank: 1, user_id: '0x51698a47f840a242abc2ca0351371c7ffac41842', pnl: 2492743.86776, volume: 12942959.982390001, user_name: '00gringo00', profile_image: '', x_username: '', verified: false },
  { rank: 2, user_id: '0xf0318c32136c2db7fec88b84869aee6a1106c80c', pnl: 1156385.8796739983, volume: 10596013.967173, user_name: 'BreakTheBank', profile_image: '', x_username: '', verified: false },
];

const LIMITS = { ...FAST_LIMITS, 'data:leaderboard': { requests: 1000, perMs: 100 } };

let sim: RunningSimulator | undefined;
let server: TestServer | undefined;
let source: PolymarketSource | undefined;

afterEach(async () => {
  await source?.close();
  await sim?.close();
  await server?.close();
  source = sim = server = undefined;
});

function makeSource(url: string, logger?: { debug(): void; info(o: object, m?: string): void; warn(): void }): PolymarketSource {
  source = createPolymarketSource({ dataApiUrl: url, rateLimits: LIMITS, maxAttempts: 2, sleep: recordingSleep().sleep, logger });
  return source;
}

const page = (data: Obj[], next: string | null): Obj => ({
  data,
  pagination: { limit: data.length, offset: 0, has_more: next !== null, next_cursor: next },
});

describe('PolymarketSource.leaderboard', () => {
  it('pages the simulator board by cursor up to the limit and returns its wallets, ranks and figures in order', async () => {
    // Over 1000 wallets with fills, so 1100 of them take a full first page and part of a second.
    sim = await startSimulator({ seed: 3, wallets: 1_250, maxTradesPerWallet: 30, nowSeconds: Date.UTC(2026, 10, 29) / 1000 });
    const { entries, stopped } = await makeSource(sim.url).leaderboard({ timePeriod: 'all', orderBy: 'VOLUME', limit: 1_100 });
    expect(stopped).toBeUndefined();
    expect(entries).toHaveLength(1_100);
    expect(sim.stats().requests['data:leaderboard']).toBe(2);
    expect(source?.stats().requests['data:leaderboard']).toBe(2);

    const direct: Obj[] = [];
    let url: string | null = `${sim.url}/v2/leaderboard?time_period=all&sort_by=VOLUME&limit=1000`;
    while (url !== null && direct.length < 1_100) {
      const body = (await (await fetch(url)).json()) as { data: Obj[]; pagination: { next_cursor: string | null } };
      direct.push(...body.data);
      url = body.pagination.next_cursor ? `${sim.url}/v2/leaderboard?cursor=${body.pagination.next_cursor}` : null;
    }
    expect(entries).toEqual(
      direct.slice(0, 1_100).map((row) => ({
        wallet: row.user_id,
        rank: row.rank,
        userName: row.user_name,
        pnl: row.pnl,
        volume: row.volume,
        xUsername: null,
        verified: row.verified,
        profileImage: (row.profile_image as string) || null,
      })),
    );
    const known = new Set(sim.dataset.wallets());
    for (const entry of entries) expect(known.has(entry.wallet)).toBe(true);
    expect(new Set(entries.map((e) => e.wallet)).size).toBe(entries.length);
  });

  it('stops at the end of a board shorter than the limit', async () => {
    sim = await startSimulator({ seed: 7, wallets: 30, maxTradesPerWallet: 200, nowSeconds: Date.UTC(2026, 10, 29) / 1000 });
    const { entries, stopped } = await makeSource(sim.url).leaderboard({ timePeriod: 'all', limit: 5_000 });
    expect(stopped).toBeUndefined();
    const withFills = sim.dataset.wallets().filter((w) => sim!.dataset.tradeCount(w) > 0);
    expect(entries.map((e) => e.wallet).sort()).toEqual([...withFills].sort());
    expect(sim.stats().requests['data:leaderboard']).toBe(1);
  });

  it('sends the documented parameters on the first page (defaults day and PNL) and the cursor alone after it', async () => {
    server = await startServer((_req, res, index) =>
      sendJson(res, 200, index === 0 ? page([LIVE_ROWS[0]!], 'c1') : page([LIVE_ROWS[1]!], null)),
    );
    const { entries } = await makeSource(server.url).leaderboard({ category: 'Sports', limit: 2 });
    expect(server.requests.map((r) => r.path)).toEqual(['/v2/leaderboard', '/v2/leaderboard']);
    expect(Object.fromEntries(server.requests[0]!.query)).toEqual({ time_period: 'day', category: 'sports', sort_by: 'PNL', limit: '2' });
    expect(Object.fromEntries(server.requests[1]!.query)).toEqual({ cursor: 'c1' });
    expect(entries).toEqual([
      { wallet: LIVE_ROWS[0]!.user_id, rank: 1, userName: '00gringo00', pnl: 2492743.86776, volume: 12942959.982390001, xUsername: null, verified: false, profileImage: null },
      { wallet: LIVE_ROWS[1]!.user_id, rank: 2, userName: 'BreakTheBank', pnl: 1156385.8796739983, volume: 10596013.967173, xUsername: null, verified: false, profileImage: null },
    ]);
  });

  it('keeps the first of a wallet that a board refresh repeats on the next page, and says so once', async () => {
    const mixedCase = { ...LIVE_ROWS[0]!, user_id: (LIVE_ROWS[0]!.user_id as string).toUpperCase().replace('0X', '0x'), rank: 2 };
    server = await startServer((_req, res, index) =>
      sendJson(res, 200, index === 0 ? page([LIVE_ROWS[0]!], 'c1') : page([mixedCase, LIVE_ROWS[1]!], null)),
    );
    const lines: string[] = [];
    const logger = { debug: () => undefined, warn: () => undefined, info: (_o: object, msg?: string) => void lines.push(msg ?? '') };
    const { entries } = await makeSource(server.url, logger).leaderboard({ limit: 10 });
    expect(entries.map((e) => [e.wallet, e.rank])).toEqual([
      [LIVE_ROWS[0]!.user_id, 1],
      [LIVE_ROWS[1]!.user_id, 2],
    ]);
    expect(lines).toEqual(['leaderboard pages repeated 1 wallet(s) (the board refreshed mid-walk); kept the first of each']);
  });

  // Before the walk had a no-progress limit this board was paged without end (and discovery printed nothing);
  // the timeout makes such a hang a failure instead of a stuck suite.
  it('stops a board that keeps paging with wallets it already returned after 3 pages without a new one, keeping the wallets found and saying why', { timeout: 10_000 }, async () => {
    server = await startServer((_req, res, index) => sendJson(res, 200, page(LIVE_ROWS, `fresh-${index + 1}`)));
    const { entries, stopped } = await makeSource(server.url).leaderboard({ limit: 100 });
    expect(entries.map((e) => e.wallet)).toEqual(LIVE_ROWS.map((row) => row.user_id));
    expect(stopped).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/v2\/leaderboard\?cursor=fresh-3 \(page 4\): 3 pages in a row added no new wallet yet still handed out a fresh next_cursor \(2 wallets in 4 pages\).*Discovery stops with the wallets collected so far/,
    );
    expect(server.requests).toHaveLength(4);
  });

  it('stops a board of empty pages with fresh cursors with no wallet, and a board that brings a new wallet too rarely at its page cap', { timeout: 10_000 }, async () => {
    server = await startServer((_req, res, index) => sendJson(res, 200, page([], `fresh-${index + 1}`)));
    const empty = await makeSource(server.url).leaderboard({ limit: 5 });
    expect(empty.entries).toEqual([]);
    expect(empty.stopped).toContain('(page 3): 3 pages in a row added no new wallet');
    await server.close();

    // A new wallet every third page never trips the no-progress limit; 5 wallets at 5 a page may take 12 pages.
    const wallet = (n: number) => ({ ...LIVE_ROWS[0]!, rank: n + 1, user_id: `0x${String(n).padStart(40, '0')}` });
    server = await startServer((_req, res, index) => sendJson(res, 200, page([wallet(Math.floor(index / 3))], `fresh-${index + 1}`)));
    const sparse = await makeSource(server.url).leaderboard({ limit: 5 });
    expect(sparse.entries).toHaveLength(4);
    expect(sparse.stopped).toContain('(page 12) still has a next_cursor after 12 pages, more than the 5 wallet(s) asked for can take at 5 a page');
    expect(server.requests).toHaveLength(12);
  });

  it('throws on has_more without a cursor: only a board that stopped making progress ends with a partial answer', async () => {
    server = await startServer((_req, res) => sendJson(res, 200, { data: [LIVE_ROWS[0]], pagination: { has_more: true, next_cursor: null } }));
    const error = await makeSource(server.url).leaderboard({ limit: 5 }).then(
      () => new Error('expected a failure'),
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(PaginationError);
    expect(error).not.toBeInstanceOf(PagingStalledError);
  });

  it('rejects a bad query with a ConfigError naming the value, before sending anything', async () => {
    server = await startServer((_req, res) => sendJson(res, 200, page([], null)));
    const lb = makeSource(server.url);
    const bad: [LeaderboardQuery, RegExp][] = [
      [{ limit: 0 }, /limit must be a whole number from 1/],
      [{ limit: 2.5 }, /got 2.5/],
      [{ limit: 10, timePeriod: 'year' as never }, /time period "year" is not one of day, week, month, all/],
      [{ limit: 10, orderBy: 'VOL' as never }, /order "VOL" is not one of PNL, VOLUME/],
      [{ limit: 10, category: 'pop culture' }, /category "pop culture" is not a category name/],
    ];
    for (const [query, message] of bad) {
      await expect(lb.leaderboard(query)).rejects.toThrow(ConfigError);
      await expect(lb.leaderboard(query)).rejects.toThrow(message);
    }
    expect(server.requests).toHaveLength(0);
  });

  it('fails clearly on a row without a wallet address, a non-envelope body, or has_more without a cursor', async () => {
    const bodies: unknown[] = [
      page([{ ...LIVE_ROWS[0]!, user_id: 'gringo' }], null),
      [LIVE_ROWS[0]],
      { data: [LIVE_ROWS[0]], pagination: { has_more: true, next_cursor: null } },
    ];
    let which = 0;
    server = await startServer((_req, res) => sendJson(res, 200, bodies[which]));
    const lb = makeSource(server.url);
    await expect(lb.leaderboard({ limit: 5 })).rejects.toThrow(/leaderboard row 0 that cannot be used: user_id: invalid wallet address "gringo": expected 0x followed by 40 hex digits/);
    which = 1;
    await expect(lb.leaderboard({ limit: 5 })).rejects.toThrow(UnexpectedResponseError);
    which = 2;
    await expect(lb.leaderboard({ limit: 5 })).rejects.toThrow(PaginationError);
  });
});
