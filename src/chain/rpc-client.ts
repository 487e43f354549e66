/**
 * A Polygon JSON-RPC client for the chain audit: JSON-RPC 2.0 over undici POST, with the project's
 * rate limiter (key `rpc`) on every attempt, a per-attempt timeout, a cap on requests in flight, and
 * bounded retries of transient failures (429 honouring Retry-After, 5xx, network errors, a
 * provider's rate-limit or internal JSON-RPC error) under RETRY_BUDGETS.rpcRequest.
 *
 * `walkLogs` walks `eth_getLogs` over a block range with an adaptive window (log-window.ts) and
 * yields each completed range with its logs, in block order, so the caller can record "done up to
 * block B" and a later walk can start at B + 1. The span ceiling one walk learns is kept for the
 * next walks of this client: a provider's cap is met once per run, not once per wallet.
 */
import { TRANSPORT_RETRY_CLASSES, errorCode } from '../lib/transport-errors.js';
import PQueue from 'p-queue';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { withRetry } from '../lib/retry.js';
import { RETRY_BUDGETS } from '../lib/retry-budgets.js';
import { abortReason, sleep as defaultSleep } from '../lib/sleep.js';
import { BodyTooLargeError, readCappedBody } from '../polymarket/capped-body.js';
import type { SourceLogger } from '../polymarket/http-client.js';
import { parseRetryAfter } from '../polymarket/http-client.js';
import { bodySnippet } from '../polymarket/http-errors.js';
import { RPC_RATE_LIMIT_KEY } from '../polymarket/rate-limiter.js';
import type { RateLimit, RateLimiter } from '../polymarket/rate-limiter.js';
import { formatBytes } from '../polymarket/source-limits.js';
import type { LogFilter } from './exchanges.js';
import { AdaptiveWindow } from './log-window.js';
import type { SpanKnowledge, WindowOptions } from './log-window.js';
import type { RpcLog } from './order-filled.js';
import { RpcError, RpcRangeError, RpcResponseError, readRpcError, redactRpcUrl } from './rpc-errors.js';
import type { JsonRpcErrorBody, RpcRetryClass } from './rpc-errors.js';

/** The rate limiter's key for every RPC call (`--rate-limit rpc=…`). */
export { RPC_RATE_LIMIT_KEY };

/**
 * 50 calls per 10 s: under the free tiers of the common Polygon providers (an `eth_getLogs` costs 75
 * compute units at Alchemy, whose free tier grants about 330 per second). Paid plans allow far more.
 */
export const DEFAULT_RPC_RATE_LIMIT: RateLimit = { requests: 50, perMs: 10_000 };

export const DEFAULT_RPC_TIMEOUT_MS = 30_000;
export const DEFAULT_RPC_MAX_IN_FLIGHT = 4;
/** 10,000 logs of about 1 KB each is 10 MB; four times that leaves room for verbose providers. */
export const DEFAULT_RPC_MAX_RESPONSE_BYTES = 64 * 2 ** 20;

export interface RpcClientOptions {
  /** The provider's HTTP(S) endpoint; it may carry an API key (never shown). */
  url: string;
  /** Must have a limit for RPC_RATE_LIMIT_KEY (e.g. `new RateLimiter({ rpc: DEFAULT_RPC_RATE_LIMIT })`). */
  rateLimiter: RateLimiter;
  timeoutMs?: number;
  /** Attempts per call, the first included. Default RETRY_BUDGETS.rpcRequest.attempts. */
  maxAttempts?: number;
  maxInFlight?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  maxRetryAfterMs?: number;
  maxResponseBytes?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  now?: () => number;
  logger?: SourceLogger;
  userAgent?: string;
}

/** One completed range of a walk: every matching log of blocks fromBlock..toBlock (inclusive), in block and log order. */
export interface LogRange {
  fromBlock: number;
  toBlock: number;
  logs: RpcLog[];
  /** `eth_getLogs` requests this range cost: refused wider ranges before it and retried attempts included. */
  requests: number;
}

