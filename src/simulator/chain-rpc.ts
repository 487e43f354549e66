/**
 * A Polygon JSON-RPC endpoint over logs built with the real event ABIs (chain-logs.ts): JSON-RPC 2.0,
 * `eth_blockNumber`, `eth_getBlockByNumber` and `eth_getLogs`. It is a request handler, so the
 * simulator serves it at `POST /rpc` beside the Data API, and the tests' fake (testkit/fake-rpc.ts)
 * on a port of its own.
 *
 * `eth_getLogs` filters by address, topics and block range as a node does, and enforces the caps
 * providers put on it, answering with their error shapes:
 * - a block-span cap: JSON-RPC -32005 "exceeds max block range N";
 * - a result-count cap: -32005 "query returned more than N results" (style `generic`), or Alchemy's
 *   -32602 "Log response size exceeded … this block range should work: [0x…, 0x…]" (style `alchemy`).
 * Faults can be queued (429, 503, a reset socket, a provider's internal or rate-limit JSON-RPC error),
 * and every request is counted and recorded.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RpcLog } from '../chain/order-filled.js';
import type { ChainClock } from './chain-logs.js';

export type RpcFault = 'http-429' | 'http-503' | 'http-500' | 'reset' | 'rpc-internal' | 'rpc-rate-limit' | 'html' | 'truncated';

/** What the endpoint serves: the head, block times and the logs. */
export interface ChainLogSource {
  /** The chain head `eth_blockNumber` answers. */
  head(): number;
  /** Block times for `eth_getBlockByNumber`. */
  readonly clock: ChainClock;
  /** Logs whose topic 2 (an order's maker) is `topic`, lower-cased, sorted by block and log index. */
  logsWithTopic2(topic: string): readonly RpcLog[];
  /**
   * Every log, sorted, for a filter without a topic 2; undefined where the chain serves only filters
   * naming a topic 2 (the simulator builds a wallet's logs when they are first asked for).
   */
  allLogs(): readonly RpcLog[] | undefined;
}

export interface ChainRpcOptions {
  /** Widest `eth_getLogs` span served; default unlimited. */
  maxBlockRange?: number;
  /** Most logs one `eth_getLogs` returns; default unlimited. */
  maxResults?: number;
  /** Wording of the result-cap errors; default `generic`. */
  capStyle?: 'generic' | 'alchemy';
  /** HTTP status of cap errors (some providers send 400); default 200. */
  capStatus?: number;
}

/** One `eth_getLogs` request as the endpoint saw it. */
export interface GetLogsCall {
  fromBlock: number;
  toBlock: number;
  outcome: 'served' | 'span-cap' | 'result-cap' | 'fault' | 'invalid';
  /** Logs returned (served) or found (result-cap). */
  logs: number;
}

export interface ChainRpc {
  /** Answers one JSON-RPC POST; reads the body itself. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Requests by JSON-RPC method (faulted ones included); `total` is their sum. */
  requests(): Record<string, number> & { total: number };
  /** The latest `eth_getLogs` requests (at most MAX_RECORDED_CALLS), oldest first. */
  getLogsCalls(): readonly GetLogsCall[];
  /** The next `times` requests (of `method`, when given) suffer `fault`. */
  failNext(fault: RpcFault, times?: number, method?: string): void;
  setCaps(caps: { maxBlockRange?: number; maxResults?: number }): void;
  resetCounts(): void;
}

/** `eth_getLogs` calls remembered: a long simulator session must not grow without bound. */
export const MAX_RECORDED_CALLS = 100_000;

interface FaultEntry {
  fault: RpcFault;
  times: number;
  method: string | undefined;
}

const QUANTITY = /^0x[0-9a-f]+$/i;

export function blockOf(log: RpcLog): number {
  return Number.parseInt(log.blockNumber.slice(2), 16);
}

/** Logs sorted by block and log index, as `eth_getLogs` returns them. */
export function sortLogs(logs: readonly RpcLog[]): RpcLog[] {
  return [...logs].sort((a, b) => blockOf(a) - blockOf(b) || Number.parseInt(a.logIndex, 16) - Number.parseInt(b.logIndex, 16));
}

