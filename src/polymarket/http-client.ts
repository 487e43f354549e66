/**
 * JSON GET over undici for the Polymarket APIs: one shared keep-alive Agent, a per-request timeout,
 * a cap on requests in flight per host, the shared rate limiter on every attempt, and bounded retries
 * of transient failures (429, 5xx, network errors, HTML error pages, truncated JSON) that honour
 * Retry-After. Anything else fails at once with a message naming the URL and what came back.
 * Bodies are read as they stream under a byte cap (a body over it is a permanent failure, not a
 * truncation to retry), and every URL that goes into a message or a log line is redacted first.
 */
import { TRANSPORT_RETRY_CLASSES, errorCode } from '../lib/transport-errors.js';
import PQueue from 'p-queue';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { abortReason, sleep as defaultSleep } from '../lib/sleep.js';
import { withRetry } from '../lib/retry.js';
import { RETRY_BUDGETS } from '../lib/retry-budgets.js';
import { BodyDecodeError, BodyTooLargeError, UnsupportedEncodingError, readCappedBody } from './capped-body.js';
import {
  HttpBodyError,
  HttpError,
  HttpNetworkError,
  HttpStatusError,
  ResponseTooLargeError,
  bodySnippet,
  describeApiError,
  describeReceived,
  parseApiErrorBody,
  type RetryClass,
} from './http-errors.js';
import type { RateLimiter } from './rate-limiter.js';
import { redactUrl } from './redact-url.js';
import { DEFAULT_MAX_RESPONSE_BYTES, MAX_MAX_RESPONSE_BYTES, formatBytes } from './source-limits.js';

/** The subset of a pino logger the source uses. */
export interface SourceLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface HttpClientOptions {
  rateLimiter: RateLimiter;
  /** Whole-request budget (connect, headers and body) per attempt. */
  timeoutMs: number;
  /** Attempts per request, the first included. */
  maxAttempts: number;
  /** Requests in flight per host; also the connection pool size per host. */
  maxInFlight: number;
  /** Backoff when the server gives no Retry-After: full jitter over base * 2^(n-1), capped. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Longest Retry-After honoured; longer requests are retried after this long. */
  maxRetryAfterMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  logger?: SourceLogger;
  userAgent?: string;
  /** Clock for HTTP-date Retry-After values. */
  now?: () => number;
  /** Cap on a response body, compressed and decoded alike; default 32 MiB. */
  maxResponseBytes?: number;
}

// The request budget: one table for every layer's retries (lib/retry-budgets.ts).
const DEFAULT_BASE_DELAY_MS = RETRY_BUDGETS.httpRequest.baseDelayMs;
const DEFAULT_MAX_DELAY_MS = RETRY_BUDGETS.httpRequest.maxDelayMs;
const DEFAULT_MAX_RETRY_AFTER_MS = RETRY_BUDGETS.httpRequest.maxServerDelayMs;

/** Of an error response only a snippet is ever shown; more is not worth reading. */
const ERROR_BODY_BYTES = 64 * 1024;

/** Transport error codes worth another attempt (shared with the other HTTP client). */
const TRANSPORT_CODES: Readonly<Record<string, RetryClass>> = TRANSPORT_RETRY_CLASSES;

/**
 * Retry-After as milliseconds: delta-seconds or an HTTP-date (RFC 9110). Undefined when absent or
 * unreadable, so the caller falls back to backoff.
 */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}


function transportDetail(error: unknown): string {
  const code = errorCode(error);
  return `${code ? `${code}: ` : ''}${error instanceof Error ? error.message : String(error)}`;
}

function looksLikeHtml(contentType: string | undefined, text: string): boolean {
  return /html/i.test(contentType ?? '') || /^\s*</.test(text);
}

/** The shared HTTP client; one per source. */
export class HttpClient {
  readonly #options: HttpClientOptions;
  readonly #agent: Agent;
  readonly #hosts = new Map<string, PQueue>();
  readonly #requests: Record<string, number> = {};
  readonly #retries: Record<string, number> = {};
  readonly #retriesByEndpoint: Record<string, number> = {};
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #maxResponseBytes: number;
  #closed = false;