/** Requests sent on behalf of one caller (the client's own counters are shared by every caller). */
interface Tally {
  requests: number;
}

export interface WalkOptions {
  signal?: AbortSignal;
  window?: WindowOptions;
}

/** Transport error codes worth another attempt (shared with the other HTTP client). */
const TRANSPORT_CODES: Readonly<Record<string, RpcRetryClass>> = TRANSPORT_RETRY_CLASSES;

const hexQuantity = z.string().regex(/^0x[0-9a-fA-F]+$/, 'expected a hex quantity');
const hexData = z.string().regex(/^0x([0-9a-fA-F]{2})*$/, 'expected hex data');
const hash32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected 32 bytes of hex');

const logSchema = z.looseObject({
  address: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'expected an address'),
  topics: z.array(hash32).max(4),
  data: hexData,
  blockNumber: hexQuantity,
  transactionHash: hash32,
  logIndex: hexQuantity,
  transactionIndex: hexQuantity.optional(),
  blockHash: hash32.optional(),
  blockTimestamp: hexQuantity.optional(),
  removed: z.boolean().optional(),
});

const envelopeSchema = z.looseObject({
  id: z.union([z.number(), z.string(), z.null()]).optional(),
  result: z.unknown().optional(),
  error: z
    .looseObject({ code: z.number(), message: z.string(), data: z.unknown().optional() })
    .optional(),
});

const blockSchema = z.looseObject({ number: hexQuantity, timestamp: hexQuantity });

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function quantityOf(text: string): number {
  return Number.parseInt(text.slice(2), 16);
}


