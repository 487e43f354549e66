import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { walletActivityPages, walletActivityUrl, walletComboActivityPages, DEFAULT_ACTIVITY_TYPES } from '../../src/polymarket/index.js';
import { HttpClient } from '../../src/polymarket/http-client.js';
import { RateLimiter } from '../../src/polymarket/rate-limiter.js';
import type { ActivityRecord } from '../../src/polymarket/records.js';
import { UNRESOLVED_NOT_A_MARKET, UNRESOLVED_NO_RESOLUTION, lookupResolutions } from '../../src/polymarket/resolutions-api.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { GroundTruthActivity, RunningSimulator } from '../../src/simulator/index.js';
import { NOW, SMALL } from '../simulator/helpers.js';
import { FAST_LIMITS } from './helpers.js';

const FAST = { requests: 1000, perMs: 100 };
const now = (): Date => new Date(NOW * 1000);

function client(): HttpClient {
  return new HttpClient({
    rateLimiter: new RateLimiter({ ...FAST_LIMITS, 'data:activity': FAST, 'data:activity-combos': FAST, 'data:resolutions': FAST }),
    timeoutMs: 10_000,
    maxAttempts: 2,
    maxInFlight: 4,
  });
}

async function collect<T>(pages: AsyncIterable<T[]>): Promise<{ rows: T[]; pages: number }> {
  const rows: T[] = [];
  let count = 0;
  for await (const page of pages) {
    expect(page.length).toBeGreaterThan(0);
    rows.push(...page);
    count += 1;
  }
  return { rows, pages: count };
}

/** A record as the simulator's ground truth states it (no market: "", no outcome token: ""). */
function asTruth(record: ActivityRecord): GroundTruthActivity {
  return {
    proxy_wallet: record.proxy_wallet,
    type: record.type,
    condition_id: record.condition_id ?? '',
    token_id: record.token_id ?? '',
    outcome_index: record.outcome_index ?? Number.NaN,
    side: record.side,
    size: record.size,
    usdc_size: record.usdc_size,
    price: record.price,
    timestamp: Date.parse(record.timestamp) / 1000,
    transaction_hash: record.transaction_hash,
  };
}

const CASH_MOVES = new Set(['DEPOSIT', 'WITHDRAWAL']);

