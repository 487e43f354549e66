import { afterEach, describe, expect, it, vi } from 'vitest';
import { walletFillsFilter } from '../../src/chain/exchanges.js';
import type { RpcLog } from '../../src/chain/order-filled.js';
import type { LogRange, RpcClient } from '../../src/chain/rpc-client.js';
import { RpcError, RpcRangeError, readRpcError, redactRpcUrl } from '../../src/chain/rpc-errors.js';
import { isTransient } from '../../src/lib/errors.js';
import { RateLimiter } from '../../src/polymarket/rate-limiter.js';
import { ChainLogBuilder } from '../../testkit/chain-logs.js';
import { startFakeRpc } from '../../testkit/fake-rpc.js';
import type { FakeRpc, RpcFault } from '../../testkit/fake-rpc.js';
import { MINUTE_CLOCK, OTHER_WALLET, WALLET, fastLimiter, recordingSleep, rpcClient, syntheticFills } from './helpers.js';

/**
 * The RPC client against a local JSON-RPC fake over real HTTP: the eth_getLogs walk adapts its
 * window to the provider's caps (halving on a refusal, growing back after successes) and still
 * returns every log of the wallet exactly once; transient failures are retried, refusals are not.
 */

const FROM = 1_000;
const TO = 200_999;

let fake: FakeRpc | undefined;
let clients: RpcClient[] = [];

afterEach(async () => {
  for (const client of clients) await client.close();
  clients = [];
  await fake?.close();
  fake = undefined;
});

/** The wallet's fills spread over 200,000 blocks, dense in the first 2,000 (a burst), then one every ~1,300 blocks; plus another wallet's. */
function chainLogs(): RpcLog[] {
  const builder = new ChainLogBuilder({ clock: MINUTE_CLOCK });
  builder.addFills(syntheticFills(WALLET, 60, (i) => i * 30));
  builder.addFills(syntheticFills(WALLET, 150, (i) => 2_000 + i * 1_300, 'e'));
  builder.addFills(syntheticFills(OTHER_WALLET, 100, (i) => i * 1_900, 'd'));
  return builder.logs();
}

/** What a node returns for the wallet's filter over FROM..TO. */
function expectedLogs(logs: RpcLog[], wallet: string): RpcLog[] {
  const filter = walletFillsFilter(wallet);
  const topic0s = filter.topics[0] as readonly string[];
  return logs.filter((log) => {
    const block = Number(log.blockNumber);
    return block >= FROM && block <= TO && filter.address.includes(log.address) && topic0s.includes(log.topics[0]!) && log.topics[2] === filter.topics[2];
  });
}

async function walk(client: RpcClient, options: Parameters<RpcClient['walkLogs']>[2] = {}): Promise<LogRange[]> {
  const ranges: LogRange[] = [];
  for await (const range of client.walkLogs(walletFillsFilter(WALLET), { fromBlock: FROM, toBlock: TO }, options)) ranges.push(range);
  return ranges;
}

function key(log: RpcLog): string {
  return `${log.transactionHash}#${log.logIndex}`;
}

function expectContiguous(ranges: LogRange[]): void {
  expect(ranges[0]?.fromBlock).toBe(FROM);
  expect(ranges.at(-1)?.toBlock).toBe(TO);
  for (let i = 1; i < ranges.length; i += 1) expect(ranges[i]!.fromBlock).toBe(ranges[i - 1]!.toBlock + 1);
}

function client(url: string, options: Parameters<typeof rpcClient>[1] = {}): RpcClient {
  const made = rpcClient(url, options);
  clients.push(made);
  return made;
}

