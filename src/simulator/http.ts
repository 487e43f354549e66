/** Small helpers shared by the simulator's routes. */

/** A response to send, built before anything touches the socket so that faults can replace or cut it. */
export interface SimResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Data rows in the body, for the rows-served statistics. */
  rows?: number;
}

export function json(status: number, value: unknown, headers: Record<string, string> = {}): SimResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(value),
  };
}

/** The Data API v2 error body, `{error, code, retryable, trace_id, parameter?}`. */
export function v2Error(
  status: number,
  code: string,
  error: string,
  traceId: string,
  extra: { parameter?: string; retryAfter?: number } = {},
): SimResponse {
  const body: Record<string, unknown> = { error, code, retryable: status === 429 || status >= 500, trace_id: traceId };
  if (extra.parameter !== undefined) body.parameter = extra.parameter;
  const headers: Record<string, string> = { 'x-trace-id': traceId };
  if (extra.retryAfter !== undefined) headers['retry-after'] = String(extra.retryAfter);
  return json(status, body, headers);
}

/** Gamma's error body, `{type, error}`. */
export function gammaError(status: number, error: string): SimResponse {
  return json(status, { type: 'validation error', error });
}

const camelCase = (name: string): string => name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());

/**
 * The first query parameter that is not one of `documented` (snake_case names; v2 "Params accept both
 * snake_case and camelCase spellings"), or undefined. The v2 routes answer an unknown one with a 400
 * instead of ignoring it, so a misspelt filter never silently widens what is served.
 */
export function unknownParameter(query: URLSearchParams, documented: readonly string[]): string | undefined {
  const known = new Set(documented.flatMap((name) => [name, camelCase(name)]));
  for (const name of query.keys()) if (!known.has(name)) return name;
  return undefined;
}

/** First value among the parameter's accepted spellings (v2 takes snake_case and camelCase alike). */
export function param(query: URLSearchParams, ...names: string[]): string | null {
  for (const name of names) {
    const value = query.get(name);
    if (value !== null) return value;
  }
  return null;
}

/** Every value of a repeated list parameter, also split on commas, blanks dropped. */
export function listParam(query: URLSearchParams, ...names: string[]): string[] {
  const out: string[] = [];
  for (const name of names) {
    for (const value of query.getAll(name)) {
      for (const part of value.split(',')) {
        const trimmed = part.trim();
        if (trimmed !== '') out.push(trimmed);
      }
    }
  }
  return out;
}

/** "true"/"false"/"1"/"0" (any case); null when absent; undefined when unreadable. */
export function parseBool(value: string | null): boolean | null | undefined {
  if (value === null) return null;
  const lower = value.trim().toLowerCase();
  if (lower === 'true' || lower === '1') return true;
  if (lower === 'false' || lower === '0') return false;
  return undefined;
}

/** A non-negative integer; null when absent; undefined when unreadable. */
export function parseNonNegativeInt(value: string | null): number | null | undefined {
  if (value === null) return null;
  const trimmed = value.trim();
  if (!/^\d{1,15}$/.test(trimmed)) return undefined;
  return Number(trimmed);
}

/** Index of the first k in [0, n) where `pred(k)` holds, for a predicate that is false then true; n if none. */
export function firstIndex(n: number, pred: (k: number) => boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
