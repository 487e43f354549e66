import { afterEach, describe, expect, it, vi } from 'vitest';
import { ARRIVAL_MARGIN, DEFAULT_RATE_LIMITS, RateLimiter, releaseGroup } from '../../src/polymarket/rate-limiter.js';

/** The most start times that fall in any half-open window [t, t + windowMs). */
function maxInAnyWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end += 1) {
    while ((sorted[end] as number) - (sorted[start] as number) >= windowMs) start += 1;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

describe('RateLimiter', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('never lets more than L requests start in any sliding window, however many wait at once (fake timers)', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const limiter = new RateLimiter({ 'data:trades': { requests: 5, perMs: 1000 } });
    const starts: number[] = [];
    const all = Promise.all(
      Array.from({ length: 37 }, () => limiter.acquire('data:trades').then(() => starts.push(Date.now()))),
    );
    await vi.advanceTimersByTimeAsync(10_000);
    await all;
    expect(starts).toHaveLength(37);
    expect(maxInAnyWindow(starts, 1000)).toBeLessThanOrEqual(5);
    // Steady spacing, not bursts: with 5 per window there is one start per sub-window of
    // perMs / requests, stretched by the arrival margin.
    const gaps = starts.slice(1).map((time, index) => time - (starts[index] as number));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(200);
    // ...and the limiter does not waste the budget either: only the 2 % margin is left unused.
    expect((starts.at(-1) as number) - (starts[0] as number)).toBeLessThanOrEqual(36 * 200 * (1 + ARRIVAL_MARGIN) + 36);
  });

  it('keeps the budget across bursts arriving at different times (the documented 200 per 10 s)', async () => {
    vi.useFakeTimers({ now: 0 });
    const limiter = new RateLimiter();
    const starts: number[] = [];
    const waves: Promise<unknown>[] = [];
    for (let wave = 0; wave < 4; wave += 1) {
      waves.push(
        Promise.all(Array.from({ length: 150 }, () => limiter.acquire('data:trades').then(() => starts.push(Date.now())))),
      );
      await vi.advanceTimersByTimeAsync(2500);
    }
    await vi.advanceTimersByTimeAsync(60_000);
    await Promise.all(waves);
    expect(starts).toHaveLength(600);
    expect(maxInAnyWindow(starts, 10_000)).toBeLessThanOrEqual(200);
  });

  it('keeps the window bound at the server too: arrivals up to 200 ms closer than our starts still fit 200 per 10 s (fake timers)', async () => {
    vi.useFakeTimers({ now: 0 });
    const limiter = new RateLimiter();
    const starts: number[] = [];
    const all = Promise.all(Array.from({ length: 700 }, () => limiter.acquire('data:trades').then(() => starts.push(Date.now()))));
    await vi.advanceTimersByTimeAsync(60_000);
    await all;
    // A server window of 10 s sees the starts of any 10.2 s window when transit times differ by 200 ms.
    expect(maxInAnyWindow(starts, 10_200 - 1)).toBeLessThanOrEqual(200);
    // Small groups, not one start per 50 ms: a late timer then costs one group's lateness, not each request's.
    expect(releaseGroup({ requests: 200, perMs: 10_000 })).toEqual({ cap: 10, interval: 510 });
    expect(maxInAnyWindow(starts, 1)).toBe(10);
    // Used to the margin: 700 starts take 34 sub-windows after the first group, no more.
    expect(starts.at(-1)).toBe(69 * 510);
  });

  it('picks groups that divide the window exactly, and one start per slot for small or odd limits', () => {
    expect(releaseGroup({ requests: 300, perMs: 10_000 }).cap).toBe(15);
    expect(releaseGroup({ requests: 500, perMs: 10_000 }).cap).toBe(25);
    expect(releaseGroup({ requests: 231, perMs: 10_000 }).cap).toBe(11);
    expect(releaseGroup({ requests: 221, perMs: 10_000 }).cap).toBe(1);
    expect(releaseGroup({ requests: 5, perMs: 1000 })).toEqual({ cap: 1, interval: 204 });
    expect(releaseGroup({ requests: 2.5, perMs: 1000 }).cap).toBe(1);
  });

  it('limits each endpoint key on its own', async () => {
    vi.useFakeTimers({ now: 0 });
    const limiter = new RateLimiter({
      'gamma:markets': { requests: 2, perMs: 1000 },
      'gamma:events': { requests: 4, perMs: 1000 },
    });
    const markets: number[] = [];
    const events: number[] = [];
    const all = Promise.all([
      ...Array.from({ length: 6 }, () => limiter.acquire('gamma:markets').then(() => markets.push(Date.now()))),
      ...Array.from({ length: 6 }, () => limiter.acquire('gamma:events').then(() => events.push(Date.now()))),
    ]);
    await vi.advanceTimersByTimeAsync(5000);
    await all;
    expect(markets).toEqual([0, 510, 1020, 1530, 2040, 2550]);
    expect(events).toEqual([0, 255, 510, 765, 1020, 1275]);
  });

  it('defaults to the documented Polymarket limits, and the measured ones for the v2 routes they do not list', () => {
    const limiter = new RateLimiter();
    expect(limiter.limitFor('data:trades')).toEqual({ requests: 200, perMs: 10_000 });
    // data-api-v2-observed.md: /v2/activity ran clean at 400 per 10 s, in a bucket of its own.
    expect(limiter.limitFor('data:activity')).toEqual({ requests: 400, perMs: 10_000 });
    expect(limiter.limitFor('gamma:markets')).toEqual({ requests: 300, perMs: 10_000 });
    expect(limiter.limitFor('gamma:events')).toEqual({ requests: 500, perMs: 10_000 });
    expect(Object.keys(DEFAULT_RATE_LIMITS).sort()).toEqual([
      'data:activity',
      'data:activity-combos',
      'data:resolutions',
      'data:trades',
      'gamma:events',
      'gamma:markets',
    ]);
    // Every Data API key together stays under the documented general 1,000 per 10 s.
    const data = Object.entries(DEFAULT_RATE_LIMITS).filter(([key]) => key.startsWith('data:'));
    expect(data.reduce((sum, [, limit]) => sum + limit.requests, 0)).toBeLessThanOrEqual(1000);
  });

  it('refuses an endpoint key without a limit and an invalid limit', async () => {
    const limiter = new RateLimiter();
    await expect(limiter.acquire('data:positions')).rejects.toThrow(/no rate limit configured for endpoint key "data:positions"/);
    expect(() => new RateLimiter({ 'data:trades': { requests: 0, perMs: 1000 } })).toThrow(/data:trades/);
  });

  it('rejects a waiting acquire when its signal aborts, and the slot is not consumed', async () => {
    vi.useFakeTimers({ now: 0 });
    const limiter = new RateLimiter({ 'data:trades': { requests: 1, perMs: 1000 } });
    await limiter.acquire('data:trades');
    const controller = new AbortController();
    const waiting = limiter.acquire('data:trades', controller.signal).catch((error: unknown) => error);
    controller.abort(new Error('stop'));
    expect(await waiting).toBeInstanceOf(Error);
    const next = limiter.acquire('data:trades').then(() => Date.now());
    await vi.advanceTimersByTimeAsync(1020);
    expect(await next).toBe(1000 * (1 + ARRIVAL_MARGIN));
  });
});
