import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AUDIT_START_BLOCK } from '../../src/chain/chain-facts.js';
import { walletFillsFilter } from '../../src/chain/exchanges.js';
import { decodeOrderFilled } from '../../src/chain/order-filled.js';
import type { ChainFill } from '../../src/chain/order-filled.js';
import { SIM_CHAIN_CLOCK, parseChainPlan, startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { exchangeOf, isComboFill } from '../../testkit/chain-logs.js';
import { rpcClient } from '../chain/helpers.js';

/**
 * The simulator's Polygon at POST /rpc: a wallet's fills as the OrderFilled logs of their exchange
 * (decoded, they are the fills the API serves), the planted differences of a plan, and a chain that
 * follows `advance`.
 */
describe('the simulated Polygon JSON-RPC', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 4, wallets: 5, maxTradesPerWallet: 300, chain: { plan: { wallets: 1, missingFromApi: 2, underMinimum: 1, heldNotOnChain: 1, combo: 2 }, maxBlockRange: 20_000 } });
  });
  afterAll(async () => {
    await sim.close();
  });

  /** The wallet's own OrderFilled logs over the whole chain, decoded. */
  async function walk(wallet: string) {
    const rpc = rpcClient(sim.chain.url);
    try {
      const head = await rpc.blockNumber();
      expect(head).toBe(sim.chain.head());
      const decoded = [];
      for await (const range of rpc.walkLogs(walletFillsFilter(wallet), { fromBlock: AUDIT_START_BLOCK, toBlock: head })) decoded.push(...range.logs.map(decodeOrderFilled));
      return decoded;
    } finally {
      await rpc.close();
    }
  }

  const key = (tx: string, side: string, shares: number) => `${tx}|${side}|${shares.toFixed(6)}`;

  it('serves a wallet\'s fills as the logs of their exchanges: decoded, they are its fills on the exchanges (combo fills undecodable), in blocks half an hour apart', async () => {
    const planted = new Set(sim.chain.planted().map((p) => p.wallet));
    const wallet = sim.dataset.wallets().find((w) => !planted.has(w) && [...sim.dataset.fills(w)].filter((fill) => exchangeOf(fill) !== undefined).length > 5)!;
    const fills = [...sim.dataset.fills(wallet)];
    const decoded = await walk(wallet);
    const chainFills = decoded.filter((d): d is ChainFill => d.kind === 'fill');
    const onExchange = fills.filter((fill) => exchangeOf(fill) !== undefined && !isComboFill(fill));
    expect(chainFills.map((f) => key(f.transactionHash, f.side, f.shares)).sort()).toEqual(onExchange.map((f) => key(f.transaction_hash, f.side, f.size)).sort());
    expect(decoded.filter((d) => d.kind === 'undecodable')).toHaveLength(fills.filter(isComboFill).length);
    for (const fill of chainFills.slice(0, 20)) {
      const source = onExchange.find((f) => f.transaction_hash === fill.transactionHash)!;
      expect(fill.blockNumber).toBe(SIM_CHAIN_CLOCK.blockOf(source.timestamp));
    }
  });

  it('plants the plan in the first wallet that can carry it: copies the API lacks, dust, served fills left out, combo logs', async () => {
    const [p] = sim.chain.planted();
    expect(p).toBeDefined();
    const decoded = await walk(p!.wallet);
    const txs = new Set(decoded.map((d) => d.transactionHash));
    const served = new Set([...sim.dataset.fills(p!.wallet)].map((fill) => fill.transaction_hash));
    expect(p!.missingFromApi).toHaveLength(2);
    for (const fill of p!.missingFromApi) expect([txs.has(fill.transaction_hash), served.has(fill.transaction_hash)]).toEqual([true, false]);
    for (const fill of p!.underMinimum) expect([txs.has(fill.transaction_hash), served.has(fill.transaction_hash), fill.size < 0.01]).toEqual([true, false, true]);
    for (const fill of p!.heldNotOnChain) expect([txs.has(fill.transaction_hash), served.has(fill.transaction_hash)]).toEqual([false, true]);
    expect(decoded.filter((d) => d.kind === 'undecodable' && d.reason === 'combo-exchange').length).toBe(2 + [...sim.dataset.fills(p!.wallet)].filter(isComboFill).length);
  });

  it('follows the data clock: after an advance the head moves and new fills have logs', async () => {
    const before = sim.chain.head();
    const step = sim.advance({ seconds: 3 * 86_400, walletShare: 1 });
    expect(sim.chain.head()).toBe(before + Math.floor((3 * 86_400) / 1_800));
    const wallet = step.wallets.find((w) => !sim.chain.planted().some((p) => p.wallet === w))!;
    const newest = [...sim.dataset.fills(wallet)].filter((fill) => fill.timestamp > step.fromSeconds && !isComboFill(fill));
    const txs = new Set((await walk(wallet)).map((d) => d.transactionHash));
    expect(newest.length).toBeGreaterThan(0);
    for (const fill of newest) expect(txs.has(fill.transaction_hash)).toBe(true);
  });

  it('answers what it does not serve as JSON-RPC errors: a filter without a topic 2, a GET, an unknown method', async () => {
    const post = async (body: unknown) => (await fetch(sim.chain.url, { method: 'POST', body: JSON.stringify(body) })).json() as Promise<{ error?: { code: number; message: string } }>;
    expect((await post({ jsonrpc: '2.0', id: 1, method: 'eth_getLogs', params: [{ fromBlock: '0x1', toBlock: '0x2' }] })).error?.message).toMatch(/topic 2/);
    expect((await post({ jsonrpc: '2.0', id: 2, method: 'eth_call', params: [] })).error?.code).toBe(-32601);
    const get = await fetch(sim.chain.url);
    expect(get.status).toBe(405);
  });
});

describe('parseChainPlan', () => {
  it('reads the per-wallet differences, none for an empty spec, and names a bad token', () => {
    expect(parseChainPlan('wallets=2, missing=3,dust=1,combo=1,unchained=2')).toEqual({ wallets: 2, missingFromApi: 3, underMinimum: 1, combo: 1, heldNotOnChain: 2 });
    expect(parseChainPlan('none')).toEqual({});
    expect(() => parseChainPlan('missing=3,lost=2')).toThrow(/Bad chain difference "lost=2".*keys: wallets, missing, dust, unchained, combo/);
    expect(() => parseChainPlan('missing=-1')).toThrow(/"missing=-1"/);
  });
});
