import { afterEach, describe, expect, it, vi } from 'vitest';

import { CircuitBreaker } from '../../src/engine/circuit-breaker.js';
import { CoalescingBatcher } from '../../src/engine/coalescing-batcher.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('coalescing batcher', () => {
  it('answers many small concurrent look-ups with one fetch after the linger time, each getting only its ids', async () => {
    vi.useFakeTimers();
    const fetches: string[][] = [];
    const batcher = new CoalescingBatcher<string>({
      maxIds: 100,
      lingerMs: 50,
      fetch: async (ids) => {
        fetches.push(ids);
        return { found: new Map(ids.filter((id) => id !== 'x').map((id) => [id, `record-${id}`])), unresolved: new Map([['x', 'unknown']]) };
      },
    });
    const a = batcher.request(['a', 'b']);
    const b = batcher.request(['b', 'x']);
    await vi.advanceTimersByTimeAsync(49);
    expect(fetches).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(fetches).toEqual([['a', 'b', 'x']]);
    expect([...(await a).found.keys()]).toEqual(['a', 'b']);
    const answerB = await b;
    expect([...answerB.found.keys()]).toEqual(['b']);
    expect(answerB.unresolved.get('x')).toBe('unknown');
  });

  it('flushes at once when enough ids wait, without waiting for the timer', async () => {
    vi.useFakeTimers();
    let fetched = 0;
    const batcher = new CoalescingBatcher<number>({
      maxIds: 3,
      lingerMs: 10_000,
      fetch: async (ids) => {
        fetched += ids.length;
        return { found: new Map(ids.map((id) => [id, 1])), unresolved: new Map() };
      },
    });
    await batcher.request(['1', '2', '3']);
    expect(fetched).toBe(3);
  });
});

describe('circuit breaker', () => {
  it('trips only when the share of outage failures in the window reaches the threshold', () => {
    const breaker = new CircuitBreaker({ window: 10, threshold: 0.8 });
    const trips: boolean[] = [];
    for (let i = 0; i < 3; i += 1) trips.push(breaker.record(false));
    for (let i = 0; i < 7; i += 1) trips.push(breaker.record(true));
    expect(trips.some(Boolean)).toBe(false); // 7 of the last 10
    expect(breaker.record(true)).toBe(true); // the oldest success drops out: 8 of 10
    expect(new CircuitBreaker({ window: 10, threshold: 0.8 }).record(true)).toBe(false); // never on a short window
  });
});
