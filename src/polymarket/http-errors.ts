/**
 * Errors of the Polymarket HTTP layer. Each names the request (method, path and query, redacted), the
 * status, a short sanitised snippet of what came back, and what the operator can do. Retryable ones
 * carry their retry class, which the client's classifier and the retry counters use.
 */
import { BackfillError } from '../lib/errors.js';

/** Retry classes, as counted in `SourceStats.retries`. */
export type RetryClass = '429' | '503' | '5xx' | 'network' | 'html' | 'truncated' | 'timeout';

/** Failures that say the service is down or throttling us, as opposed to one wallet's data being bad. */
export const OUTAGE_CLASSES: ReadonlySet<RetryClass> = new Set(['429', '503', '5xx', 'network', 'timeout', 'html']);

export interface HttpErrorOptions {
  /** The request URL, already redacted (see redactUrl). */
  url: string;
  status?: number;
  /** Set when the failure is transient and worth another attempt. */
  retryClass?: RetryClass;
  /** A delay the server asked for (Retry-After), in ms. */
  retryAfterMs?: number;
  cause?: unknown;
  hint?: string;
}

/** Base of every HTTP-layer failure. */
export class HttpError extends BackfillError {
  readonly url: string;
  readonly status: number | undefined;
  readonly retryClass: RetryClass | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: HttpErrorOptions) {
    // Still failing after the client's retries: an outage class says the API is unavailable (transient
    // for the wallet); anything else is about this request.
    const outage = options.retryClass !== undefined && OUTAGE_CLASSES.has(options.retryClass);
    super(message, { cause: options.cause, hint: options.hint, kind: outage ? 'transient' : 'permanent' });
    this.url = options.url;
    this.status = options.status;
    this.retryClass = options.retryClass;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * The Data API v2 error body (its document's Conventions: every unsuccessful response is JSON with a
 * human-readable `error`, a stable `code`, a `retryable` flag and an opaque `trace_id`; validation
 * failures may also name `parameter`).
 */
export interface ApiErrorBody {
  code: string;
  error: string;
  retryable: boolean;
  traceId: string | undefined;
  parameter: string | undefined;
}

/**
 * The v2 error body in `text`, or undefined when the body is not one: Gamma's `{type, error}`, an
 * HTML page or a CDN's plain text keep the handling by status alone.
 */
export function parseApiErrorBody(text: string): ApiErrorBody | undefined {
  if (!/^\s*\{/.test(text)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const body = value as Record<string, unknown>;
  if (typeof body.code !== 'string' || typeof body.error !== 'string' || typeof body.retryable !== 'boolean') return undefined;
  return {
    code: body.code,
    error: body.error,
    retryable: body.retryable,
    traceId: typeof body.trace_id === 'string' ? body.trace_id : undefined,
    parameter: typeof body.parameter === 'string' ? body.parameter : undefined,
  };
}

/** `"filter_amount must be >= 0.01" (code "invalid_request", parameter "filter_amount", trace_id "9f2c")`, for a message. */
export function describeApiError(body: ApiErrorBody): string {
  // Every part is the server's text: each goes through bodySnippet, which flattens and caps it.
  const parts = [`code ${bodySnippet(body.code, 64)}`];
  if (body.parameter !== undefined) parts.push(`parameter ${bodySnippet(body.parameter, 64)}`);
  if (body.traceId !== undefined) parts.push(`trace_id ${bodySnippet(body.traceId, 64)}`);
  return `${bodySnippet(body.error)} (${parts.join(', ')})`;
}

/** A non-2xx response; `apiError` is its Data API v2 error body when it has one. */
export class HttpStatusError extends HttpError {
  readonly apiError: ApiErrorBody | undefined;
  constructor(message: string, options: HttpErrorOptions & { apiError?: ApiErrorBody }) {
    super(message, options);
    this.apiError = options.apiError;
  }
}

/** A 2xx response whose body is not usable JSON (an HTML error page, a truncated body). */
export class HttpBodyError extends HttpError {}

/**
 * A response body over the client's byte cap, found while it streamed (or from its content-length).
 * Permanent: the same request would send the same body again, and holding it is what the cap forbids.
 */
export class ResponseTooLargeError extends HttpBodyError {
  readonly maxBytes: number;
  constructor(message: string, options: HttpErrorOptions & { maxBytes: number }) {
    super(message, options);
    this.maxBytes = options.maxBytes;
  }
}

/** The request never got a complete response: connection reset, refused, timed out. */
export class HttpNetworkError extends HttpError {}

/** Valid JSON that does not have the documented shape; retrying will not help. */
export class UnexpectedResponseError extends BackfillError {}

/** The Data API's cursor walk misbehaved (a repeated cursor, `has_more` without a cursor). */
export class PaginationError extends BackfillError {}

const SNIPPET_CHARS = 160;

/** A one-line, length-capped rendering of a response body, safe to put in logs. */
export function bodySnippet(text: string, maxChars = SNIPPET_CHARS): string {
  // Only the head is ever shown; flattening a whole 400 KB page per response would cost more than parsing it.
  // Control characters and runs of whitespace would break one-line logs; the rest is kept so a page title stays readable.
  // eslint-disable-next-line no-control-regex
  const flat = text.slice(0, maxChars * 4).replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  if (flat.length === 0) return '(empty body)';
  return flat.length > maxChars || text.length > maxChars * 4 ? `"${flat.slice(0, maxChars)}…"` : `"${flat}"`;
}

/** `received text/html: "<html>…"` — what came back, for an error message. */
export function describeReceived(contentType: string | undefined, text: string): string {
  const type = (contentType ?? '').split(';')[0]?.trim() || 'no content-type';
  return `received ${type}: ${bodySnippet(text)}`;
}