describe('walkLogs', () => {
  it("halves the window on a provider's block-span cap, never asks for the refused span again, and yields every log of the wallet exactly once", async () => {
    const logs = chainLogs();
    fake = await startFakeRpc({ logs, head: TO + 100, clock: MINUTE_CLOCK, maxBlockRange: 2_000 });
    const rpc = client(fake.url);
    const ranges = await walk(rpc, { window: { initialBlocks: 10_000 } });

    expectContiguous(ranges);
    const walked = ranges.flatMap((range) => range.logs);
    const expected = expectedLogs(logs, WALLET);
    expect(expected.length).toBe(210);
    expect(walked.map(key)).toEqual(expected.map(key));
    expect(new Set(walked.map(key)).size).toBe(walked.length);

    const calls = fake.getLogsCalls();
    const spans = calls.map((call) => [call.toBlock - call.fromBlock + 1, call.outcome] as const);
    // Halved from 10,000 until served, then growth probes the bracket (served 1,250, refused 2,500) instead of doubling into the cap.
    expect(spans.slice(0, 5)).toEqual([
      [10_000, 'span-cap'],
      [5_000, 'span-cap'],
      [2_500, 'span-cap'],
      [1_250, 'served'],
      [1_875, 'served'],
    ]);
    const refusals = spans.filter(([, outcome]) => outcome === 'span-cap');
    // Bisecting the bracket 1,250..2,500 down to the cap costs a few more; about log2(1,250) probes in all.
    expect(refusals.length).toBeLessThanOrEqual(10);
    expect(rpc.rangeRefusals()).toBe(refusals.length);
    // No span as wide as a refused one is asked for again.
    spans.forEach(([span, outcome], i) => {
      if (outcome === 'span-cap') expect(spans.slice(i + 1).every(([later]) => later < span)).toBe(true);
    });
    // It settles at the cap itself and stays there.
    const settledAt = spans.findIndex(([span]) => span === 2_000);
    expect(settledAt).toBeGreaterThan(0);
    expect(spans.slice(settledAt, -1).every(([span, outcome]) => span === 2_000 && outcome === 'served')).toBe(true);
    expect(rpc.spanCeiling()).toBe(2_000);
    // Each range's requests include the refusals it paid for.
    expect(ranges.reduce((sum, range) => sum + range.requests, 0)).toBe(calls.length);
    expect(ranges[0]?.requests).toBe(4);
  });

  it('halves on a result-count cap in a dense stretch and grows back to the full window in the sparse one after it', async () => {
    const logs = chainLogs();
    fake = await startFakeRpc({ logs, head: TO + 100, clock: MINUTE_CLOCK, maxResults: 8 });
    const rpc = client(fake.url);
    const ranges = await walk(rpc, { window: { initialBlocks: 8_000 } });

    expectContiguous(ranges);
    expect(ranges.flatMap((range) => range.logs).map(key)).toEqual(expectedLogs(logs, WALLET).map(key));
    const calls = fake.getLogsCalls();
    expect(calls.some((call) => call.outcome === 'result-cap')).toBe(true);
    const spans = ranges.map((range) => range.toBlock - range.fromBlock + 1);
    const smallest = Math.min(...spans);
    expect(smallest).toBeLessThanOrEqual(500);
    // After the burst the window is back at its maximum, not stuck at the size the burst needed.
    expect(spans.slice(spans.indexOf(smallest)).filter((span) => span === 8_000).length).toBeGreaterThan(10);
    // A result cap is about the data, not a ceiling.
    expect(rpc.spanCeiling()).toBeUndefined();
  });

  it("takes the range Alchemy's result-cap error names instead of halving blindly", async () => {
    const logs = chainLogs();
    fake = await startFakeRpc({ logs, head: TO + 100, clock: MINUTE_CLOCK, maxResults: 8, capStyle: 'alchemy', capStatus: 400 });
    const rpc = client(fake.url);
    const ranges = await walk(rpc, { window: { initialBlocks: 8_000 } });
    expect(ranges.flatMap((range) => range.logs).map(key)).toEqual(expectedLogs(logs, WALLET).map(key));
    const calls = fake.getLogsCalls();
    const refused = calls.findIndex((call) => call.outcome === 'result-cap');
    expect(refused).toBeGreaterThanOrEqual(0);
    const next = calls[refused + 1]!;
    // The dense stretch has a fill every 30 blocks: 8 logs fit up to just before the 9th's block.
    expect(next.toBlock - next.fromBlock + 1).not.toBe((calls[refused]!.toBlock - calls[refused]!.fromBlock + 1) / 2);
    expect(next.outcome).toBe('served');
  });

  it('starts a later walk of the same client under the span ceiling it learnt, with no refused request', async () => {
    fake = await startFakeRpc({ logs: chainLogs(), head: TO + 100, clock: MINUTE_CLOCK, maxBlockRange: 3_000 });
    const rpc = client(fake.url);
    await walk(rpc);
    fake.resetCounts();
    const again = await walk(rpc);
    expect(fake.getLogsCalls().filter((call) => call.outcome !== 'served')).toEqual([]);
    expect(again.every((range) => range.toBlock - range.fromBlock + 1 <= 3_000)).toBe(true);
  });

  it('fails with a permanent range error when even a one-block range is over the result cap', async () => {
    const builder = new ChainLogBuilder({ clock: MINUTE_CLOCK });
    // Three fills of the wallet in one block.
    builder.addFills(syntheticFills(WALLET, 3, () => 10));
    fake = await startFakeRpc({ logs: builder.logs(), head: TO, clock: MINUTE_CLOCK, maxResults: 2 });
    const rpc = client(fake.url);
    const error = await walk(rpc).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RpcRangeError);
    expect((error as Error).message).toMatch(/one-block range 1010/);
    expect(isTransient(error)).toBe(false);
  });

  it('stops between ranges when its signal aborts, with the ranges before it yielded and no request after', async () => {
    fake = await startFakeRpc({ logs: chainLogs(), head: TO + 100, clock: MINUTE_CLOCK });
    const rpc = client(fake.url);
    const controller = new AbortController();
    const ranges: LogRange[] = [];
    const walking = (async () => {
      for await (const range of rpc.walkLogs(walletFillsFilter(WALLET), { fromBlock: FROM, toBlock: TO }, { signal: controller.signal, window: { initialBlocks: 1_000 } })) {
        ranges.push(range);
        if (ranges.length === 3) controller.abort(new Error('stop here'));
      }
    })();
    await expect(walking).rejects.toThrow('stop here');
    expect(ranges).toHaveLength(3);
    expect(fake.requests().eth_getLogs).toBe(3);
  });
});

