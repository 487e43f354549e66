import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { auditWallet } from '../../src/chain/audit-wallet.js';
import type { AuditOptions, WalletAuditReport } from '../../src/chain/audit-wallet.js';
import { addressTopic } from '../../src/chain/exchanges.js';
import type { RpcClient } from '../../src/chain/rpc-client.js';
import { createDataset } from '../../src/simulator/index.js';
import type { SimDataset } from '../../src/simulator/index.js';
import { CLOB_START_SECONDS, ChainLogBuilder, exchangeOf, heldRowsOf, isComboFill, linearClock, plantDifferences } from '../../testkit/chain-logs.js';
import type { PlantedDifferences, SimLikeFill } from '../../testkit/chain-logs.js';
import { startFakeRpc } from '../../testkit/fake-rpc.js';
import type { FakeRpc } from '../../testkit/fake-rpc.js';
import { MemoryAuditStore } from '../../testkit/memory-audit-store.js';
import { rpcClient } from './helpers.js';

/**
 * The chain audit end to end against a local JSON-RPC fake that serves, encoded with the real event
 * ABIs, the logs the simulator's fills would have left (multi-maker matches, taker summaries,
 * counterparties' legs, combo fills on the combo exchange, AMM-era fills nowhere), under a block-span
 * cap: it finds exactly the differences planted between the chain and the held rows and nothing
 * else, resumes a killed audit from the stored progress to the same report for fewer requests, and
 * rides out transient RPC failures.
 */

/** One block every half hour, block 1,000,000 at the first exchange's deployment: the four years since in ~70,000 blocks. */
const CLOCK = linearClock({ block: 1_000_000, seconds: CLOB_START_SECONDS }, 1_800);
const FROM_BLOCK = 1_000_000;
/** A month after the simulator's generated history (2026-10-31), which an advance fills: the V2 era. */
const DATA_CLOCK = Date.UTC(2026, 10, 30) / 1000;
/** Past the newest fill. */
const TO_BLOCK = CLOCK.blockOf(DATA_CLOCK) + 1;
const HEAD = TO_BLOCK + 64;
const SPAN_CAP = 2_000;

interface WalletCase {
  wallet: string;
  fills: SimLikeFill[];
  planted: PlantedDifferences;
  /** Combo logs planted with no held row. */
  comboLogs: number;
}

let dataset: SimDataset;
let cases: WalletCase[];
let fake: FakeRpc;
let clients: RpcClient[] = [];

function simFills(wallet: string): SimLikeFill[] {
  return [...dataset.fills(wallet)].map((fill) => ({
    ...fill,
    negRisk: (dataset.market(fill.condition_id) as { negRisk?: boolean } | undefined)?.negRisk === true,
  }));
}

beforeAll(async () => {
  dataset = createDataset({ seed: 7, wallets: 40 });
  // The generated history has few fills after the V2 cutover (2026-04-28); a month of trading by every wallet adds them.
  dataset.advance({ seconds: DATA_CLOCK - dataset.clockSeconds, walletShare: 1 });
  const wallets = dataset.wallets().filter((wallet) => dataset.tradeCount(wallet) >= 100 && dataset.tradeCount(wallet) <= 3_000).slice(0, 3);
  expect(wallets).toHaveLength(3);
  const builder = new ChainLogBuilder({ clock: CLOCK });
  const plans = [
    { missingFromApi: 3, heldNotOnChain: 2, underMinimum: 2, combo: 1 },
    { missingFromApi: 0, heldNotOnChain: 0, underMinimum: 0, combo: 0 },
    { missingFromApi: 1, heldNotOnChain: 4, underMinimum: 1, combo: 2 },
  ];
  cases = wallets.map((wallet, i) => {
    const fills = simFills(wallet);
    const plan = plans[i]!;
    const planted = plantDifferences(fills, { ...plan, seed: `wallet-${i}` });
    builder.addFills(planted.chain);
    const newest = Math.max(...fills.map((fill) => fill.timestamp));
    for (let k = 0; k < plan.combo; k += 1) builder.addComboLog(wallet, newest - 86_400 * (k + 1));
    return { wallet, fills, planted, comboLogs: plan.combo };
  });
  fake = await startFakeRpc({ logs: builder.logs(), head: HEAD, clock: CLOCK, maxBlockRange: SPAN_CAP });
});

afterAll(async () => {
  await fake?.close();
});

