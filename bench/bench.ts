/**
 * `npm run bench` — not a test. Every figure comes from this one run on this machine; ratios are the
 * stable part, absolute times are noisy.
 *
 * 1. 2,000 ordinary wallets at the documented rate limits (enforced by the simulator) with 50–150 ms
 *    latency: wall time vs the minimum the limits allow for the requests actually sent, and vs a
 *    naive configuration (one wallet at a time, a commit per wallet, no shared market cache).
 * 2. Peak RSS for one whale wallet of 500,000 trades and of 50,000.
 * 3. 1,000,000 traders of which 900,000 are checkpointed: time from start to the first trade request.
 * 4. DuckDB MERGE throughput for a 1,000,000-row staged batch.
 */
import { cpus, totalmem } from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import type { RunSummary } from '../src/engine/run-summary.js';
import { DEFAULT_RATE_LIMITS } from '../src/polymarket/index.js';
import { LocalStageStore } from '../src/staging/local/local-stage-store.js';
import { startSimulator } from '../src/simulator/index.js';
import type { RunningSimulator } from '../src/simulator/index.js';
import { DuckDbWarehouse } from '../src/warehouse/duckdb/index.js';
import { startCli, waitFor } from '../testkit/cli.js';

const { values } = parseArgs({
  options: {
    wallets: { type: 'string', default: '2000' },
    'naive-sample': { type: 'string', default: '100' },
    whale: { type: 'string', default: '500000' },
    'small-whale': { type: 'string', default: '50000' },
    traders: { type: 'string', default: '1000000' },
    done: { type: 'string', default: '900000' },
    'merge-rows': { type: 'string', default: '1000000' },
    only: { type: 'string' },
  },
});
const only = values.only?.split(',');
const want = (n: string) => !only || only.includes(n);
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const rows: [string, string, string][] = [];
const record = (name: string, value: string, note = '') => {
  rows.push([name, value, note]);
  log(`${name}: ${value} ${note}`);
};

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'backfill-bench-'));
}

async function seedTraders(dir: string, wallets: readonly string[]): Promise<void> {
  const warehouse = await DuckDbWarehouse.open({ path: join(dir, 'backfill.duckdb') });
  await warehouse.migrate();
  await warehouse.addTraders(wallets, 'bench');
  await warehouse.close();
}

function runArgs(dir: string, sim: RunningSimulator, extra: string[]): string[] {
  return ['run', '--warehouse', join(dir, 'backfill.duckdb'), '--stage', join(dir, 'stage'), '--data-api-url', sim.url, '--gamma-api-url', sim.url, '--log-level', 'warn', '--json', ...extra];
}

async function runChild(args: string[]): Promise<RunSummary> {
  const result = await startCli(args).result;
  const last = result.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as RunSummary;
  } catch {
    throw new Error(`run did not print a summary (exit ${result.code}): ${result.stderr.slice(-2000)}`);
  }
}

const limitPerMs = (key: string) => {
  const l = DEFAULT_RATE_LIMITS[key as keyof typeof DEFAULT_RATE_LIMITS];
  if (!l) throw new Error(`no documented limit for ${key}`);
  return l.requests / l.perMs;
};

/** The least time the documented limits allow for these requests: the busiest endpoint decides. */
function minimumMs(requests: Record<string, number>): { ms: number; endpoint: string } {
  let best = { ms: 0, endpoint: '-' };
  for (const [key, count] of Object.entries(requests)) {
    const ms = count / limitPerMs(key);
    if (ms > best.ms) best = { ms, endpoint: key };
  }
  return best;
}