describe('transient failures', () => {
  const FAULTS: RpcFault[] = ['http-429', 'http-503', 'http-500', 'reset', 'rpc-internal', 'rpc-rate-limit', 'html', 'truncated'];

  it.each(FAULTS)('retries an eth_getLogs that failed with %s and loses no log', async (fault) => {
    const logs = chainLogs();
    fake = await startFakeRpc({ logs, head: TO + 100, clock: MINUTE_CLOCK });
    const { sleep, delays } = recordingSleep();
    const rpc = client(fake.url, { sleep });
    fake.failNext(fault, 2, 'eth_getLogs');
    const ranges = await walk(rpc, { window: { initialBlocks: 50_000 } });
    expect(ranges.flatMap((range) => range.logs).map(key)).toEqual(expectedLogs(logs, WALLET).map(key));
    expect(Object.values(rpc.retryCounts()).reduce((a, b) => a + b, 0)).toBe(2);
    expect(delays).toHaveLength(2);
    // The retries are the first range's requests, and no window was given up for them.
    expect(ranges[0]?.requests).toBe(3);
    expect(ranges[0]?.toBlock).toBe(FROM + 50_000 - 1);
    expect(rpc.rangeRefusals()).toBe(0);
  });

  it('gives up after the attempts of its budget with a transient error naming the endpoint without its key', async () => {
    fake = await startFakeRpc({ logs: [], head: TO, clock: MINUTE_CLOCK });
    const rpc = client(`${fake.url}/v2/SECRET-KEY`, { maxAttempts: 3 });
    fake.failNext('http-503', 10);
    const error = await rpc.blockNumber().then(
      () => undefined,
      (e: unknown) => e as RpcError,
    );
    expect(error).toBeInstanceOf(RpcError);
    expect(error?.retryClass).toBe('5xx');
    expect(isTransient(error)).toBe(true);
    expect(error?.message).not.toContain('SECRET');
    expect(error?.message).toContain('/***');
    expect(fake.requests().total).toBe(3);
  });

  it('does not retry a refusal: an unknown method is asked once', async () => {
    fake = await startFakeRpc({ logs: [], head: TO, clock: MINUTE_CLOCK });
    const rpc = client(fake.url);
    await expect(rpc.call('eth_doesNotExist', [])).rejects.toThrow(/JSON-RPC error -32601/);
    expect(fake.requests().total).toBe(1);
  });

  it('honours Retry-After on a 429 and takes every attempt through the rate limiter under the key rpc', async () => {
    fake = await startFakeRpc({ logs: [], head: 12_345, clock: MINUTE_CLOCK });
    const limiter = fastLimiter();
    const acquire = vi.spyOn(limiter, 'acquire');
    const { sleep, delays } = recordingSleep();
    const rpc = client(fake.url, { rateLimiter: limiter, sleep });
    fake.failNext('http-429', 1);
    expect(await rpc.blockNumber()).toBe(12_345);
    // The fake's Retry-After is 0 seconds.
    expect(delays).toEqual([0]);
    expect(acquire.mock.calls.map((call) => call[0])).toEqual(['rpc', 'rpc']);
    expect(rpc.requestCounts()).toEqual({ eth_blockNumber: 2 });
  });

  it('refuses to start without a rate limit for rpc', () => {
    expect(() => rpcClient('http://127.0.0.1:9', { rateLimiter: new RateLimiter() })).toThrow(/no rate limit configured for endpoint key "rpc"/);
  });
});

