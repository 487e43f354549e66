import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/polymarket/rate-limiter.js';

/**
 * Real timers on purpose: what is measured is how the limiter copes with timers that fire late
 * because the event loop is busy (parsing pages, writing gzip), which fake timers never do. Runs in
 * the 'timed' project, alone on the machine.
 */
describe('RateLimiter under a busy event loop', () => {
  it('still uses at least 93 % of the budget when every timer fires late (one start per slot lost the lateness on every request: about 88 %)', async () => {
    const limiter = new RateLimiter({ 'data:trades': { requests: 200, perMs: 2000 } });
    // 3 ms of synchronous work every 4 ms, as a run parsing pages does between timers.
    const blocker = setInterval(() => {
      const until = Date.now() + 3;
      while (Date.now() < until);
    }, 4);
    const starts: number[] = [];
    const began = Date.now();
    const stopAt = began + 4000;
    const worker = async () => {
      while (Date.now() < stopAt) {
        await limiter.acquire('data:trades');
        starts.push(Date.now());
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    try {
      await Promise.all(Array.from({ length: 30 }, worker));
    } finally {
      clearInterval(blocker);
    }
    const inTime = starts.filter((time) => time < stopAt).length;
    // Two full windows of 200: the most a limiter that keeps the window bound can start.
    expect(inTime / 400).toBeGreaterThanOrEqual(0.93);
    expect(inTime).toBeLessThanOrEqual(400);
  });
});