async function throughput(): Promise<void> {
  const wallets = Number(values.wallets);
  const sim = await startSimulator({
    seed: 2026,
    wallets,
    maxTradesPerWallet: 2000,
    latencyMs: { min: 50, max: 150 },
    rateLimits: DEFAULT_RATE_LIMITS,
  });
  try {
    const dir = await tempDir();
    await seedTraders(dir, sim.dataset.wallets());
    const ours = await runChild(runArgs(dir, sim, []));
    const enforced = sim.stats().faultsInjected.rateLimitEnforced ?? 0;
    const min = minimumMs(ours.requests);
    record('1. ordinary wallets: ours', `${(ours.durationMs / 1000).toFixed(1)} s`, `${ours.loaded} wallets, ${ours.trades} trades, requests ${JSON.stringify(ours.requests)}, 429s from the limiter ${enforced}`);
    record('1. minimum the rate limits allow', `${(min.ms / 1000).toFixed(1)} s`, `bound by ${min.endpoint}`);
    record('1. API-budget efficiency (goal ≥ 0.9)', (min.ms / ours.durationMs).toFixed(2), 'ratio: minimum time / wall time');
    await rm(dir, { recursive: true, force: true });

    const sample = Math.min(wallets, Number(values['naive-sample']));
    const naiveDir = await tempDir();
    await seedTraders(naiveDir, sim.dataset.wallets().slice(0, sample));
    sim.resetStats();
    const naive = await runChild(runArgs(naiveDir, sim, ['--concurrency', '1', '--commit-every', '1', '--no-metadata-cache']));
    const oursRate = ours.loaded / ours.durationMs;
    const naiveRate = naive.loaded / naive.durationMs;
    record('1. naive config (1 wallet at a time, commit per wallet, no market cache)', `${((wallets / naiveRate) / 1000).toFixed(0)} s (est.)`, `measured on ${sample} wallets: ${(naive.durationMs / 1000).toFixed(1)} s, requests ${JSON.stringify(naive.requests)}`);
    record('1. speed-up vs naive', `${(oursRate / naiveRate).toFixed(1)}×`, 'ratio of wallets per second');
    await rm(naiveDir, { recursive: true, force: true });
  } finally {
    await sim.close();
  }
}

async function whale(trades: number): Promise<RunSummary> {
  const sim = await startSimulator({ seed: 7, wallets: 1, maxTradesPerWallet: 1, whales: [trades] });
  try {
    const whaleAddress = sim.dataset.walletAddress(1);
    const dir = await tempDir();
    await seedTraders(dir, [whaleAddress]);
    const summary = await runChild(
      runArgs(dir, sim, ['--rate-limit', 'data:trades=100000/10s,gamma:markets=100000/10s,gamma:events=100000/10s']),
    );
    if (summary.trades !== sim.dataset.tradeCount(whaleAddress)) throw new Error(`whale loaded ${summary.trades} of ${sim.dataset.tradeCount(whaleAddress)} trades`);
    await rm(dir, { recursive: true, force: true });
    return summary;
  } finally {
    await sim.close();
  }
}

async function whales(): Promise<void> {
  const big = Number(values.whale);
  const small = Number(values['small-whale']);
  const smallRun = await whale(small);
  record(`2. whale ${small.toLocaleString('en')} trades: peak RSS`, `${smallRun.peakRssMb} MB`, `${(smallRun.durationMs / 1000).toFixed(1)} s`);
  const bigRun = await whale(big);
  record(`2. whale ${big.toLocaleString('en')} trades: peak RSS (goal < 300 MB)`, `${bigRun.peakRssMb} MB`, `${(bigRun.durationMs / 1000).toFixed(1)} s`);
  record('2. peak RSS ratio large/small (goal < 1.2)', (bigRun.peakRssMb / smallRun.peakRssMb).toFixed(2), '');
}

