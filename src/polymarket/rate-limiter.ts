/**
 * Client-side rate limiting per endpoint key, shared by every worker of a run.
 *
 * Polymarket's limits are per 10 s sliding window (Cloudflare). Rather than letting a full window's
 * budget go out as one burst, each key releases small groups: at most `cap` starts in any sliding
 * sub-window of about `perMs × cap / requests` ms (p-queue in strict mode), where `requests / cap`
 * is a whole number, so any window of `perMs` is exactly covered by sub-windows and holds at most
 * `requests` starts, whatever the concurrency. Groups rather than one start every `perMs / requests`
 * ms because a timer never fires early: each release lands a few ms late while the event loop parses
 * a page, and with one start per slot that lateness is lost on every request (measured: 185 of the
 * 200 allowed per 10 s during a run); with groups of 10 it is lost once per group.
 *
 * The server counts arrivals, not our starts: two groups started exactly `perMs` apart can arrive
 * a few ms closer than that, and the server then sees one group too many in its window (measured:
 * 3 429s in 2,107 requests on loopback). Each sub-window is therefore stretched by ARRIVAL_MARGIN,
 * which caps the budget used at 1 / (1 + ARRIVAL_MARGIN) ≈ 0.98 and absorbs up to 200 ms of
 * arrival jitter on a 10 s window.
 */
import PQueue from 'p-queue';

/** `requests` per `perMs` milliseconds. */
export interface RateLimit {
  requests: number;
  perMs: number;
}

/**
 * The key of the Polygon JSON-RPC endpoint `backfill audit` calls (src/chain/rpc-client.ts). Not a Polymarket
 * endpoint, so it has no default among DEFAULT_RATE_LIMITS (the audit supplies its own); `--rate-limit rpc=…` names it.
 */
export const RPC_RATE_LIMIT_KEY = 'rpc';

/**
 * Polymarket's documented limits (docs.polymarket.com/api-reference/rate-limits), and for the v2 routes they do
 * not list, the measured ones (data-api-v2-observed.md, "Measured rate limits"): `/v2/activity` ran clean at
 * 400 per 10 s in its own bucket, so it runs beside the fills without slowing them. The combo feed and
 * resolutions were not measured; they get shares small enough that every Data API key together stays under the
 * documented general 1,000 per 10 s, and they need few requests (one or two per wallet, one per 20 markets).
 */
export const DEFAULT_RATE_LIMITS: Readonly<Record<string, RateLimit>> = Object.freeze({
  'data:trades': { requests: 200, perMs: 10_000 },
  'data:activity': { requests: 400, perMs: 10_000 },
  'data:activity-combos': { requests: 200, perMs: 10_000 },
  'data:resolutions': { requests: 100, perMs: 10_000 },
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

/** Sub-windows per limit window: small groups, spread over the window (see the top of this file). */
const SUB_WINDOWS = 20;
/** Share of the window added to each sub-window for arrival jitter (see the top of this file). */
export const ARRIVAL_MARGIN = 0.02;

/**
 * The largest group size that divides `requests` and leaves at least SUB_WINDOWS groups per window:
 * a whole number of sub-windows per `perMs` is what makes the window bound exact.
 */
export function releaseGroup(limit: RateLimit): { cap: number; interval: number } {
  let cap = 1;
  if (Number.isInteger(limit.requests)) {
    for (let size = Math.floor(limit.requests / SUB_WINDOWS); size > 1; size -= 1) {
      if (limit.requests % size === 0) {
        cap = size;
        break;
      }
    }
  }
  return { cap, interval: (limit.perMs * (1 + ARRIVAL_MARGIN) * cap) / limit.requests };
}

/** One gate per endpoint key. */
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
      const { cap, interval } = releaseGroup(limit);
      queue = new PQueue({ intervalCap: cap, interval, strict: true });
      this.#queues.set(key, queue);
    }
    return queue;
  }
}
