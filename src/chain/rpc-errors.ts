/**
 * Errors of the Polygon JSON-RPC client, and the reading of a provider's error into one of three
 * things: a transient failure worth another attempt (429, 5xx, network, a rate-limit JSON-RPC error),
 * a range the provider will not serve (a block span or result count over its cap: the log walk
 * halves its window), or a refusal that another attempt would meet again.
 *
 * Providers word their caps differently and some put them in HTTP 400 bodies, so a cap is read from
 * the JSON-RPC error's code and message whatever the HTTP status: -32005 "exceeds max block range",
 * "query returned more than 10000 results", Alchemy's "Log response size exceeded … this block range
 * should work: [0x…, 0x…]", QuickNode's "eth_getLogs is limited to a 10,000 range", Chainstack's
 * "Block range limit exceeded", geth's "query timeout exceeded".
 */
import { BackfillError } from '../lib/errors.js';

/** Retried failures, as counted per class. */
export type RpcRetryClass = '429' | '5xx' | 'network' | 'timeout' | 'truncated' | 'html' | 'rpc-internal';

export interface RpcErrorOptions {
  /** The endpoint, redacted (see redactRpcUrl). */
  url: string;
  method: string;
  status?: number;
  /** The JSON-RPC error code, when the body had one. */
  code?: number;
  retryClass?: RpcRetryClass;
  retryAfterMs?: number;
  cause?: unknown;
  hint?: string;
}

/** Base of every failure of the RPC client; transient when it carries a retry class. */
export class RpcError extends BackfillError {
  readonly url: string;
  readonly method: string;
  readonly status: number | undefined;
  readonly code: number | undefined;
  readonly retryClass: RpcRetryClass | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: RpcErrorOptions) {
    super(message, { cause: options.cause, hint: options.hint, kind: options.retryClass !== undefined ? 'transient' : 'permanent' });
    this.url = options.url;
    this.method = options.method;
    this.status = options.status;
    this.code = options.code;
    this.retryClass = options.retryClass;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * The provider will not serve this range: `span` when the block span is over its cap (a fixed ceiling),
 * `results` when the range holds more logs than it returns at once (depends on the data). Not retried
 * as such: the log walk asks for a smaller range.
 */
export class RpcRangeError extends RpcError {
  readonly cap: 'span' | 'results';
  /** A span the provider said would work (Alchemy names a range), when it did. */
  readonly suggestedSpan: number | undefined;
  constructor(message: string, options: RpcErrorOptions & { cap: 'span' | 'results'; suggestedSpan?: number }) {
    super(message, options);
    this.cap = options.cap;
    this.suggestedSpan = options.suggestedSpan;
  }
}

/** The body is not a JSON-RPC answer of the expected shape. */
export class RpcResponseError extends RpcError {}

/** A JSON-RPC error object. */
export interface JsonRpcErrorBody {
  code: number;
  message: string;
  data?: unknown;
}

const RESULT_CAP =
  /more than \d[\d,]* (results|logs)|query returned more than|too many (results|logs)|response size (exceeded|is too large|limit)|log response size|timeout exceeded|reduc(e|ing) (your |the )?(block )?range/i;
const SPAN_CAP =
  /block range|range limit|max(imum)? (block )?range|limited to (a )?[\d,]+\s*k? ?(block )?range|range (is )?too (large|wide|big)|blocks? range|exceeds? (the )?max(imum)? block|range of more than/i;
const RATE_LIMIT = /rate limit|request rate|too many requests|exceeded (its|the|your) (compute units|capacity|quota|limit of requests)|capacity exceeded|throughput/i;
const SUGGESTED_RANGE = /\[\s*(0x[0-9a-f]+)\s*,\s*(0x[0-9a-f]+)\s*\]/i;

/** What a JSON-RPC error means for the caller. */
export type ErrorReading =
  | { type: 'range'; cap: 'span' | 'results'; suggestedSpan: number | undefined }
  | { type: 'retry'; retryClass: RpcRetryClass }
  | { type: 'refused' };

/**
 * Reads a JSON-RPC error. Rate limits are tested first: Infura reports them under -32005 too, and
 * shrinking the window would only send more requests into the limit.
 */
export function readRpcError(error: JsonRpcErrorBody): ErrorReading {
  const { code, message } = error;
  if (RATE_LIMIT.test(message) || code === 429 || code === -32090) return { type: 'retry', retryClass: '429' };
  if (RESULT_CAP.test(message)) return { type: 'range', cap: 'results', suggestedSpan: suggestedSpan(message) };
  if (SPAN_CAP.test(message)) return { type: 'range', cap: 'span', suggestedSpan: suggestedSpan(message) };
  // -32005 "limit exceeded" with a wording we do not know: the documented meaning for eth_getLogs is a cap.
  if (code === -32005) return { type: 'range', cap: 'results', suggestedSpan: suggestedSpan(message) };
  // Internal errors and a node that does not have the block yet (load balancers behind one URL lag each other).
  if (code === -32603 || /header not found|unknown block|internal error|upstream|temporarily unavailable/i.test(message)) {
    return { type: 'retry', retryClass: 'rpc-internal' };
  }
  return { type: 'refused' };
}

function suggestedSpan(message: string): number | undefined {
  const match = SUGGESTED_RANGE.exec(message);
  if (!match) return undefined;
  const from = Number.parseInt(match[1]!.slice(2), 16);
  const to = Number.parseInt(match[2]!.slice(2), 16);
  return Number.isSafeInteger(from) && Number.isSafeInteger(to) && to >= from ? to - from + 1 : undefined;
}

/**
 * An RPC URL as text for messages and logs: scheme and host only. Providers put the API key in the
 * path (Alchemy `/v2/KEY`, Infura `/v3/KEY`, QuickNode `/TOKEN/`) or the query, so neither is shown.
 */
export function redactRpcUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return '(an RPC URL that does not parse)';
  }
  const hidden = (url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.username !== '' ? '/***' : '';
  return `${url.protocol}//${url.host}${hidden}`;
}