  constructor(options: HttpClientOptions) {
    if (!Number.isInteger(options.maxInFlight) || options.maxInFlight < 1) {
      throw new RangeError(`maxInFlight must be an integer >= 1, got ${String(options.maxInFlight)}`);
    }
    if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) {
      throw new RangeError(`timeoutMs must be a positive number, got ${String(options.timeoutMs)}`);
    }
    const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    if (!Number.isSafeInteger(maxResponseBytes) || maxResponseBytes < 1 || maxResponseBytes > MAX_MAX_RESPONSE_BYTES) {
      throw new RangeError(`maxResponseBytes must be an integer from 1 to ${MAX_MAX_RESPONSE_BYTES}, got ${String(maxResponseBytes)}`);
    }
    this.#maxResponseBytes = maxResponseBytes;
    this.#options = options;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#agent = new Agent({
      // One connection per request allowed in flight: requests never queue inside undici behind a slow one.
      connections: options.maxInFlight,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 120_000,
      // Backstops; the per-attempt timer below is what normally fires.
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: { timeout: Math.min(options.timeoutMs, 15_000) },
    });
  }

  /** Requests sent per endpoint key (every attempt counts). */
  requestCounts(): Record<string, number> {
    return { ...this.#requests };
  }

  /** Retried attempts per retry class. */
  retryCounts(): Record<string, number> {
    return { ...this.#retries };
  }

  /** Retried attempts per endpoint key. */
  retryCountsByEndpoint(): Record<string, number> {
    return { ...this.#retriesByEndpoint };
  }

  /**
   * GETs `url` and returns the parsed JSON body. `endpointKey` selects the rate limit
   * (`data:trades`, `gamma:markets`, `gamma:events`).
   */
  async getJson(url: string | URL, endpointKey: string, signal?: AbortSignal): Promise<unknown> {
    const href = url.toString();
    const shown = redactUrl(href);
    // Fail fast on an unknown key instead of after the first network round trip.
    this.#options.rateLimiter.limitFor(endpointKey);
    const parsed = new URL(href);
    if (parsed.username !== '' || parsed.password !== '') {
      // Base URLs with credentials are refused at configuration; this guards any other caller.
      throw new HttpError(`GET ${shown} refused: the URL carries credentials (user:password@)`, {
        url: shown,
        hint: 'The Polymarket APIs need none; remove them from the URL',
      });
    }
    const maxAttempts = this.#options.maxAttempts;
    return withRetry((attempt) => this.#attempt(href, shown, endpointKey, attempt, signal), {
      attempts: maxAttempts,
      baseDelayMs: this.#options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS,
      maxDelayMs: this.#options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS,
      maxServerDelayMs: this.#options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS,
      deadlineMs: RETRY_BUDGETS.httpRequest.deadlineMs,
      ...(this.#options.now ? { now: this.#options.now } : {}),
      classify: (error) =>
        error instanceof HttpError && error.retryClass !== undefined
          ? { retry: true, delayMs: error.retryAfterMs, label: error.retryClass }
          : { retry: false },
      sleep: this.#sleep,
      random: this.#options.random,
      signal,
      onRetry: ({ attempt, delayMs, error, label }) => {
        const retryClass = label ?? 'other';
        this.#retries[retryClass] = (this.#retries[retryClass] ?? 0) + 1;
        this.#retriesByEndpoint[endpointKey] = (this.#retriesByEndpoint[endpointKey] ?? 0) + 1;
        this.#options.logger?.warn(
          { url: shown, endpoint: endpointKey, attempt, maxAttempts, delayMs, retryClass, err: (error as Error).message },
          `GET ${shown} failed (${retryClass}, attempt ${attempt}/${maxAttempts}): ${(error as Error).message}; retrying in ${delayMs} ms`,
        );
      },
    });
  }

  /** Destroys the agent; requests still running fail. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#agent.destroy();
  }

  async #attempt(
    url: string,
    shown: string,
    endpointKey: string,
    attempt: number,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    if (this.#closed) throw new HttpError(`GET ${shown} refused: the Polymarket client is closed`, { url: shown });
    const host = new URL(url).host;
    let queue = this.#hosts.get(host);
    if (!queue) {
      queue = new PQueue({ concurrency: this.#options.maxInFlight });
      this.#hosts.set(host, queue);
    }
    try {
      // In-flight slot first, rate slot second: a request that got its rate slot is sent at once, so
      // requests released together by the host cap cannot go out as a burst.
      return await queue.add(
        async () => {
          await this.#options.rateLimiter.acquire(endpointKey, signal);
          this.#requests[endpointKey] = (this.#requests[endpointKey] ?? 0) + 1;
          return this.#send(url, shown, attempt, signal);
        },
        { signal },
      );
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      throw error;
    }
  }

  async #send(href: string, url: string, attempt: number, signal: AbortSignal | undefined): Promise<unknown> {
    const { timeoutMs, maxAttempts } = this.#options;
    // From here on `url` is the redacted form: it is the only one that goes into messages and errors.
    const where = `GET ${url} (attempt ${attempt}/${maxAttempts})`;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error(`timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const onAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await request(href, {
        method: 'GET',
        dispatcher: this.#agent,
        signal: controller.signal,
        headers: {
          accept: 'application/json',
          'accept-encoding': 'gzip, deflate, br',
          'user-agent': this.#options.userAgent ?? 'polycopy-backfill/0.1',
        },
      });
      const headers = response.headers;
      const text = await this.#readBody(response, url, where, () => signal?.aborted === true || timedOut);
      const contentType = headerValue(headers, 'content-type');
      return this.#interpret(url, where, response.statusCode, contentType, headers, text);
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      if (error instanceof HttpError) throw error;
      if (timedOut) {
        throw new HttpNetworkError(`${where} timed out after ${timeoutMs} ms`, {
          url,
          retryClass: 'timeout',
          cause: error,
          hint: 'Retried with backoff; if timeouts persist, raise the request timeout or lower the concurrency',
        });
      }
      const code = errorCode(error);
      const retryClass = (code ? TRANSPORT_CODES[code] : undefined) ?? (code?.startsWith('HPE_') ? 'network' : undefined);
      const detail = transportDetail(error);
      if (retryClass || /socket hang up/i.test(detail)) {
        throw new HttpNetworkError(`${where} failed: network error ${detail}`, {
          url,
          retryClass: retryClass ?? 'network',
          cause: error,
          hint: `Retried with backoff; if every attempt fails, check network access to ${new URL(url).origin}`,
        });
      }
      throw new HttpError(`${where} failed: ${detail}`, {
        url,
        cause: error,
        hint: 'This error is not known to be transient, so it is not retried; see the cause',
      });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * The decoded body as text, read under the byte cap. A success body over the cap fails for good;
   * of an error body only the head is read, since only a snippet of it is shown.
   */
  async #readBody(
    response: Dispatcher.ResponseData,
    url: string,
    where: string,
    stopped: () => boolean,
  ): Promise<string> {
    const status = response.statusCode;
    const success = status >= 200 && status < 300;
    const maxBytes = success ? this.#maxResponseBytes : Math.min(this.#maxResponseBytes, ERROR_BODY_BYTES);
    const encoding = headerValue(response.headers, 'content-encoding');
    const lengthText = headerValue(response.headers, 'content-length');
    const declaredLength = lengthText !== undefined && /^\d+$/.test(lengthText.trim()) ? Number(lengthText) : undefined;
    try {
      const { bytes } = await readCappedBody(response.body, { encoding, declaredLength, maxBytes, truncate: !success });
      return bytes.toString('utf8');
    } catch (error) {
      if (error instanceof BodyTooLargeError) throw this.#tooLarge(error, url, where, status, encoding);
      if (error instanceof UnsupportedEncodingError) {
        throw new HttpBodyError(`${where} returned an unsupported content-encoding "${error.encoding}" (HTTP ${status})`, {
          url,
          status,
          hint: 'The client asked for gzip, deflate or br only; report this as an API change',
        });
      }
      if (error instanceof BodyDecodeError) {
        // A compressed body cut short fails to inflate: the same failure as truncated JSON.
        throw new HttpBodyError(
          `${where} returned a ${error.encoding} body that does not decompress (HTTP ${status}, ${error.bytesReceived} bytes): ${(error.cause as Error).message}`,
          { url, status, retryClass: 'truncated', cause: error.cause, hint: 'The connection probably dropped mid-body; retried' },
        );
      }
      if (stopped()) throw error;
      // The status line arrived but the body did not: the same failure as truncated JSON.
      throw new HttpBodyError(`${where} lost the connection while reading the body (HTTP ${status}): ${transportDetail(error)}`, {
        url,
        status,
        retryClass: 'truncated',
        cause: error,
        hint: 'Retried with backoff',
      });
    }
  }

  #tooLarge(error: BodyTooLargeError, url: string, where: string, status: number, encoding: string | undefined): ResponseTooLargeError {
    const cap = `${formatBytes(error.maxBytes)} response cap`;
    const how =
      error.measure === 'content-length'
        ? `its content-length is ${error.declaredLength} bytes; nothing was read`
        : error.measure === 'decompressed'
          ? `its ${(encoding ?? '').trim().toLowerCase()} content inflates past ${error.maxBytes} bytes; stopped decompressing there`
          : `more than ${error.maxBytes} bytes arrived; stopped reading there`;
    return new ResponseTooLargeError(`${where} returned a body over the ${cap} (HTTP ${status}): ${how}`, {
      url,
      status,
      maxBytes: error.maxBytes,
      // No cause: the message already says what the reader found, and a cause would only repeat it.
      hint:
        'Not retried: the same request would send the same body. If the response is legitimate, raise the cap with ' +
        `--max-response-bytes (maxResponseBytes), up to ${formatBytes(MAX_MAX_RESPONSE_BYTES)}`,
    });
  }

  #interpret(
    url: string,
    where: string,
    status: number,
    contentType: string | undefined,
    headers: Record<string, string | string[] | undefined>,
    text: string,
  ): unknown {
    const received = () => describeReceived(contentType, text);
    if (status >= 200 && status < 300) {
      if (looksLikeHtml(contentType, text)) {
        throw new HttpBodyError(`${where} returned an HTML page instead of JSON (HTTP ${status}); ${received()}`, {
          url,
          status,
          retryClass: 'html',
          hint: 'Usually a Cloudflare or proxy error page; retried with backoff',
        });
      }
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        throw new HttpBodyError(
          `${where} returned invalid or truncated JSON (HTTP ${status}, ${Buffer.byteLength(text)} bytes): ${(error as Error).message}; ${received()}`,
          {
            url,
            status,
            retryClass: 'truncated',
            cause: error,
            hint: 'The connection probably dropped mid-body; retried with backoff',
          },
        );
      }
    }
    const retryAfterMs = parseRetryAfter(headerValue(headers, 'retry-after'), (this.#options.now ?? Date.now)());
    const retryAfter = retryAfterMs === undefined ? '' : ` (Retry-After ${retryAfterMs} ms)`;
    const apiError = parseApiErrorBody(text);
    const message = `${where} failed with HTTP ${status}${retryAfter}; ${apiError ? describeApiError(apiError) : received()}`;
    const byStatus: RetryClass | undefined = status === 429 ? '429' : status === 503 ? '503' : status >= 500 && status < 600 ? '5xx' : undefined;
    // The v2 body's flag says whether the request may be retried unchanged: it can stop a retry the
    // status alone would allow, never start one for a 4xx other than 429. Bodies that are not v2
    // errors (a CDN's 429 text, an HTML 502) keep the decision by status.
    if (byStatus !== undefined && apiError?.retryable === false) {
      throw new HttpStatusError(message, {
        url,
        status,
        apiError,
        hint:
          `The Data API marked this failure not retryable (code ${apiError.code}), so it is not retried; ` +
          'if it persists, report it to Polymarket with the trace_id',
      });
    }
    if (byStatus === '429') {
      throw new HttpStatusError(message, {
        url,
        status,
        retryClass: '429',
        retryAfterMs,
        apiError,
        hint: 'Polymarket is rate limiting this client; retried after Retry-After or backoff. If it persists, lower the rate limits or the concurrency',
      });
    }
    if (byStatus !== undefined) {
      throw new HttpStatusError(message, {
        url,
        status,
        retryClass: byStatus,
        retryAfterMs,
        apiError,
        hint: 'Polymarket is unavailable or overloaded; retried with backoff. If it persists, resume the run later',
      });
    }
    throw new HttpStatusError(message, {
      url,
      status,
      apiError,
      hint:
        apiError?.parameter !== undefined
          ? `The Data API rejected the parameter ${bodySnippet(apiError.parameter, 64)} and the request is not retried; this client sends what the ` +
            'Data API v2 document declares, so report it (with the trace_id) as an API change'
          : 'The request was rejected and is not retried; check the ids in the URL and the API documentation for this route',
    });
  }
}
