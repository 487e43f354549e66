import { describe, expect, it } from 'vitest';

import { MIN_FEED_WINDOW_SECONDS, refreshCost } from '../../src/polymarket/feed-cost.js';

const HOUR = 3_600;
const DAY = 86_400;

describe('refreshCost', () => {
  it('picks the feed for a million wallets over half an hour: a handful of pages against a request per wallet', () => {
    const cost = refreshCost({ trackedWallets: 1_000_000, feedRowsPerHour: 120_000, windowSeconds: HOUR / 2, overlapSeconds: 300 });
    expect(cost).toMatchObject({ choice: 'feed', feedRequests: 70, walletRequests: 1_000_000, feedRows: 70_000 });
    expect(cost.ratio).toBeCloseTo(1_000_000 / 70);
    // At the documented 200 requests per 10 s: 50,000 s (13.9 h) per wallet, 3.3 s via the feed.
    expect(cost.walletSeconds).toBe(50_000);
    expect(cost.reason).toMatch(/^refresh via feed: the feed needs 70 requests \(70,000 rows of all wallets in 0\.6 h/);
    expect(cost.reason).toMatch(/per-wallet refresh needs at least 1,000,000 requests .*~13\.9 h.*14,286× fewer requests/);
  });

  it('picks per wallet for a few wallets over a busy day: the whole exchange\'s rows cost more than one request each', () => {
    const cost = refreshCost({ trackedWallets: 50, feedRowsPerHour: 120_000, windowSeconds: DAY });
    expect(cost).toMatchObject({ choice: 'wallets', feedRequests: 2_880, walletRequests: 50 });
    expect(cost.reason).toMatch(/^refresh via wallets: per-wallet refresh needs at least 50 requests.*the feed needs 2,880 requests.*per wallet is 58× fewer/);
  });

  it('has the break-even where the feed\'s pages equal the tracked wallets', () => {
    const base = { feedRowsPerHour: 100_000, windowSeconds: 10 * HOUR }; // 1,000 pages
    expect(refreshCost({ ...base, trackedWallets: 1_001 }).choice).toBe('feed');
    expect(refreshCost({ ...base, trackedWallets: 1_000 }).choice).toBe('wallets');
    expect(refreshCost({ ...base, trackedWallets: 1_000 }).reason).toMatch(/a tie goes to per wallet/);
  });

  it('counts extra pages for busy tracked wallets when their activity is known', () => {
    const cost = refreshCost({ trackedWallets: 10, feedRowsPerHour: 1_000_000, windowSeconds: DAY, trackedRowsPerHour: 5_000 });
    // 120,000 rows of the tracked wallets: 10 first pages hold 10,000, 110 more pages hold the rest.
    expect(cost.walletRequests).toBe(120);
    expect(cost.reason).toMatch(/plus pages for the busiest/);
  });

  it('rules the feed out when the window reaches past what the feed serves', () => {
    const cost = refreshCost({ trackedWallets: 1_000_000, feedRowsPerHour: 1, windowSeconds: MIN_FEED_WINDOW_SECONDS + 1 });
    expect(cost).toMatchObject({ choice: 'wallets', feedRequests: Infinity, ratio: Infinity });
    expect(cost.reason).toMatch(/the feed cannot reach 672\.0 h back \(it serves 28 days\); per wallet is the only way/);
  });

  it('costs the feed at least one request even when nothing happened, and refuses nonsense inputs by name', () => {
    expect(refreshCost({ trackedWallets: 5, feedRowsPerHour: 0, windowSeconds: HOUR }).feedRequests).toBe(1);
    expect(() => refreshCost({ trackedWallets: -1, feedRowsPerHour: 0, windowSeconds: 0 })).toThrow(/trackedWallets must be a finite number >= 0, got -1/);
    expect(() => refreshCost({ trackedWallets: 1, feedRowsPerHour: Number.NaN, windowSeconds: 0 })).toThrow(/feedRowsPerHour/);
    expect(() => refreshCost({ trackedWallets: 1, feedRowsPerHour: 1, windowSeconds: 0, pageSize: 0 })).toThrow(/pageSize/);
  });
});