function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function checkBlock(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a block number (a whole number >= 0), got ${String(value)}`);
  return value;
}

export class RpcClient {
  readonly #options: RpcClientOptions;
  readonly #url: string;
  readonly #shown: string;
  readonly #agent: Agent;
  readonly #queue: PQueue;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #maxAttempts: number;
  readonly #timeoutMs: number;
  readonly #maxResponseBytes: number;
  readonly #requests: Record<string, number> = {};
  readonly #retries: Record<string, number> = {};
  readonly #timestamps = new Map<number, Promise<number>>();
  #rangeRefusals = 0;
  #nextId = 1;
  #span: SpanKnowledge | undefined;
  #closed = false;

  constructor(options: RpcClientOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch (error) {
      throw new RangeError(`RPC URL ${redactRpcUrl(options.url)} is not a URL: ${(error as Error).message}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new RangeError(`RPC URL ${redactRpcUrl(options.url)} must be http(s); WebSocket endpoints are not supported`);
    }
    // Fail at construction rather than on the first call of a long audit.
    options.rateLimiter.limitFor(RPC_RATE_LIMIT_KEY);
    const maxInFlight = options.maxInFlight ?? DEFAULT_RPC_MAX_IN_FLIGHT;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError(`maxInFlight must be an integer >= 1, got ${String(maxInFlight)}`);
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
    if (!(this.#timeoutMs > 0)) throw new RangeError(`timeoutMs must be a positive number, got ${String(this.#timeoutMs)}`);
    this.#maxAttempts = options.maxAttempts ?? RETRY_BUDGETS.rpcRequest.attempts;
    this.#maxResponseBytes = options.maxResponseBytes ?? DEFAULT_RPC_MAX_RESPONSE_BYTES;
    this.#options = options;
    this.#url = options.url;
    this.#shown = redactRpcUrl(options.url);
    this.#sleep = options.sleep ?? defaultSleep;
    this.#queue = new PQueue({ concurrency: maxInFlight });
    this.#agent = new Agent({
      connections: maxInFlight,
      keepAliveTimeout: 30_000,
      headersTimeout: this.#timeoutMs,
      bodyTimeout: this.#timeoutMs,
      connect: { timeout: Math.min(this.#timeoutMs, 15_000) },
    });
  }

  /** Requests sent in all (every attempt counts). */
  requestCount(): number {
    return Object.values(this.#requests).reduce((sum, n) => sum + n, 0);
  }

  /** Requests sent per JSON-RPC method. */
  requestCounts(): Record<string, number> {
    return { ...this.#requests };
  }

  /** Retried attempts per retry class. */
  retryCounts(): Record<string, number> {
    return { ...this.#retries };
  }

  /** `eth_getLogs` requests the provider refused for their span or result count (each made the window smaller). */
  rangeRefusals(): number {
    return this.#rangeRefusals;
  }

  /** The widest span the provider may serve as learnt so far (one under the narrowest it refused), if it refused one. */
  spanCeiling(): number | undefined {
    return this.#span ? this.#span.refused - 1 : undefined;
  }

  /** One JSON-RPC call with retries; returns `result`. Throws RpcRangeError, RpcResponseError or RpcError. */
  async call(method: string, params: readonly unknown[], signal?: AbortSignal): Promise<unknown> {
    return this.#call(method, params, signal);
  }

  async #call(method: string, params: readonly unknown[], signal?: AbortSignal, tally?: Tally): Promise<unknown> {
    return withRetry((attempt) => this.#attempt(method, params, attempt, signal, tally), {
      attempts: this.#maxAttempts,
      baseDelayMs: this.#options.baseDelayMs ?? RETRY_BUDGETS.rpcRequest.baseDelayMs,
      maxDelayMs: this.#options.maxDelayMs ?? RETRY_BUDGETS.rpcRequest.maxDelayMs,
      maxServerDelayMs: this.#options.maxRetryAfterMs ?? RETRY_BUDGETS.rpcRequest.maxServerDelayMs,
      deadlineMs: RETRY_BUDGETS.rpcRequest.deadlineMs,
      ...(this.#options.now ? { now: this.#options.now } : {}),
      classify: (error) =>
        error instanceof RpcError && error.retryClass !== undefined && !(error instanceof RpcRangeError)
          ? { retry: true, delayMs: error.retryAfterMs, label: error.retryClass }
          : { retry: false },
      sleep: this.#sleep,
      random: this.#options.random,
      signal,
      onRetry: ({ attempt, delayMs, error, label }) => {
        const retryClass = label ?? 'other';
        this.#retries[retryClass] = (this.#retries[retryClass] ?? 0) + 1;
        this.#options.logger?.warn(
          { url: this.#shown, method, attempt, maxAttempts: this.#maxAttempts, delayMs, retryClass, err: (error as Error).message },
          `${method} at ${this.#shown} failed (${retryClass}, attempt ${attempt}/${this.#maxAttempts}): ${(error as Error).message}; retrying in ${delayMs} ms`,
        );
      },
    });
  }

  /** The chain head (`eth_blockNumber`). */
  async blockNumber(signal?: AbortSignal): Promise<number> {
    const result = await this.call('eth_blockNumber', [], signal);
    const parsed = hexQuantity.safeParse(result);
    if (!parsed.success) throw this.#unexpected('eth_blockNumber', 'a hex block number', result);
    return quantityOf(parsed.data);
  }

  /** A block's time, epoch seconds (`eth_getBlockByNumber`); asked once per block for the client's life. */
  async blockTimestamp(block: number, signal?: AbortSignal): Promise<number> {
    checkBlock('block', block);
    let pending = this.#timestamps.get(block);
    if (!pending) {
      pending = this.#fetchTimestamp(block, signal);
      this.#timestamps.set(block, pending);
      // A failed look-up is not remembered: the next caller asks again.
      pending.catch(() => this.#timestamps.delete(block));
    }
    return pending;
  }

  async #fetchTimestamp(block: number, signal?: AbortSignal): Promise<number> {
    const result = await this.call('eth_getBlockByNumber', [hex(block), false], signal);
    if (result === null) {
      throw new RpcResponseError(`eth_getBlockByNumber ${block} at ${this.#shown} returned null: the provider does not have that block`, {
        url: this.#shown,
        method: 'eth_getBlockByNumber',
        hint: 'Audit up to a block the provider has (at most its eth_blockNumber)',
      });
    }
    const parsed = blockSchema.safeParse(result);
    if (!parsed.success) throw this.#unexpected('eth_getBlockByNumber', 'a block with number and timestamp', result);
    return quantityOf(parsed.data.timestamp);
  }

  /** One `eth_getLogs` request (with retries) over blocks fromBlock..toBlock; throws RpcRangeError when the provider caps it. */
  async getLogs(filter: LogFilter, fromBlock: number, toBlock: number, signal?: AbortSignal): Promise<RpcLog[]> {
    return this.#getLogs(filter, fromBlock, toBlock, signal);
  }

  async #getLogs(filter: LogFilter, fromBlock: number, toBlock: number, signal?: AbortSignal, tally?: Tally): Promise<RpcLog[]> {
    const params = [{ address: filter.address, topics: filter.topics, fromBlock: hex(fromBlock), toBlock: hex(toBlock) }];
    const result = await this.#call('eth_getLogs', params, signal, tally);
    if (!Array.isArray(result)) throw this.#unexpected('eth_getLogs', 'an array of logs', result);
    const logs: RpcLog[] = [];
    for (const [index, item] of result.entries()) {
      const parsed = logSchema.safeParse(item);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw this.#unexpected('eth_getLogs', `logs; item ${index} field ${issue?.path.join('.') ?? '?'}: ${issue?.message ?? 'invalid'}`, item);
      }
      const block = quantityOf(parsed.data.blockNumber);
      // A log outside the range would be recorded under the wrong checkpoint, or twice.
      if (block < fromBlock || block > toBlock) {
        throw new RpcResponseError(
          `eth_getLogs ${fromBlock}..${toBlock} at ${this.#shown} returned a log of block ${block}, outside the range asked for`,
          { url: this.#shown, method: 'eth_getLogs', hint: 'The provider does not honour fromBlock/toBlock; use another provider' },
        );
      }
      logs.push(parsed.data as RpcLog);
    }
    logs.sort((a, b) => quantityOf(a.blockNumber) - quantityOf(b.blockNumber) || quantityOf(a.logIndex) - quantityOf(b.logIndex));
    return logs;
  }

  /**
   * Walks blocks fromBlock..toBlock in consecutive ranges and yields each as it completes; every log of
   * the range is in it exactly once. Logs a reorganisation removed (`removed: true`) are left out. A cap
   * error at a one-block range fails the walk: no request the provider serves can hold that block.
   */
  async *walkLogs(filter: LogFilter, range: { fromBlock: number; toBlock: number }, options: WalkOptions = {}): AsyncGenerator<LogRange> {
    const fromBlock = checkBlock('fromBlock', range.fromBlock);
    const toBlock = checkBlock('toBlock', range.toBlock);
    const { signal } = options;
    const window = new AdaptiveWindow(options.window, this.#span);
    let start = fromBlock;
    let tally: Tally = { requests: 0 };
    while (start <= toBlock) {
      if (signal?.aborted) throw abortReason(signal);
      const end = Math.min(toBlock, start + window.size - 1);
      const span = end - start + 1;
      let logs: RpcLog[];
      try {
        logs = await this.#getLogs(filter, start, end, signal, tally);
      } catch (error) {
        if (!(error instanceof RpcRangeError)) throw error;
        this.#rangeRefusals += 1;
        if (!window.failed(span, error.cap, error.suggestedSpan)) {
          throw new RpcRangeError(`eth_getLogs refused even the one-block range ${start} at ${this.#shown}: ${error.message}`, {
            url: this.#shown,
            method: 'eth_getLogs',
            cap: error.cap,
            cause: error,
            hint: 'That block holds more matching logs than the provider returns at once; use a provider with a higher result cap',
          });
        }
        if (error.cap === 'span') this.#span = window.knowledge();
        this.#options.logger?.debug({ fromBlock: start, toBlock: end, cap: error.cap, nextSpan: window.size }, `eth_getLogs range of ${span} blocks refused; asking for ${window.size}`);
        continue;
      }
      window.succeeded(span);
      if (this.#span) this.#span = window.knowledge();
      const requests = tally.requests;
      tally = { requests: 0 };
      yield { fromBlock: start, toBlock: end, logs: logs.filter((log) => log.removed !== true), requests };
      start = end + 1;
    }
  }

  /** Destroys the connection pool; calls still running fail. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#agent.destroy();
  }

  async #attempt(method: string, params: readonly unknown[], attempt: number, signal: AbortSignal | undefined, tally: Tally | undefined): Promise<unknown> {
    if (this.#closed) throw new RpcError(`${method} at ${this.#shown} refused: the RPC client is closed`, { url: this.#shown, method });
    try {
      return await this.#queue.add(
        async () => {
          await this.#options.rateLimiter.acquire(RPC_RATE_LIMIT_KEY, signal);
          this.#requests[method] = (this.#requests[method] ?? 0) + 1;
          if (tally) tally.requests += 1;
          return this.#send(method, params, attempt, signal);
        },
        { signal },
      );
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      throw error;
    }
  }

  async #send(method: string, params: readonly unknown[], attempt: number, signal: AbortSignal | undefined): Promise<unknown> {
    const id = this.#nextId++;
    const where = `${method} at ${this.#shown} (attempt ${attempt}/${this.#maxAttempts})`;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error(`timed out after ${this.#timeoutMs} ms`));
    }, this.#timeoutMs);
    const onAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await request(this.#url, {
        method: 'POST',
        dispatcher: this.#agent,
        signal: controller.signal,
        body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'accept-encoding': 'gzip, deflate, br',
          'user-agent': this.#options.userAgent ?? 'polycopy-backfill/0.1',
        },
      });
      const text = await this.#readBody(response, method, where);
      return this.#interpret(method, where, id, response.statusCode, response.headers, text);
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      if (error instanceof RpcError) throw error;
      const retryClass: RpcRetryClass | undefined = timedOut ? 'timeout' : TRANSPORT_CODES[errorCode(error) ?? ''];
      const detail = `${errorCode(error) ? `${errorCode(error)}: ` : ''}${(error as Error).message}`;
      if (retryClass || /socket hang up|other side closed/i.test(detail)) {
        throw new RpcError(timedOut ? `${where} timed out after ${this.#timeoutMs} ms` : `${where} failed: network error ${detail}`, {
          url: this.#shown,
          method,
          retryClass: retryClass ?? 'network',
          cause: error,
          hint: `Retried with backoff; if every attempt fails, check network access to ${this.#shown}`,
        });
      }
      throw new RpcError(`${where} failed: ${detail}`, { url: this.#shown, method, cause: error, hint: 'Not known to be transient, so not retried; see the cause' });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async #readBody(response: Dispatcher.ResponseData, method: string, where: string): Promise<string> {
    const encoding = headerValue(response.headers, 'content-encoding');
    const lengthText = headerValue(response.headers, 'content-length');
    const declaredLength = lengthText !== undefined && /^\d+$/.test(lengthText.trim()) ? Number(lengthText) : undefined;
    try {
      const { bytes } = await readCappedBody(response.body, { encoding, declaredLength, maxBytes: this.#maxResponseBytes });
      return bytes.toString('utf8');
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        // Too many logs in one answer is what a result cap is for: a smaller range is the remedy.
        throw new RpcRangeError(`${where} returned a body over the ${formatBytes(error.maxBytes)} response cap`, {
          url: this.#shown,
          method,
          status: response.statusCode,
          cap: 'results',
        });
      }
      throw new RpcError(`${where} lost the connection while reading the body (HTTP ${response.statusCode}): ${(error as Error).message}`, {
        url: this.#shown,
        method,
        status: response.statusCode,
        retryClass: 'truncated',
        cause: error,
        hint: 'Retried with backoff',
      });
    }
  }

  #interpret(
    method: string,
    where: string,
    id: number,
    status: number,
    headers: Record<string, string | string[] | undefined>,
    text: string,
  ): unknown {
    const base = { url: this.#shown, method, status };
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const envelope = body === undefined ? undefined : envelopeSchema.safeParse(body);
    const rpcError: JsonRpcErrorBody | undefined = envelope?.success ? envelope.data.error : undefined;
    // A JSON-RPC error decides, whatever the status: some providers send their caps as HTTP 400.
    if (rpcError) return this.#rpcFailure(method, where, status, headers, rpcError);

    if (status === 429 || (status >= 500 && status < 600)) {
      const retryAfterMs = parseRetryAfter(headerValue(headers, 'retry-after'), (this.#options.now ?? Date.now)());
      throw new RpcError(`${where} failed with HTTP ${status}: ${bodySnippet(text)}`, {
        ...base,
        retryClass: status === 429 ? '429' : '5xx',
        retryAfterMs,
        hint: status === 429 ? 'The provider is rate limiting; retried. If it persists, lower --rate-limit rpc' : 'The provider is unavailable; retried with backoff',
      });
    }
    if (status < 200 || status >= 300) {
      throw new RpcError(`${where} failed with HTTP ${status}: ${bodySnippet(text)}`, {
        ...base,
        hint: status === 401 || status === 403 ? 'The provider refused the credentials in the RPC URL; check its API key' : 'Not retried; check the RPC URL',
      });
    }
    if (body === undefined) {
      const html = /^\s*</.test(text);
      throw new RpcError(`${where} returned ${html ? 'an HTML page' : 'invalid or truncated JSON'} (HTTP ${status}): ${bodySnippet(text)}`, {
        ...base,
        retryClass: html ? 'html' : 'truncated',
        hint: 'Retried with backoff',
      });
    }
    if (!envelope?.success || !('result' in envelope.data)) {
      throw this.#unexpected(method, 'a JSON-RPC response with a result or an error', body);
    }
    if (envelope.data.id !== undefined && envelope.data.id !== null && envelope.data.id !== id && envelope.data.id !== String(id)) {
      throw new RpcResponseError(`${where} answered request id ${String(envelope.data.id)}, not ${id}`, {
        ...base,
        hint: 'A proxy in front of the provider mixes up answers; use the provider directly',
      });
    }
    return envelope.data.result;
  }

  #rpcFailure(method: string, where: string, status: number, headers: Record<string, string | string[] | undefined>, error: JsonRpcErrorBody): never {
    const base = { url: this.#shown, method, status, code: error.code };
    const message = `${where} failed: JSON-RPC error ${error.code} ${bodySnippet(error.message, 300)}`;
    const reading = readRpcError(error);
    if (reading.type === 'range' && method === 'eth_getLogs') {
      throw new RpcRangeError(message, { ...base, cap: reading.cap, suggestedSpan: reading.suggestedSpan, hint: 'The walk asks for a smaller range' });
    }
    if (reading.type === 'retry') {
      const retryAfterMs = parseRetryAfter(headerValue(headers, 'retry-after'), (this.#options.now ?? Date.now)());
      throw new RpcError(message, { ...base, retryClass: reading.retryClass, retryAfterMs, hint: 'Retried with backoff' });
    }
    throw new RpcError(message, { ...base, hint: 'The provider refused the call and another attempt would meet the same answer' });
  }

  #unexpected(method: string, expected: string, got: unknown): RpcResponseError {
    const shown = bodySnippet(JSON.stringify(got) ?? String(got), 200);
    return new RpcResponseError(`${method} at ${this.#shown} returned something other than ${expected}: ${shown}`, {
      url: this.#shown,
      method,
      hint: 'The provider does not speak standard Ethereum JSON-RPC for this method; use another provider',
    });
  }
}
