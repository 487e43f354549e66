/** Fault injection: which fault a request gets, and what each one looks like on the wire. */
import type { SimResponse } from './http.js';
import { v2Error } from './http.js';
import type { FaultRates } from './types.js';

export type FaultKind = keyof FaultRates;

/** Every fault kind, in the order rates are applied. */
export const FAULT_KINDS: readonly FaultKind[] = [
  'rateLimitedWithRetryAfter',
  'rateLimitedWithoutRetryAfter',
  'unavailable',
  'serverError',
  'htmlErrorPage',
  'truncatedJson',
  'connectionReset',
];

export function checkFaultRates(faults: FaultRates): FaultRates {
  for (const [key, rate] of Object.entries(faults)) {
    if (!FAULT_KINDS.includes(key as FaultKind)) {
      throw new RangeError(`unknown fault "${key}"; valid faults: ${FAULT_KINDS.join(', ')}`);
    }
    if (rate !== undefined && (typeof rate !== 'number' || !(rate >= 0 && rate <= 1))) {
      throw new RangeError(`fault rate ${key}=${String(rate)} must be a number between 0 and 1`);
    }
  }
  return { ...faults };
}

/** The fault for a uniform draw `u`, or undefined: kinds take consecutive slices of [0, 1). */
export function pickFault(faults: FaultRates, u: number): FaultKind | undefined {
  let edge = 0;
  for (const kind of FAULT_KINDS) {
    const rate = faults[kind] ?? 0;
    if (rate <= 0) continue;
    edge += rate;
    if (u < edge) return kind;
  }
  return undefined;
}

const BAD_GATEWAY_PAGE = `<!DOCTYPE html>
<html lang="en-US">
<head><title>polymarket.com | 502: Bad gateway</title>
<meta charset="UTF-8" /><meta name="robots" content="noindex, nofollow" /></head>
<body>
<div id="cf-wrapper">
<h1><span class="cf-error-type">Bad gateway</span> <span class="cf-error-code">Error code 502</span></h1>
<p>The web server reported a bad gateway error.</p>
<p>Cloudflare Ray ID: <strong>RAYID</strong></p>
</div>
</body>
</html>
`;

/** The canned response of a fault that replaces the real one (not `truncatedJson` or `connectionReset`). */
export function faultResponse(kind: FaultKind, traceId: string, retryAfterSeconds: number): SimResponse {
  switch (kind) {
    case 'rateLimitedWithRetryAfter':
      return v2Error(429, 'rate_limited', 'too many requests, retry later', traceId, {
        retryAfter: retryAfterSeconds,
      });
    case 'rateLimitedWithoutRetryAfter':
      return { status: 429, headers: { 'content-type': 'text/plain; charset=UTF-8' }, body: 'error code: 1015' };
    case 'unavailable':
      return v2Error(503, 'request_timeout', 'timed out waiting for a database connection', traceId, {
        retryAfter: retryAfterSeconds,
      });
    case 'serverError':
      return v2Error(500, 'internal', 'internal server error', traceId);
    case 'htmlErrorPage':
      return {
        status: 502,
        headers: { 'content-type': 'text/html; charset=UTF-8' },
        body: BAD_GATEWAY_PAGE.replace('RAYID', traceId.slice(0, 16)),
      };
    case 'truncatedJson':
    case 'connectionReset':
      throw new Error(`fault ${kind} has no canned response`);
  }
}

/** Sliding-window limiter: at most `requests` admitted requests in any `perMs` window. */
export class SlidingWindow {
  readonly #requests: number;
  readonly #perMs: number;
  readonly #admitted: number[] = [];

  constructor(limit: { requests: number; perMs: number }) {
    if (!Number.isInteger(limit.requests) || limit.requests < 1 || !(limit.perMs > 0)) {
      throw new RangeError(`rate limit must be a positive request count per positive ms, got ${JSON.stringify(limit)}`);
    }
    this.#requests = limit.requests;
    this.#perMs = limit.perMs;
  }

  /** Admits the request (undefined) or returns how many ms until a slot frees up. */
  admit(nowMs: number): number | undefined {
    while (this.#admitted.length > 0 && (this.#admitted[0] ?? 0) <= nowMs - this.#perMs) this.#admitted.shift();
    if (this.#admitted.length >= this.#requests) {
      return (this.#admitted[0] ?? nowMs) + this.#perMs - nowMs;
    }
    this.#admitted.push(nowMs);
    return undefined;
  }
}
