/**
 * Bounded retry with the policy as data. The caller's classifier decides what is retryable and may
 * dictate a delay (an HTTP Retry-After); otherwise the delay is exponential backoff with full jitter.
 * Sleep and randomness are injectable so tests never wait for real.
 */
import { abortReason, sleep as defaultSleep } from './sleep.js';

export { sleep, abortReason } from './sleep.js';

/** What the classifier says about one failure. */
export interface RetryDecision {
  retry: boolean;
  /** A delay the other side asked for (Retry-After). Used as given, clamped to `maxServerDelayMs`. */
  delayMs?: number;
  /** Error class for logs and counters, e.g. `429` or `network`. */
  label?: string;
}

export interface RetryInfo {
  /** The attempt that just failed (1-based). */
  attempt: number;
  delayMs: number;
  error: unknown;
  label?: string;
}

export interface RetryPolicy {
  /** Total attempts including the first; 1 means no retry. */
  attempts: number;
  /** Backoff ceiling before jitter for attempt 1; grows by `factor` per attempt. */
  baseDelayMs: number;
  /** Cap on the computed backoff. */
  maxDelayMs: number;
  /** Backoff growth per attempt; default 2. */
  factor?: number;
  /**
   * Cap on a classifier-dictated delay; default `maxDelayMs`. A server that asks for longer is retried
   * after the cap, so one absurd Retry-After cannot stall a run for hours; the attempt budget still bounds it.
   */
  maxServerDelayMs?: number;
  classify: (error: unknown) => RetryDecision;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Returns a number in [0, 1); default Math.random. */
  random?: () => number;
  onRetry?: (info: RetryInfo) => void;
  signal?: AbortSignal;
  /**
   * Total budget from the first attempt's start: a retry whose wait would end past it is not made,
   * and the last error is thrown instead (see RETRY_BUDGETS in ./retry-budgets.ts).
   */
  deadlineMs?: number;
  /** Clock for the deadline; default Date.now. */
  now?: () => number;
}

/** The full-jitter backoff for a failed attempt: uniform in [0, min(maxDelayMs, base * factor^(attempt-1))). */
export function backoffDelay(
  attempt: number,
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs' | 'factor' | 'random'>,
): number {
  const factor = policy.factor ?? 2;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * factor ** Math.max(0, attempt - 1));
  const random = policy.random ?? Math.random;
  return Math.max(0, Math.floor(random() * ceiling));
}

/**
 * Runs `fn` until it succeeds, the classifier says stop, the attempts or the deadline run out, or the
 * signal aborts.
 * The error thrown is the last one, untouched, so its message and cause chain survive.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy): Promise<T> {
  if (!Number.isInteger(policy.attempts) || policy.attempts < 1) {
    throw new RangeError(`retry policy: attempts must be an integer >= 1, got ${String(policy.attempts)}`);
  }
  const sleepFn = policy.sleep ?? defaultSleep;
  const { signal } = policy;
  const now = policy.now ?? Date.now;
  const startedAt = now();
  for (let attempt = 1; ; attempt += 1) {
    if (signal?.aborted) throw abortReason(signal);
    try {
      return await fn(attempt);
    } catch (error) {
      // An abort is the caller's decision, never a transient failure.
      if (signal?.aborted || attempt >= policy.attempts) throw error;
      const decision = policy.classify(error);
      if (!decision.retry) throw error;
      const delayMs =
        decision.delayMs !== undefined && Number.isFinite(decision.delayMs)
          ? Math.min(Math.max(0, decision.delayMs), policy.maxServerDelayMs ?? policy.maxDelayMs)
          : backoffDelay(attempt, policy);
      if (policy.deadlineMs !== undefined && now() - startedAt + delayMs > policy.deadlineMs) throw error;
      policy.onRetry?.({ attempt, delayMs, error, label: decision.label });
      await sleepFn(delayMs, signal);
    }
  }
}
