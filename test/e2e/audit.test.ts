import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AUDIT_START_BLOCK } from '../../src/chain/chain-facts.js';
import { SIM_CHAIN_CLOCK, startSimulator } from '../../src/simulator/index.js';
import type { PlantedChain, RunningSimulator } from '../../src/simulator/index.js';
import { DuckDbWarehouse } from '../../src/warehouse/duckdb/index.js';
import { isComboFill } from '../../testkit/chain-logs.js';
import { paths, runBackfill, seedTraders } from '../../testkit/backfill-harness.js';
import { runCli, startCli, waitFor } from '../../testkit/cli.js';

/**
 * `backfill audit` end to end: simulator wallets backfilled into DuckDB, then the CLI (a child
 * process, real HTTP) audits them against the simulator's Polygon JSON-RPC, which serves their fills
 * as real-ABI OrderFilled logs under a 5,000-block span cap, with differences planted in two
 * wallets' chains. The audit names exactly those wallets and those fills, stores the results, exits
 * 2; a clean set exits 0; an audit killed with SIGKILL resumes to the same results for fewer requests.
 */

const PLAN = { wallets: 2, missingFromApi: 2, underMinimum: 2, heldNotOnChain: 1, combo: 1 };
const SPAN_CAP = 5_000;
/** An API key in the URL, as providers put it: it must never be printed. */
const SECRET = 'k3y-5ecret-d0-not-print';

interface WalletJson {
  wallet: string;
  outcome: string;
  on_chain: number;
  held: number;
  matched: number;
  missing_from_api: number;
  held_not_on_chain: number;
  under_minimum: number;
  undecodable: number;
  held_outside_range: number;
  held_unverifiable: number;
  log_requests: number;
  resumed_after: number | null;
}

interface AuditJson {
  rpc: string;
  to_block: number;
  wallets: WalletJson[];
  incomplete: string[];
  requests: Record<string, number>;
  log_requests_per_wallet: number;
  exit_code: number;
}

let sim: RunningSimulator;
let dir: string;
/** The backfilled warehouse before any audit, copied for each test that needs a fresh one. */
let pristine: string;
let wallets: string[];
let planted: PlantedChain[];

beforeAll(async () => {
  sim = await startSimulator({ seed: 31, wallets: 5, maxTradesPerWallet: 600, chain: { plan: PLAN, maxBlockRange: SPAN_CAP } });
  wallets = sim.dataset.wallets();
  planted = sim.chain.planted();
  expect(planted).toHaveLength(2);
  dir = await mkdtemp(join(tmpdir(), 'backfill-audit-'));
  await seedTraders(dir, wallets);
  const summary = await runBackfill(dir, sim.url);
  expect(summary).toMatchObject({ outcome: 'complete', loaded: wallets.length });
  pristine = join(dir, 'pristine.duckdb');
  await copyFile(paths(dir).warehouse, pristine);
});

