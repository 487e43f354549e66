/**
 * Client-side rate limiting per endpoint key, shared by every worker of a run.
 *
 * Polymarket's limits are per 10 s sliding window (Cloudflare). Rather than letting a full window's
 * budget go out as one burst, each key releases one request every `perMs / requests` ms (p-queue in
 * strict mode with `intervalCap: 1`): consecutive starts are at least that far apart, so any window of
 * `perMs` holds at most `requests` starts, whatever the concurrency, and retries are spread out too.
 */
import PQueue from 'p-queue';

/** `requests` per `perMs` milliseconds. */
export interface RateLimit {
  requests: number;
  perMs: number;
}

/** Polymarket's documented limits (docs.polymarket.com/api-reference/rate-limits). */
export const DEFAULT_RATE_LIMITS: Readonly<Record<string, RateLimit>> = Object.freeze({
  'data:trades': { requests: 200, perMs: 10_000 },
  'gamma:markets': { requests: 300, perMs: 10_000 },
  'gamma:events': { requests: 500, perMs: 10_000 },
});

function checkLimit(key: string, limit: RateLimit): RateLimit {
  if (!Number.isFinite(limit.requests) || limit.requests <= 0 || !Number.isFinite(limit.perMs) || limit.perMs <= 0) {
    throw new RangeError(
      `rate limit for "${key}" must be a positive number of requests per positive milliseconds, got ${JSON.stringify(limit)}`,
    );
  }
  return { requests: limit.requests, perMs: limit.perMs };
}

/** One steady-spacing gate per endpoint key. */
export class RateLimiter {
  readonly #limits = new Map<string, RateLimit>();
  readonly #queues = new Map<string, PQueue>();

  constructor(overrides: Partial<Record<string, RateLimit>> = {}) {
    for (const [key, limit] of Object.entries({ ...DEFAULT_RATE_LIMITS, ...overrides })) {
      if (limit) this.#limits.set(key, checkLimit(key, limit));
    }
  }

  /** The limit in force for `key`. */
  limitFor(key: string): RateLimit {
    const limit = this.#limits.get(key);
    // A request without a limit would slip past the budget; that is a programming error, not a runtime condition.
    if (!limit) throw new Error(`no rate limit configured for endpoint key "${key}" (known: ${[...this.#limits.keys()].join(', ')})`);
    return limit;
  }

  /** Resolves when a request for `key` may start; rejects if `signal` aborts while waiting. */
  async acquire(key: string, signal?: AbortSignal): Promise<void> {
    await this.#queue(key).add(() => undefined, { signal });
  }

  /** Requests waiting for a slot, per key (for progress displays). */
  waiting(): Record<string, number> {
    return Object.fromEntries([...this.#queues].map(([key, queue]) => [key, queue.size]));
  }

  #queue(key: string): PQueue {
    let queue = this.#queues.get(key);
    if (!queue) {
      const limit = this.limitFor(key);
      queue = new PQueue({ intervalCap: 1, interval: limit.perMs / limit.requests, strict: true });
      this.#queues.set(key, queue);
    }
    return queue;
  }
}
