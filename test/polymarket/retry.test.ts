import { afterEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, sleep, withRetry, type RetryInfo } from '../../src/lib/retry.js';
import { recordingSleep } from './helpers.js';

class Transient extends Error {}

const retryTransient = (error: unknown) => ({ retry: error instanceof Transient, label: 'transient' });

describe('withRetry', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('retries transient failures and returns the first success, passing the attempt number', async () => {
    const { sleep: fakeSleep, delays } = recordingSleep();
    const seen: number[] = [];
    const result = await withRetry(
      async (attempt) => {
        seen.push(attempt);
        if (attempt < 3) throw new Transient(`fail ${attempt}`);
        return 'ok';
      },
      { attempts: 5, baseDelayMs: 100, maxDelayMs: 10_000, classify: retryTransient, sleep: fakeSleep, random: () => 0.5 },
    );
    expect(result).toBe('ok');
    expect(seen).toEqual([1, 2, 3]);
    expect(delays).toEqual([50, 100]);
  });

  it('stops at the total deadline: no retry whose wait would end past it, the last error thrown as it was', async () => {
    let clock = 0;
    const delays: number[] = [];
    const seen: number[] = [];
    const failure = withRetry(
      async (attempt) => {
        seen.push(attempt);
        clock += 1_000; // each attempt takes 1 s
        throw new Transient(`fail ${attempt}`);
      },
      {
        attempts: 10,
        baseDelayMs: 1_000,
        maxDelayMs: 1_000,
        deadlineMs: 5_500,
        classify: (error) => ({ ...retryTransient(error), delayMs: 1_000 }),
        sleep: async (ms) => {
          delays.push(ms);
          clock += ms;
        },
        now: () => clock,
      },
    );
    // Attempts end at 1 s, 3 s, 5 s; a third wait would end at 6 s, past the 5.5 s deadline.
    await expect(failure).rejects.toThrow('fail 3');
    expect(seen).toEqual([1, 2, 3]);
    expect(delays).toEqual([1_000, 1_000]);
  });

  it('backs off exponentially with full jitter, capped at maxDelayMs', () => {
    const policy = { baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999999 };
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, policy))).toEqual([99, 199, 399, 799, 999, 999]);
    expect(backoffDelay(4, { ...policy, random: () => 0 })).toBe(0);
    expect(backoffDelay(3, { ...policy, factor: 3, random: () => 0.5 })).toBe(450);
  });

  it('uses a classifier delay (Retry-After) as given, capped by maxServerDelayMs, and reports it to onRetry', async () => {
    const { sleep: fakeSleep, delays } = recordingSleep();
    const infos: RetryInfo[] = [];
    const asked = [7000, 999_999];
    await withRetry(
      async (attempt) => {
        if (attempt <= 2) throw new Transient('busy');
        return 1;
      },
      {
        attempts: 3,
        baseDelayMs: 100,
        maxDelayMs: 1000,
        maxServerDelayMs: 60_000,
        classify: () => ({ retry: true, delayMs: asked.shift(), label: '429' }),
        sleep: fakeSleep,
        onRetry: (info) => infos.push(info),
      },
    );
    expect(delays).toEqual([7000, 60_000]);
    expect(infos.map((info) => [info.attempt, info.delayMs, info.label])).toEqual([
      [1, 7000, '429'],
      [2, 60_000, '429'],
    ]);
  });

  it('caps a classifier delay at maxDelayMs when maxServerDelayMs is not set', async () => {
    const { sleep: fakeSleep, delays } = recordingSleep();
    await withRetry(
      async (attempt) => {
        if (attempt === 1) throw new Transient('busy');
        return 1;
      },
      { attempts: 2, baseDelayMs: 1, maxDelayMs: 5000, classify: () => ({ retry: true, delayMs: 90_000 }), sleep: fakeSleep },
    );
    expect(delays).toEqual([5000]);
  });

  it('throws a non-retryable error at once, untouched', async () => {
    const fatal = new Error('400 bad request');
    const fn = vi.fn(async () => {
      throw fatal;
    });
    await expect(
      withRetry(fn, { attempts: 5, baseDelayMs: 1, maxDelayMs: 1, classify: retryTransient, sleep: recordingSleep().sleep }),
    ).rejects.toBe(fatal);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('throws the last error itself (cause intact) when the attempts run out', async () => {
    const errors: Error[] = [];
    const promise = withRetry(
      async (attempt) => {
        const error = new Transient(`attempt ${attempt}`, { cause: new Error(`socket ${attempt}`) });
        errors.push(error);
        throw error;
      },
      { attempts: 4, baseDelayMs: 1, maxDelayMs: 1, classify: retryTransient, sleep: recordingSleep().sleep },
    );
    await expect(promise).rejects.toBeInstanceOf(Transient);
    const thrown = await promise.catch((error: unknown) => error);
    expect(errors).toHaveLength(4);
    expect(thrown).toBe(errors[3]);
    expect((thrown as Error).cause).toEqual(new Error('socket 4'));
  });

  it('stops when the signal aborts during the backoff sleep, without another attempt', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const fn = vi.fn(async () => {
      throw new Transient('busy');
    });
    const promise = withRetry(fn, {
      attempts: 10,
      baseDelayMs: 10_000,
      maxDelayMs: 10_000,
      classify: retryTransient,
      random: () => 0.5,
      signal: controller.signal,
    });
    const outcome = promise.catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(1000);
    controller.abort(new Error('shutting down'));
    expect(await outcome).toEqual(new Error('shutting down'));
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('rejects a policy with no attempts', async () => {
    await expect(
      withRetry(async () => 1, { attempts: 0, baseDelayMs: 1, maxDelayMs: 1, classify: retryTransient }),
    ).rejects.toThrow(/attempts must be an integer >= 1/);
  });
});

describe('sleep', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves after the delay (fake timers)', async () => {
    vi.useFakeTimers();
    let done = false;
    const promise = sleep(5000).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(4999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await promise;
    expect(done).toBe(true);
  });

  it('rejects with the abort reason, immediately if already aborted', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const pending = sleep(60_000, controller.signal).catch((error: unknown) => error);
    controller.abort(new Error('stop'));
    expect(await pending).toEqual(new Error('stop'));
    await expect(sleep(1, controller.signal)).rejects.toThrow('stop');
  });
});