afterAll(async () => {
  await sim?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A warehouse of its own for one test: the backfilled file, no audit in it yet. */
async function freshWarehouse(name: string): Promise<string> {
  const path = join(dir, `${name}.duckdb`);
  await copyFile(pristine, path);
  if (existsSync(`${pristine}.wal`)) await copyFile(`${pristine}.wal`, `${path}.wal`);
  return path;
}

const auditArgs = (warehouse: string, extra: string[]): string[] => [
  'audit',
  '--warehouse', warehouse,
  '--stage', paths(dir).stage,
  '--rpc', `${sim.chain.url}?apikey=${SECRET}`,
  '--rate-limit', 'rpc=100000/1s',
  '--log-level', 'warn',
  ...extra,
];

const inRange = (seconds: number, toBlock: number): boolean => {
  const block = SIM_CHAIN_CLOCK.blockOf(seconds);
  return block >= AUDIT_START_BLOCK && block <= toBlock;
};

/** The per-wallet figures that do not depend on how the run went (resumed or not). */
const figures = (w: WalletJson) => ({ ...w, log_requests: undefined, resumed_after: undefined });

describe('backfill audit against the simulated Polygon', () => {
  let reference: AuditJson;
  let fullRequests: number;

  it('finds exactly the planted differences and nothing else, exits 2 naming the wallets, stores results and mismatches, never prints the RPC key', async () => {
    const warehouse = await freshWarehouse('full');
    sim.chain.resetCounts();
    const result = await runCli(auditArgs(warehouse, ['--sample', String(wallets.length), '--json']));
    expect(result.code, result.stderr).toBe(2);
    expect(`${result.stdout}${result.stderr}`).not.toContain(SECRET);
    reference = JSON.parse(result.stdout) as AuditJson;
    fullRequests = sim.chain.requests().eth_getLogs ?? 0;
    expect(reference.rpc).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\*\*\*$/);
    expect(reference.exit_code).toBe(2);
    expect([...reference.incomplete].sort()).toEqual(planted.map((p) => p.wallet).sort());
    expect(reference.wallets.map((w) => w.wallet).sort()).toEqual([...wallets].sort());

    for (const w of reference.wallets) {
      const p = planted.find((candidate) => candidate.wallet === w.wallet);
      const combos = [...sim.dataset.fills(w.wallet)].filter((fill) => isComboFill(fill) && inRange(fill.timestamp, reference.to_block)).length;
      expect(w, w.wallet).toMatchObject({
        outcome: p ? 'differs' : 'matches',
        held: sim.dataset.tradeCount(w.wallet),
        missing_from_api: p ? PLAN.missingFromApi : 0,
        under_minimum: p ? PLAN.underMinimum : 0,
        held_not_on_chain: p ? PLAN.heldNotOnChain : 0,
        undecodable: combos + (p ? PLAN.combo : 0),
      });
      expect(w.matched, w.wallet).toBe(w.on_chain - w.missing_from_api - w.under_minimum);
    }

    // The RPC's cap was met and honoured: refused wider requests, none served over it.
    const calls = sim.chain.getLogsCalls();
    expect(calls.some((call) => call.outcome === 'span-cap')).toBe(true);
    expect(calls.filter((call) => call.outcome === 'served').every((call) => call.toBlock - call.fromBlock + 1 <= SPAN_CAP)).toBe(true);

    // The tables: a result per wallet; the planted wallets' mismatches are exactly the planted fills.
    const wh = await DuckDbWarehouse.open({ path: warehouse });
    try {
      const results = await wh.auditResults();
      expect(results.map((r) => r.wallet).sort()).toEqual([...wallets].sort());
      expect(results.filter((r) => !r.complete).map((r) => r.wallet).sort()).toEqual(planted.map((p) => p.wallet).sort());
      for (const wallet of wallets) {
        const p = planted.find((candidate) => candidate.wallet === wallet);
        const mismatches = await wh.auditMismatches(wallet);
        const txs = (kind: string) => mismatches.filter((m) => m.kind === kind).map((m) => m.transactionHash).sort();
        expect(txs('missing-from-api'), wallet).toEqual((p?.missingFromApi ?? []).map((fill) => fill.transaction_hash).sort());
        expect(txs('under-minimum'), wallet).toEqual((p?.underMinimum ?? []).map((fill) => fill.transaction_hash).sort());
        expect(txs('held-not-on-chain'), wallet).toEqual((p?.heldNotOnChain ?? []).map((fill) => fill.transaction_hash).sort());
      }
    } finally {
      await wh.close();
    }

    // Audited again to the same block, for a person: nothing left to walk, the same verdict, the wallets named.
    sim.chain.resetCounts();
    const again = await runCli(auditArgs(warehouse, ['--sample', String(wallets.length), '--to-block', String(reference.to_block)]));
    expect(again.code, again.stderr).toBe(2);
    expect(sim.chain.requests().eth_getLogs ?? 0).toBe(0);
    for (const p of planted) expect(again.stdout).toMatch(new RegExp(`${p.wallet}\\s+DIFFERS\\s+on chain \\d+, held \\d+, matched \\d+, missing from API 2, held not on chain 1, under 0.01 2`));
    expect(again.stdout).toContain(`wallets that do not match the chain: `);
    for (const p of planted) expect(again.stdout.split('wallets that do not match the chain: ')[1]).toContain(p.wallet);
  });

  it('a clean set of wallets exits 0, printing each wallet as matching', async () => {
    const warehouse = await freshWarehouse('clean');
    const clean = wallets.filter((w) => !planted.some((p) => p.wallet === w)).slice(0, 3);
    const file = join(dir, 'clean.txt');
    await writeFile(file, `wallet_address\n${clean.join('\n')}\n`);
    const result = await runCli(auditArgs(warehouse, ['--wallets', file]));
    expect(result.code, result.stderr).toBe(0);
    for (const wallet of clean) expect(result.stdout).toMatch(new RegExp(`${wallet}\\s+MATCHES`));
    expect(result.stdout).toContain(`audited 3 of 3 wallet(s): 3 match, 0 differ`);
    expect(`${result.stdout}${result.stderr}`).not.toContain(SECRET);
  });

  it('an audit killed with SIGKILL mid-way resumes from each wallet\'s last completed range to the same results, for fewer requests than a whole audit', async () => {
    const warehouse = await freshWarehouse('killed');
    sim.chain.resetCounts();
    const killed = startCli(auditArgs(warehouse, ['--sample', String(wallets.length), '--concurrency', '1']));
    // Half a whole audit's eth_getLogs: some wallets done, one part-way, the rest not started.
    await waitFor(() => (sim.chain.requests().eth_getLogs ?? 0) >= fullRequests / 2);
    killed.child.kill('SIGKILL');
    expect((await killed.result).signal).toBe('SIGKILL');

    sim.chain.resetCounts();
    const resumed = await runCli(auditArgs(warehouse, ['--sample', String(wallets.length), '--json']));
    expect(resumed.code, resumed.stderr).toBe(2);
    const after = JSON.parse(resumed.stdout) as AuditJson;
    const resumedRequests = sim.chain.requests().eth_getLogs ?? 0;
    expect(resumedRequests).toBeLessThan(fullRequests);
    expect(after.wallets.some((w) => w.resumed_after !== null)).toBe(true);
    const byWallet = (json: AuditJson) => Object.fromEntries(json.wallets.map((w) => [w.wallet, figures(w)]));
    expect(byWallet(after)).toEqual(byWallet(reference));
    expect([...after.incomplete].sort()).toEqual([...reference.incomplete].sort());
    console.info(
      `audit of ${wallets.length} wallets: ${fullRequests} eth_getLogs whole (${reference.log_requests_per_wallet.toFixed(1)} per wallet, ` +
        `span cap ${SPAN_CAP}); killed at ~half, the resumed run asked ${resumedRequests}`,
    );
  });
});
