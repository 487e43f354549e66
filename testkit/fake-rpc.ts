/**
 * A Polygon JSON-RPC endpoint on loopback for the chain audit's tests: real HTTP, JSON-RPC 2.0,
 * `eth_blockNumber`, `eth_getBlockByNumber` and `eth_getLogs` over a fixed list of logs (chain-logs.ts
 * builds them with the real event ABIs). `eth_getLogs` filters by address, topics and block range as
 * a node does, and enforces the caps providers put on it, answering with their error shapes:
 * - a block-span cap: JSON-RPC -32005 "exceeds max block range N" (style `generic`), or Alchemy's
 *   -32602 "Log response size exceeded … this block range should work: [0x…, 0x…]" for the result cap
 *   (style `alchemy`);
 * - a result-count cap: -32005 "query returned more than N results".
 * Faults can be queued (429, 503, a reset socket, a provider's internal or rate-limit JSON-RPC error),
 * and every request is counted and recorded.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RpcLog } from '../src/chain/order-filled.js';
import type { ChainClock } from './chain-logs.js';

export type RpcFault = 'http-429' | 'http-503' | 'http-500' | 'reset' | 'rpc-internal' | 'rpc-rate-limit' | 'html' | 'truncated';

export interface FakeRpcOptions {
  logs: readonly RpcLog[];
  /** The chain head `eth_blockNumber` answers. */
  head: number;
  /** Block times for `eth_getBlockByNumber`. */
  clock: ChainClock;
  /** Widest `eth_getLogs` span served; default unlimited. */
  maxBlockRange?: number;
  /** Most logs one `eth_getLogs` returns; default unlimited. */
  maxResults?: number;
  /** Wording of the cap errors; default `generic`. */
  capStyle?: 'generic' | 'alchemy';
  /** HTTP status of cap errors (some providers send 400); default 200. */
  capStatus?: number;
}

/** One `eth_getLogs` request as the fake saw it. */
export interface GetLogsCall {
  fromBlock: number;
  toBlock: number;
  outcome: 'served' | 'span-cap' | 'result-cap' | 'fault' | 'invalid';
  /** Logs returned (served) or found (result-cap). */
  logs: number;
}

export interface FakeRpc {
  url: string;
  /** Requests by JSON-RPC method (faulted ones included); `total` is their sum. */
  requests(): Record<string, number> & { total: number };
  getLogsCalls(): readonly GetLogsCall[];
  /** The next `times` requests (of `method`, when given) suffer `fault`. */
  failNext(fault: RpcFault, times?: number, method?: string): void;
  setCaps(caps: { maxBlockRange?: number; maxResults?: number }): void;
  resetCounts(): void;
  close(): Promise<void>;
}

interface RpcRequest {
  id: unknown;
  method: string;
  params: unknown[];
}