/** A fixed list of logs, indexed by topic 2. */
export function staticLogSource(logs: readonly RpcLog[], head: number, clock: ChainClock): ChainLogSource {
  const sorted = sortLogs(logs);
  const byTopic2 = new Map<string, RpcLog[]>();
  for (const log of sorted) {
    const topic = log.topics[2]?.toLowerCase();
    if (topic === undefined) continue;
    const list = byTopic2.get(topic) ?? [];
    list.push(log);
    byTopic2.set(topic, list);
  }
  return { head: () => head, clock, logsWithTopic2: (topic) => byTopic2.get(topic) ?? [], allLogs: () => sorted };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Index of the first log at or after `block` in `logs` sorted by block. */
function lowerBound(logs: readonly RpcLog[], block: number): number {
  let lo = 0;
  let hi = logs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (blockOf(logs[mid]!) < block) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

type TopicFilter = null | string | string[];

function topicMatches(filter: TopicFilter | undefined, topic: string | undefined): boolean {
  if (filter === null || filter === undefined) return true;
  if (topic === undefined) return false;
  const wanted = Array.isArray(filter) ? filter : [filter];
  return wanted.length === 0 || wanted.some((value) => value.toLowerCase() === topic.toLowerCase());
}

function checkCap(name: string, value: number | undefined): number {
  if (value === undefined) return Number.POSITIVE_INFINITY;
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a whole number >= 1, got ${String(value)}`);
  return value;
}

export function createChainRpc(source: ChainLogSource, options: ChainRpcOptions = {}): ChainRpc {
  let maxBlockRange = checkCap('maxBlockRange', options.maxBlockRange);
  let maxResults = checkCap('maxResults', options.maxResults);
  const capStyle = options.capStyle ?? 'generic';
  const capStatus = options.capStatus ?? 200;
  let counts: Record<string, number> = {};
  let calls: GetLogsCall[] = [];
  const faults: FaultEntry[] = [];
  const record = (call: GetLogsCall): void => {
    calls.push(call);
    if (calls.length > MAX_RECORDED_CALLS) calls = calls.slice(-MAX_RECORDED_CALLS / 2);
  };

  const rpcError = (res: ServerResponse, id: unknown, code: number, message: string, status = 200): void =>
    sendJson(res, status, { jsonrpc: '2.0', id, error: { code, message } });
  const result = (res: ServerResponse, id: unknown, value: unknown): void => sendJson(res, 200, { jsonrpc: '2.0', id, result: value });

  const blockParam = (value: unknown): number | undefined => {
    if (value === 'latest' || value === undefined) return source.head();
    if (value === 'earliest') return 0;
    return typeof value === 'string' && QUANTITY.test(value) ? Number.parseInt(value.slice(2), 16) : undefined;
  };

  const getLogs = (res: ServerResponse, id: unknown, params: unknown[]): void => {
    const filter = params[0] as { address?: unknown; topics?: unknown; fromBlock?: unknown; toBlock?: unknown } | undefined;
    const from = blockParam(filter?.fromBlock);
    const to = blockParam(filter?.toBlock);
    if (!filter || from === undefined || to === undefined || from > to) {
      record({ fromBlock: from ?? -1, toBlock: to ?? -1, outcome: 'invalid', logs: 0 });
      rpcError(res, id, -32602, `invalid params: fromBlock ${String(filter?.fromBlock)} / toBlock ${String(filter?.toBlock)}`);
      return;
    }
    const span = to - from + 1;
    if (span > maxBlockRange) {
      record({ fromBlock: from, toBlock: to, outcome: 'span-cap', logs: 0 });
      rpcError(res, id, -32005, `exceeds max block range ${maxBlockRange}`, capStatus);
      return;
    }
    const addresses = filter.address === undefined ? undefined : (Array.isArray(filter.address) ? filter.address : [filter.address]).map((a) => String(a).toLowerCase());
    const topics = Array.isArray(filter.topics) ? (filter.topics as TopicFilter[]) : [];
    const topic2 = topics[2];
    const pool = typeof topic2 === 'string' ? source.logsWithTopic2(topic2.toLowerCase()) : source.allLogs();
    if (!pool) {
      record({ fromBlock: from, toBlock: to, outcome: 'invalid', logs: 0 });
      rpcError(res, id, -32602, 'this simulated chain serves eth_getLogs only for filters naming one topic 2 (an order maker)');
      return;
    }
    const found: RpcLog[] = [];
    for (let i = lowerBound(pool, from); i < pool.length && blockOf(pool[i]!) <= to; i += 1) {
      const log = pool[i]!;
      if (addresses && !addresses.includes(log.address.toLowerCase())) continue;
      if (!topics.every((wanted, position) => topicMatches(wanted, log.topics[position]))) continue;
      found.push(log);
    }
    if (found.length > maxResults) {
      record({ fromBlock: from, toBlock: to, outcome: 'result-cap', logs: found.length });
      if (capStyle === 'alchemy') {
        // Alchemy names a range that fits: from fromBlock up to the block before the one holding log maxResults + 1.
        const lastFitting = Math.max(from, blockOf(found[maxResults]!) - 1);
        rpcError(
          res,
          id,
          -32602,
          'Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range and no limit on the response size, or you can ' +
            `request any block range with a cap of ${maxResults} logs in the response. Based on your parameters, this block range should work: ` +
            `[0x${from.toString(16)}, 0x${lastFitting.toString(16)}]`,
          capStatus,
        );
      } else {
        rpcError(res, id, -32005, `query returned more than ${maxResults} results`, capStatus);
      }
      return;
    }
    record({ fromBlock: from, toBlock: to, outcome: 'served', logs: found.length });
    result(res, id, found);
  };

  const inject = (res: ServerResponse, id: unknown, fault: RpcFault): void => {
    switch (fault) {
      case 'http-429':
        res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': '0' });
        res.end('Too Many Requests');
        return;
      case 'http-503':
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('Service Unavailable');
        return;
      case 'http-500':
        sendJson(res, 500, { jsonrpc: '2.0', id, error: { code: -32603, message: 'internal error' } });
        return;
      case 'reset':
        res.socket?.destroy();
        return;
      case 'rpc-internal':
        rpcError(res, id, -32603, 'internal error');
        return;
      case 'rpc-rate-limit':
        rpcError(res, id, -32005, 'project ID request rate exceeded');
        return;
      case 'html':
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end('<html><head><title>502 Bad Gateway</title></head></html>');
        return;
      case 'truncated': {
        const text = JSON.stringify({ jsonrpc: '2.0', id, result: [] });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(text.slice(0, text.length - 3));
        return;
      }
    }
  };

  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST') {
      req.resume();
      rpcError(res, null, -32600, `JSON-RPC is POST only, got ${req.method ?? '?'}`, 405);
      return;
    }
    let body: { id: unknown; method: string; params: unknown[] };
    try {
      const parsed = JSON.parse(await readBody(req)) as { id?: unknown; method?: unknown; params?: unknown };
      body = { id: parsed.id ?? null, method: String(parsed.method), params: Array.isArray(parsed.params) ? parsed.params : [] };
    } catch {
      sendJson(res, 200, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } });
      return;
    }
    counts[body.method] = (counts[body.method] ?? 0) + 1;
    const fault = faults.find((entry) => entry.times > 0 && (entry.method === undefined || entry.method === body.method));
    if (fault) {
      fault.times -= 1;
      if (body.method === 'eth_getLogs') {
        const filter = body.params[0] as { fromBlock?: unknown; toBlock?: unknown } | undefined;
        record({ fromBlock: blockParam(filter?.fromBlock) ?? -1, toBlock: blockParam(filter?.toBlock) ?? -1, outcome: 'fault', logs: 0 });
      }
      inject(res, body.id, fault.fault);
      return;
    }
    switch (body.method) {
      case 'eth_blockNumber':
        result(res, body.id, `0x${source.head().toString(16)}`);
        return;
      case 'eth_getBlockByNumber': {
        const block = blockParam(body.params[0]);
        if (block === undefined) {
          rpcError(res, body.id, -32602, 'invalid block number');
          return;
        }
        const timestamp = source.clock.secondsOf(block);
        result(res, body.id, block > source.head() ? null : { number: `0x${block.toString(16)}`, timestamp: `0x${timestamp.toString(16)}`, transactions: [] });
        return;
      }
      case 'eth_getLogs':
        getLogs(res, body.id, body.params);
        return;
      default:
        rpcError(res, body.id, -32601, `the method ${body.method} does not exist/is not available`);
    }
  };

  return {
    handle: (req, res) => {
      void answer(req, res).catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { jsonrpc: '2.0', id: null, error: { code: -32603, message: `simulator bug: ${String(error)}` } });
      });
    },
    requests: () => ({ ...counts, total: Object.values(counts).reduce((sum, n) => sum + n, 0) }),
    getLogsCalls: () => calls,
    failNext: (fault, times = 1, method) => {
      faults.push({ fault, times, method });
    },
    setCaps: (caps) => {
      if (caps.maxBlockRange !== undefined) maxBlockRange = checkCap('maxBlockRange', caps.maxBlockRange);
      if (caps.maxResults !== undefined) maxResults = checkCap('maxResults', caps.maxResults);
    },
    resetCounts: () => {
      counts = {};
      calls = [];
    },
  };
}
