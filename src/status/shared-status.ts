/**
 * Every open tab polls /api/status; on BigQuery each status() call is a billed query. Concurrent
 * requests therefore share one call in flight, and a fresh answer is reused for `minRefreshMs`, so
 * the warehouse sees at most one status query per interval however many tabs are open. Failures are
 * never reused: the next poll tries again.
 */
export function sharedStatus<T>(status: () => Promise<T>, minRefreshMs: number, now: () => number = Date.now): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  let last: { value: T; at: number } | undefined;
  return () => {
    if (last !== undefined && now() - last.at < minRefreshMs) return Promise.resolve(last.value);
    inFlight ??= (async () => {
      try {
        const value = await status();
        last = { value, at: now() };
        return value;
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  };
}