describe('block times', () => {
  it("reads a block's timestamp once per block and answers again from memory", async () => {
    fake = await startFakeRpc({ logs: [], head: TO, clock: MINUTE_CLOCK });
    const rpc = client(fake.url);
    expect(await rpc.blockTimestamp(FROM)).toBe(MINUTE_CLOCK.secondsOf(FROM));
    expect(await rpc.blockTimestamp(FROM)).toBe(MINUTE_CLOCK.secondsOf(FROM));
    expect(await rpc.blockTimestamp(FROM + 10)).toBe(MINUTE_CLOCK.secondsOf(FROM) + 600);
    expect(fake.requests().eth_getBlockByNumber).toBe(2);
    await expect(rpc.blockTimestamp(TO + 1)).rejects.toThrow(/does not have that block/);
  });
});

describe('reading providers\' errors', () => {
  it.each([
    [{ code: -32005, message: 'exceeds max block range 10000' }, { type: 'range', cap: 'span' }],
    [{ code: -32005, message: 'query returned more than 10000 results' }, { type: 'range', cap: 'results' }],
    [{ code: -32602, message: 'eth_getLogs is limited to a 10,000 range' }, { type: 'range', cap: 'span' }],
    [{ code: -32000, message: 'Block range limit exceeded.' }, { type: 'range', cap: 'span' }],
    [{ code: -32005, message: 'limit exceeded' }, { type: 'range', cap: 'results' }],
    [{ code: -32000, message: 'query timeout exceeded' }, { type: 'range', cap: 'results' }],
    [{ code: -32005, message: 'project ID request rate exceeded' }, { type: 'retry', retryClass: '429' }],
    [{ code: 429, message: 'Your app has exceeded its compute units per second capacity' }, { type: 'retry', retryClass: '429' }],
    [{ code: -32603, message: 'internal error' }, { type: 'retry', retryClass: 'rpc-internal' }],
    [{ code: -32000, message: 'header not found' }, { type: 'retry', retryClass: 'rpc-internal' }],
    [{ code: -32602, message: 'invalid argument 0: hex string without 0x prefix' }, { type: 'refused' }],
  ])('reads %j as %j', (error, expected) => {
    expect(readRpcError(error)).toMatchObject(expected);
  });

  it('reads the range an Alchemy refusal suggests as its span', () => {
    const reading = readRpcError({
      code: -32602,
      message: 'Log response size exceeded. … Based on your parameters, this block range should work: [0x1e8480, 0x1e8c4f]',
    });
    expect(reading).toEqual({ type: 'range', cap: 'results', suggestedSpan: 2_000 });
  });

  it('shows an RPC URL by scheme and host only, since providers put their key in the path or query', () => {
    expect(redactRpcUrl('https://polygon-mainnet.g.alchemy.com/v2/abc123')).toBe('https://polygon-mainnet.g.alchemy.com/***');
    expect(redactRpcUrl('https://rpc.example.org/?key=abc')).toBe('https://rpc.example.org/***');
    expect(redactRpcUrl('https://polygon-rpc.com')).toBe('https://polygon-rpc.com');
  });
});