async function resumeStart(): Promise<void> {
  const traders = Number(values.traders);
  const done = Number(values.done);
  const dir = await tempDir();
  const warehouse = await DuckDbWarehouse.open({ path: join(dir, 'backfill.duckdb') });
  await warehouse.migrate();
  const setup = Date.now();
  await warehouse.query(`INSERT INTO traders SELECT '0x' || lpad(printf('%x', i), 40, '0'), now()::TIMESTAMP, 'bench' FROM range(1, ${traders + 1}) t(i)`);
  await warehouse.query(
    `INSERT INTO backfill_checkpoint SELECT '0x' || lpad(printf('%x', i), 40, '0'), true, true, 10, NULL, now()::TIMESTAMP, NULL, 0, false, 'bench' FROM range(1, ${done + 1}) t(i)`,
  );
  await warehouse.close();
  log(`seeded ${traders} traders, ${done} checkpoints in ${Date.now() - setup} ms`);
  const sim = await startSimulator({ seed: 1, wallets: 1 });
  try {
    const started = Date.now();
    const run = startCli(runArgs(dir, sim, []));
    await Promise.race([waitFor(() => (sim.stats().requests['data:trades'] ?? 0) > 0), run.result]);
    const firstRequestMs = Date.now() - started;
    run.child.kill('SIGTERM');
    const result = await run.result;
    const summary = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as Partial<RunSummary>;
    record(`3. ${traders.toLocaleString('en')} traders, ${done.toLocaleString('en')} done: start → first trade request (goal < 3 s)`, `${(firstRequestMs / 1000).toFixed(2)} s`, 'includes Node start-up and DuckDB open');
    record('3. peak RSS of that run', `${summary.peakRssMb ?? '?'} MB`, '');
  } finally {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function mergeThroughput(): Promise<void> {
  const n = Number(values['merge-rows']);
  const dir = await tempDir();
  const stage = new LocalStageStore(join(dir, 'stage'));
  const warehouse = await DuckDbWarehouse.open({ path: join(dir, 'backfill.duckdb') });
  await warehouse.migrate();
  const writer = await stage.createWriter('trades', 'bench');
  const raw = JSON.stringify({ proxy_wallet: '0x'.padEnd(42, 'a'), side: 'BUY', title: 'Will the highest temperature in Dallas be between 100-101°F on September 14?', icon: 'https://polymarket-upload.s3.us-east-2.amazonaws.com/x.jpg' });
  for (let i = 0; i < n; i += 1) {
    await writer.write({
      trade_id: i.toString(16).padStart(32, '0'),
      proxy_wallet: '0x'.padEnd(42, 'a'),
      side: i % 2 ? 'BUY' : 'SELL',
      asset: '107562952936555819668737826428754978979556920505990557747611348541829551199040',
      condition_id: '0x571aafcdc9d3549ac260d5f956adc4ae57d9ace63575abd99db58ba0130e9fcf',
      size: 22.84,
      price: 0.52,
      timestamp: new Date((1_700_000_000 + i) * 1000).toISOString(),
      title: 'Will the highest temperature in Dallas be between 100-101°F on September 14?',
      slug: 'highest-temperature-in-dallas-on-september-14-2026-100-101f',
      event_slug: '',
      outcome: 'Yes',
      outcome_index: 0,
      transaction_hash: '0x7958c0638f1b7ab12d0e3c762a6a2d3fe98edb3f748d0bcbe12adae1a67e58a8',
      fill_seq: 0,
      raw,
    });
  }
  const file = await writer.commit();
  const bundle = { wallet: 'bench', tradeCount: n, files: { trades: file } };
  const first = Date.now();
  const loaded = await warehouse.loadBundles([bundle]);
  const firstMs = Date.now() - first;
  const again = Date.now();
  const reloaded = await warehouse.loadBundles([bundle]);
  const againMs = Date.now() - again;
  record(`4. DuckDB MERGE of a ${n.toLocaleString('en')}-row staged batch`, `${Math.round(n / (firstMs / 1000)).toLocaleString('en')} rows/s`, `${loaded.merged.trades} inserted in ${(firstMs / 1000).toFixed(1)} s`);
  record('4. the same batch merged again (all duplicates)', `${Math.round(n / (againMs / 1000)).toLocaleString('en')} rows/s`, `${reloaded.merged.trades} inserted`);
  await warehouse.close();
  await rm(dir, { recursive: true, force: true });
}

const started = Date.now();
if (want('throughput')) await throughput();
if (want('whale')) await whales();
if (want('resume')) await resumeStart();
if (want('merge')) await mergeThroughput();
const cpu = cpus()[0]?.model ?? 'unknown CPU';
process.stdout.write(
  `\nbench on ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; total ${((Date.now() - started) / 1000).toFixed(0)} s\n\n` +
    `| figure | value | note |\n|---|---|---|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}\n`,
);