interface FaultEntry {
  fault: RpcFault;
  times: number;
  method: string | undefined;
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

const QUANTITY = /^0x[0-9a-f]+$/i;

function blockOf(log: RpcLog): number {
  return Number.parseInt(log.blockNumber.slice(2), 16);
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

export async function startFakeRpc(options: FakeRpcOptions): Promise<FakeRpc> {
  const logs = [...options.logs].sort((a, b) => blockOf(a) - blockOf(b) || Number.parseInt(a.logIndex, 16) - Number.parseInt(b.logIndex, 16));
  // By topic 2 (the order maker), since every audit asks for one wallet's logs.
  const byTopic2 = new Map<string, RpcLog[]>();
  for (const log of logs) {
    const topic = log.topics[2]?.toLowerCase();
    if (topic === undefined) continue;
    const list = byTopic2.get(topic) ?? [];
    list.push(log);
    byTopic2.set(topic, list);
  }
  let maxBlockRange = options.maxBlockRange ?? Number.POSITIVE_INFINITY;
  let maxResults = options.maxResults ?? Number.POSITIVE_INFINITY;
  const capStyle = options.capStyle ?? 'generic';
  const capStatus = options.capStatus ?? 200;
  let counts: Record<string, number> = {};
  let calls: GetLogsCall[] = [];
  const faults: FaultEntry[] = [];

  const rpcError = (res: ServerResponse, id: unknown, code: number, message: string, status = 200): void =>
    sendJson(res, status, { jsonrpc: '2.0', id, error: { code, message } });
  const result = (res: ServerResponse, id: unknown, value: unknown): void => sendJson(res, 200, { jsonrpc: '2.0', id, result: value });

  const blockParam = (value: unknown): number | undefined => {
    if (value === 'latest' || value === undefined) return options.head;
    if (value === 'earliest') return 0;
    return typeof value === 'string' && QUANTITY.test(value) ? Number.parseInt(value.slice(2), 16) : undefined;
  };

  const getLogs = (res: ServerResponse, id: unknown, params: unknown[]): void => {
    const filter = params[0] as { address?: unknown; topics?: unknown; fromBlock?: unknown; toBlock?: unknown } | undefined;
    const from = blockParam(filter?.fromBlock);
    const to = blockParam(filter?.toBlock);
    if (!filter || from === undefined || to === undefined || from > to) {
      calls.push({ fromBlock: from ?? -1, toBlock: to ?? -1, outcome: 'invalid', logs: 0 });
      rpcError(res, id, -32602, `invalid params: fromBlock ${String(filter?.fromBlock)} / toBlock ${String(filter?.toBlock)}`);
      return;
    }
    const span = to - from + 1;
    if (span > maxBlockRange) {
      calls.push({ fromBlock: from, toBlock: to, outcome: 'span-cap', logs: 0 });
      rpcError(res, id, -32005, `exceeds max block range ${maxBlockRange}`, capStatus);
      return;
    }
    const addresses = filter.address === undefined ? undefined : (Array.isArray(filter.address) ? filter.address : [filter.address]).map((a) => String(a).toLowerCase());
    const topics = Array.isArray(filter.topics) ? (filter.topics as TopicFilter[]) : [];
    const topic2 = topics[2];
    const pool = typeof topic2 === 'string' ? (byTopic2.get(topic2.toLowerCase()) ?? []) : logs;
    const found: RpcLog[] = [];
    for (let i = lowerBound(pool, from); i < pool.length && blockOf(pool[i]!) <= to; i += 1) {
      const log = pool[i]!;
      if (addresses && !addresses.includes(log.address.toLowerCase())) continue;
      if (!topics.every((wanted, position) => topicMatches(wanted, log.topics[position]))) continue;
      found.push(log);
    }
    if (found.length > maxResults) {
      calls.push({ fromBlock: from, toBlock: to, outcome: 'result-cap', logs: found.length });
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
    calls.push({ fromBlock: from, toBlock: to, outcome: 'served', logs: found.length });
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

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let body: RpcRequest;
    try {
      const parsed = JSON.parse(await readBody(req)) as Partial<RpcRequest>;
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
        calls.push({ fromBlock: blockParam(filter?.fromBlock) ?? -1, toBlock: blockParam(filter?.toBlock) ?? -1, outcome: 'fault', logs: 0 });
      }
      inject(res, body.id, fault.fault);
      return;
    }
    switch (body.method) {
      case 'eth_blockNumber':
        result(res, body.id, `0x${options.head.toString(16)}`);
        return;
      case 'eth_getBlockByNumber': {
        const block = blockParam(body.params[0]);
        if (block === undefined) {
          rpcError(res, body.id, -32602, 'invalid block number');
          return;
        }
        const timestamp = options.clock.secondsOf(block);
        result(res, body.id, block > options.head ? null : { number: `0x${block.toString(16)}`, timestamp: `0x${timestamp.toString(16)}`, transactions: [] });
        return;
      }
      case 'eth_getLogs':
        getLogs(res, body.id, body.params);
        return;
      default:
        rpcError(res, body.id, -32601, `the method ${body.method} does not exist/is not available`);
    }
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: String(error) });
    });
  });
  // Clients keep connections alive; close() must not wait for them.
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => ({ ...counts, total: Object.values(counts).reduce((sum, n) => sum + n, 0) }),
    getLogsCalls: () => calls,
    failNext: (fault, times = 1, method) => {
      faults.push({ fault, times, method });
    },
    setCaps: (caps) => {
      if (caps.maxBlockRange !== undefined) maxBlockRange = caps.maxBlockRange;
      if (caps.maxResults !== undefined) maxResults = caps.maxResults;
    },
    resetCounts: () => {
      counts = {};
      calls = [];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