afterEach(async () => {
  for (const client of clients) await client.close();
  clients = [];
  fake.resetCounts();
});

function client(): RpcClient {
  const made = rpcClient(fake.url);
  clients.push(made);
  return made;
}

function storeFor(selected: WalletCase[]): MemoryAuditStore {
  return new MemoryAuditStore(Object.fromEntries(selected.map((c) => [c.wallet, heldRowsOf(c.planted.held)])));
}

const options = (store: MemoryAuditStore, rpc: RpcClient, more: Partial<AuditOptions> = {}): AuditOptions => ({
  rpc,
  store,
  fromBlock: FROM_BLOCK,
  toBlock: TO_BLOCK,
  window: { initialBlocks: 10_000 },
  ...more,
});

/** A fill's identity as both sides can name it. */
const identity = (tx: string, asset: string | null, side: string | null, size: number | null): string => JSON.stringify([tx, asset, side, size]);
const fillIdentity = (fill: SimLikeFill): string => identity(fill.transaction_hash, fill.asset, fill.side, fill.size);

/** The report without what depends on how the run went (resumed or not). */
const outcome = (report: WalletAuditReport) => ({ ...report, resumedAfter: undefined, logRequests: undefined, ranges: undefined });

describe('auditWallet on the simulator', () => {
  it('serves multi-maker matches: the wallets act as takers and as makers, beside counterparties the filter must leave out', () => {
    const logs = fake.requests();
    expect(logs.total).toBe(0);
    const builder = new ChainLogBuilder({ clock: CLOCK });
    builder.addFills(cases[0]!.planted.chain);
    const all = builder.logs();
    const own = all.filter((log) => log.topics[2] === addressTopic(cases[0]!.wallet));
    const asTakerOfLegs = all.filter((log) => log.topics[3] === addressTopic(cases[0]!.wallet));
    expect(all.length).toBeGreaterThan(2 * own.length);
    // Maker legs naming the wallet as taker: several in one transaction somewhere (a multi-maker match).
    const legsPerTx = new Map<string, number>();
    for (const log of asTakerOfLegs) legsPerTx.set(log.transactionHash, (legsPerTx.get(log.transactionHash) ?? 0) + 1);
    expect(Math.max(...legsPerTx.values())).toBeGreaterThanOrEqual(2);
  });

  it('finds exactly the planted differences and nothing else, wallet by wallet', async () => {
    const store = storeFor(cases);
    const rpc = client();
    const reportsRequests: number[] = [];
    for (const c of cases) {
      const report = await auditWallet(c.wallet, options(store, rpc));
      reportsRequests.push(report.logRequests);
      const chainSide = c.planted.chain;
      const onChain = chainSide.filter((fill) => exchangeOf(fill) !== undefined && !isComboFill(fill));
      const heldCombos = c.planted.held.filter(isComboFill).length;
      const ammEra = c.planted.held.filter((fill) => exchangeOf(fill) === undefined).length;

      expect(report).toMatchObject({
        wallet: c.wallet,
        onChain: onChain.length,
        held: c.planted.held.length,
        matched: onChain.length - c.planted.missingFromApi.length - c.planted.underMinimum.length,
        missingFromApi: c.planted.missingFromApi.length,
        underMinimum: c.planted.underMinimum.length,
        heldNotOnChain: c.planted.heldNotOnChain.length,
        heldOutsideRange: ammEra,
        heldUnverifiable: heldCombos,
        undecodable: chainSide.filter(isComboFill).length + c.comboLogs,
        complete: c.planted.missingFromApi.length === 0 && c.planted.heldNotOnChain.length === 0,
        fromBlock: FROM_BLOCK,
        toBlock: TO_BLOCK,
      });
      const named = (kind: string) =>
        report.mismatches
          .filter((m) => m.kind === kind)
          .map((m) => identity(m.transactionHash, m.tokenId, m.side, m.chainShares ?? m.heldSize))
          .sort();
      expect(named('missing-from-api')).toEqual(c.planted.missingFromApi.map(fillIdentity).sort());
      expect(named('under-minimum')).toEqual(c.planted.underMinimum.map(fillIdentity).sort());
      expect(named('held-not-on-chain')).toEqual(c.planted.heldNotOnChain.map(fillIdentity).sort());
      expect(report.mismatches.filter((m) => m.kind === 'undecodable').every((m) => m.detail.startsWith('combo-exchange'))).toBe(true);
      expect(store.results.get(c.wallet)).toEqual(report);
    }
    // The case with nothing planted: complete, every fill on the chain matched.
    const clean = store.results.get(cases[1]!.wallet)!;
    expect(clean.complete).toBe(true);
    expect(clean.matched).toBe(clean.onChain);
    // The wallets' fills span both exchange versions, maker and taker roles.
    expect(cases.flatMap((c) => c.fills).some((fill) => exchangeOf(fill)?.version === 'v2')).toBe(true);
    expect(cases.flatMap((c) => c.fills).some((fill) => exchangeOf(fill)?.version === 'v1')).toBe(true);
    // The span cap was learnt once, by the first wallet's walk: the other wallets' walks asked for nothing it refused.
    const refused = fake.getLogsCalls().flatMap((call, i) => (call.outcome === 'span-cap' ? [i] : []));
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.length).toBeLessThanOrEqual(12);
    expect(refused.at(-1)!).toBeLessThan(reportsRequests[0]!);
  });

  it('resumes a killed audit from the stored progress and ends with the same report, for fewer requests than starting over', async () => {
    const c = cases[0]!;
    const reference = await auditWallet(c.wallet, options(storeFor([c]), client()));
    const fresh = fake.requests().eth_getLogs!;
    fake.resetCounts();

    const store = storeFor([c]);
    const controller = new AbortController();
    let ranges = 0;
    const killed = auditWallet(
      c.wallet,
      options(store, client(), {
        signal: controller.signal,
        onRange: () => {
          ranges += 1;
          if (ranges === 15) controller.abort(new Error('killed'));
        },
      }),
    );
    await expect(killed).rejects.toThrow('killed');
    const stopped = await store.progress(c.wallet);
    expect(stopped).toBeGreaterThan(FROM_BLOCK);
    expect(stopped).toBeLessThan(TO_BLOCK);
    expect(store.results.has(c.wallet)).toBe(false);
    fake.resetCounts();

    // A new process: a new client, the same store.
    const resumed = await auditWallet(c.wallet, options(store, client()));
    const afterResume = fake.requests().eth_getLogs!;
    expect(resumed.resumedAfter).toBe(stopped);
    expect(fake.getLogsCalls()[0]?.fromBlock).toBe(stopped! + 1);
    expect(outcome(resumed)).toEqual(outcome(reference));
    expect(afterResume).toBeLessThan(fresh);
    expect(resumed.logRequests).toBe(afterResume);
    // The ranges of both runs tile the audited blocks without a gap or an overlap (the store refuses either).
    expect(store.savedRanges[0]?.fromBlock).toBe(FROM_BLOCK);
    expect(store.savedRanges.at(-1)?.toBlock).toBe(TO_BLOCK);

    // Audited again to the same block: nothing left to walk, the report from what is stored.
    fake.resetCounts();
    const again = await auditWallet(c.wallet, options(store, client()));
    expect(fake.requests().eth_getLogs ?? 0).toBe(0);
    expect(outcome(again)).toEqual(outcome(reference));
    // restart forgets the progress and walks everything again.
    const restarted = await auditWallet(c.wallet, options(store, client(), { restart: true }));
    expect(restarted.resumedAfter).toBeUndefined();
    expect(outcome(restarted)).toEqual(outcome(reference));
  });

  it('rides out transient RPC failures to the same report', async () => {
    const c = cases[2]!;
    const reference = await auditWallet(c.wallet, options(storeFor([c]), client()));
    fake.failNext('http-503', 2, 'eth_getLogs');
    fake.failNext('reset', 1, 'eth_getLogs');
    fake.failNext('rpc-rate-limit', 1, 'eth_getLogs');
    fake.failNext('http-429', 1, 'eth_getBlockByNumber');
    const rpc = client();
    const report = await auditWallet(c.wallet, options(storeFor([c]), rpc));
    expect(outcome(report)).toEqual(outcome(reference));
    expect(rpc.retryCounts()).toEqual({ '5xx': 2, network: 1, '429': 2 });
  });

  it('audits up to the head less the confirmations when no toBlock is given', async () => {
    const c = cases[1]!;
    const report = await auditWallet(c.wallet, options(storeFor([c]), client(), { toBlock: undefined, confirmations: 64 }));
    expect(report.toBlock).toBe(HEAD - 64);
    expect(report.complete).toBe(true);
  });
});