describe('wallet activity walks against the simulator over loopback', () => {
  let sim: RunningSimulator;
  let http: HttpClient;

  beforeAll(async () => {
    sim = await startSimulator({ ...SMALL, nowSeconds: NOW });
    http = client();
  });
  afterAll(async () => {
    await http.close();
    await sim.close();
  });

  it('walks every wallet oldest first to exactly its ground truth (default types: no fills, no deposits), on its own rate-limit key', async () => {
    sim.resetStats();
    let total = 0;
    for (const wallet of sim.dataset.wallets()) {
      const { rows } = await collect(walletActivityPages(http, sim.url, wallet, { now }));
      const expected = [...sim.dataset.activity(wallet)].filter((row) => !CASH_MOVES.has(row.type));
      expect(rows.map(asTruth)).toEqual(expected);
      expect(new Set(rows.map((row) => row.activity_id)).size).toBe(rows.length);
      total += rows.length;
    }
    expect(total).toBeGreaterThan(500);
    const stats = sim.stats();
    expect(stats.requests['data:activity']).toBe(sim.dataset.walletCount);
    expect(stats.requests['data:trades']).toBe(0);
    expect(http.requestCounts()).toMatchObject({ 'data:activity': sim.dataset.walletCount });
  });

  it('asks start=1, ASC, 1000 rows, every default type and no deposits; naming DEPOSIT in the types brings them', async () => {
    const url = walletActivityUrl(sim.url, sim.dataset.walletAddress(0), DEFAULT_ACTIVITY_TYPES);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      user: sim.dataset.walletAddress(0),
      start: '1',
      sort_direction: 'ASC',
      limit: '1000',
      type: 'SPLIT,MERGE,REDEEM,CONVERSION,MIGRATION,REWARD,YIELD,MAKER_REBATE,TAKER_REBATE,REFERRAL_REWARD',
      exclude_deposits_withdrawals: 'true',
    });
    const wallet = sim.dataset.wallets().find((w) => [...sim.dataset.activity(w)].some((row) => row.type === 'DEPOSIT'))!;
    const { rows } = await collect(walletActivityPages(http, sim.url, wallet, { now, types: [...DEFAULT_ACTIVITY_TYPES, 'deposit', 'WITHDRAWAL'] }));
    expect(rows.map(asTruth)).toEqual([...sim.dataset.activity(wallet)]);
  });

  it('gives the same keys on every re-fetch, and identical rows of one transaction distinct keys', async () => {
    const wallet = sim.dataset.wallets().find((w) => {
      const rows = [...sim.dataset.activity(w)].map((row) => JSON.stringify(row));
      return new Set(rows).size < rows.length;
    })!;
    const first = (await collect(walletActivityPages(http, sim.url, wallet, { now }))).rows;
    const second = (await collect(walletActivityPages(http, sim.url, wallet, { now }))).rows;
    expect(second.map((row) => row.activity_id)).toEqual(first.map((row) => row.activity_id));
    const twins = first.filter((row) => row.activity_seq > 0);
    expect(twins.length).toBeGreaterThan(0);
    for (const twin of twins) {
      const sibling = first.find((row) => row.activity_seq === twin.activity_seq - 1 && row.raw === twin.raw)!;
      expect(sibling.activity_id).not.toBe(twin.activity_id);
    }
  });

  it('walks the combo feed to exactly the simulator combo rows, keyed by tx_hash-log_index', async () => {
    let total = 0;
    for (const wallet of sim.dataset.wallets()) {
      const { rows } = await collect(walletComboActivityPages(http, sim.url, wallet, { now }));
      const expected = sim.dataset.comboActivity(wallet);
      expect(rows.map((row) => row.raw)).toEqual(expected.map((row) => JSON.stringify(row)));
      expect(rows.map((row) => row.combo_activity_id)).toEqual(expected.map((row) => row.id));
      total += rows.length;
    }
    expect(total).toBeGreaterThan(5);
  });

  it('looks resolutions up in batches of at most 20, each row as served, leaving combo and unknown ids unresolved with the reason', async () => {
    const held = sim.dataset.wallets().flatMap((w) => Object.values(sim.dataset.conditionIds(w)).flat());
    const ids = [...new Set(held)];
    const marketIds = ids.filter((id) => /^0x[0-9a-f]{64}$/.test(id));
    sim.resetStats();
    const { resolutions, unresolved } = await lookupResolutions(http, sim.url, ids.map((id) => id.toUpperCase().replace('0X', '0x')), { now });
    expect(sim.stats().requests['data:resolutions']).toBe(Math.ceil(marketIds.length / 20));
    const served = marketIds.filter((id) => sim.dataset.resolution(id) !== undefined);
    expect(resolutions.map((row) => row.condition_id).sort()).toEqual(served.sort());
    for (const record of resolutions) {
      expect(JSON.parse(record.raw)).toEqual(sim.dataset.resolution(record.condition_id));
      const market = sim.dataset.market(record.condition_id) as { closed: boolean; outcomePrices: string };
      const winner = (JSON.parse(market.outcomePrices) as string[]).indexOf('1');
      expect(record.winning_outcome_index).toBe(market.closed ? winner : null);
    }
    const reasons = new Map(unresolved.map((entry) => [entry.id, entry.reason]));
    for (const id of ids.filter((id) => id.length !== 66)) expect(reasons.get(id)).toBe(UNRESOLVED_NOT_A_MARKET);
    for (const id of marketIds.filter((id) => !served.includes(id))) expect(reasons.get(id)).toBe(UNRESOLVED_NO_RESOLUTION);
    expect(reasons.size).toBeGreaterThan(0);
  });
});

describe('a wallet with more activity than one page', () => {
  let sim: RunningSimulator;
  let http: HttpClient;

  beforeAll(async () => {
    sim = await startSimulator({ seed: 11, wallets: 1, whales: [25_000], nowSeconds: NOW });
    http = client();
  });
  afterAll(async () => {
    await http.close();
    await sim.close();
  });

  it('follows next_cursor with identical filters to the end, oldest first, without gaps or repeats', async () => {
    const whale = sim.dataset.walletAddress(1);
    const { rows, pages } = await collect(walletActivityPages(http, sim.url, whale, { now }));
    expect(pages).toBeGreaterThan(1);
    expect(rows.map(asTruth)).toEqual([...sim.dataset.activity(whale)].filter((row) => !CASH_MOVES.has(row.type)));
  });
});
