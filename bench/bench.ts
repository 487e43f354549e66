/**
 * `npm run bench` — not a test. Every figure comes from this one run on this machine; ratios are the
 * stable part, absolute times are noisy.
 *
 * 1. 2,000 ordinary wallets at the documented rate limits (enforced by the simulator) with 50–150 ms
 *    latency: wall time vs the minimum the limits allow for the requests actually sent, and vs a
 *    naive configuration (one wallet at a time, a commit per wallet, no shared market cache).
 * 2. Peak RSS for one whale wallet of 20,000, 200,000 and 500,000 trades, and their ratios.
 * 3. 1,000,000 traders of which 900,000 are checkpointed: time from start to the first trade request.
 * 4. DuckDB MERGE throughput for a 1,000,000-row staged batch.
 * 5. Table size: 200 wallets loaded (API limiter lifted) into an empty warehouse and into one that
 *    already holds 20,000,000 trades: time ratio and peak RSS.
 * 6. `backfill status` on that 20,000,000-trade warehouse.
 * 7. `backfill demo` (300 simulated wallets): peak RSS.
 * 8. `backfill refresh` one simulated day after a backfill: requests and trade rows transferred, and
 *    time, against a full refetch of the same wallets at the documented rate limits.
 * feed-refresh (only when named: `npm run bench -- --only feed-refresh [--feed-wallets 10000]`; at its default of
 *    100,000 wallets it takes hours here): refresh by the global feed against per-wallet refresh on a warehouse,
 *    each checked against the ground truth (bench/feed-refresh-warehouse.ts, which also runs alone).
 *
 * The 20,000,000-trade warehouse takes minutes to build; `--table-cache FILE` keeps it between runs
 * (it is copied for each measurement, never changed).
 */
import { cpus, totalmem } from 'node:os';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import type { RunSummary } from '../src/engine/run-summary.js';
import { defaultConcurrency } from '../src/library/config.js';
import { DEFAULT_RATE_LIMITS } from '../src/polymarket/index.js';
import { LocalStageStore } from '../src/staging/local/local-stage-store.js';
import { startSimulator } from '../src/simulator/index.js';
import type { RunningSimulator } from '../src/simulator/index.js';
import { DuckDbWarehouse } from '../src/warehouse/duckdb/index.js';
import { clockBehind } from '../testkit/backfill-harness.js';
import { startCli, waitFor } from '../testkit/cli.js';
import { compareWithGroundTruth } from '../testkit/ground-truth-diff.js';
import { asWallets } from '../testkit/wallets.js';
import { feedRefreshBench } from './feed-refresh-warehouse.js';

const { values } = parseArgs({
  options: {
    wallets: { type: 'string', default: '2000' },
    'naive-sample': { type: 'string', default: '100' },
    whale: { type: 'string', default: '500000' },
    'small-whale': { type: 'string', default: '20000' },
    traders: { type: 'string', default: '1000000' },
    done: { type: 'string', default: '900000' },
    'merge-rows': { type: 'string', default: '1000000' },
    'mid-whale': { type: 'string', default: '200000' },
    'table-trades': { type: 'string', default: '20000000' },
    'table-wallets': { type: 'string', default: '200' },
    'table-cache': { type: 'string' },
    'refresh-wallets': { type: 'string', default: '1000' },
    'feed-wallets': { type: 'string', default: '100000' },
    'feed-fills-per-day': { type: 'string' },
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
  await warehouse.addTraders(asWallets(wallets), 'bench');
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
    record('1. API-budget efficiency (goal ≥ 0.95; the limiter runs 2 % under the limit, so ≤ 0.98)', (min.ms / ours.durationMs).toFixed(2), 'ratio: minimum time / wall time');
    // The suite checks ground-truth equality on 200 wallets; here it is checked at this size.
    const check = await DuckDbWarehouse.open({ path: join(dir, 'backfill.duckdb') });
    const diff = await compareWithGroundTruth(check, sim.dataset);
    await check.close();
    const equal =
      diff.missing === 0 && diff.extra === 0 && diff.duplicates === 0 && diff.badCheckpoints.length === 0 && diff.marketsMissing === 0 && diff.eventsMissing === 0 &&
      diff.activityMissing === 0 && diff.activityExtra === 0 && diff.activityDuplicates === 0 && diff.comboMismatch === 0 &&
      diff.resolutionsMismatch === 0 && diff.resolutionsMissing === 0 && diff.badActivityCheckpoints.length === 0;
    record(
      '1. warehouse equals the ground truth (fills, activity, combos, resolutions)',
      equal ? 'yes' : 'NO',
      JSON.stringify({ ...diff, badCheckpoints: diff.badCheckpoints.length, badActivityCheckpoints: diff.badActivityCheckpoints.length }),
    );
    const perWallet = (key: string) => ((ours.requests[key] ?? 0) / wallets).toFixed(3);
    record(
      '1. requests per wallet',
      `trades ${perWallet('data:trades')}, activity ${perWallet('data:activity')}, combos ${perWallet('data:activity-combos')}, resolutions ${perWallet('data:resolutions')}`,
      'activity and combos have their own rate buckets beside data:trades',
    );
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
  const mid = Number(values['mid-whale']);
  const small = Number(values['small-whale']);
  const smallRun = await whale(small);
  record(`2. whale ${small.toLocaleString('en')} trades: peak RSS`, `${smallRun.peakRssMb} MB`, `${(smallRun.durationMs / 1000).toFixed(1)} s`);
  const midRun = await whale(mid);
  record(`2. whale ${mid.toLocaleString('en')} trades: peak RSS`, `${midRun.peakRssMb} MB`, `${(midRun.durationMs / 1000).toFixed(1)} s`);
  record(`2. peak RSS ratio ${mid.toLocaleString('en')} / ${small.toLocaleString('en')} (goal ≤ 1.2)`, (midRun.peakRssMb / smallRun.peakRssMb).toFixed(2), '');
  const bigRun = await whale(big);
  record(`2. whale ${big.toLocaleString('en')} trades: peak RSS (goal < 350 MB)`, `${bigRun.peakRssMb} MB`, `${(bigRun.durationMs / 1000).toFixed(1)} s`);
  record(`2. peak RSS ratio ${big.toLocaleString('en')} / ${small.toLocaleString('en')}`, (bigRun.peakRssMb / smallRun.peakRssMb).toFixed(2), '');
}

async function resumeStart(): Promise<void> {
  const traders = Number(values.traders);
  const done = Number(values.done);
  const dir = await tempDir();
  const warehouse = await DuckDbWarehouse.open({ path: join(dir, 'backfill.duckdb') });
  await warehouse.migrate();
  const setup = Date.now();
  await warehouse.query(`INSERT INTO traders (wallet_address, added_at, source) SELECT '0x' || lpad(printf('%x', i), 40, '0'), now()::TIMESTAMP, 'bench' FROM range(1, ${traders + 1}) t(i)`);
  await warehouse.query(
    `INSERT INTO backfill_checkpoint (wallet_address, completed, upload_successful, trade_count, gcs_file, processed_at, error, attempts, parked, run_id) SELECT '0x' || lpad(printf('%x', i), 40, '0'), true, true, 10, NULL, now()::TIMESTAMP, NULL, 0, false, 'bench' FROM range(1, ${done + 1}) t(i)`,
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
  // The bundle's wallet is its rows' wallet: a load refuses a staged file holding another wallet's rows.
  const bundle = { wallet: '0x'.padEnd(42, 'a'), tradeCount: n, files: { trades: file } };
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

/**
 * A warehouse holding `trades` synthetic trades of ~108,000 wallets (185 each, about the size of a
 * real fill with its raw JSON), loaded in address order as a backfill loads them, every wallet
 * listed in traders and checkpointed. Built through the warehouse's own driver (its storage settings).
 */
async function buildBigWarehouse(path: string, trades: number): Promise<void> {
  const perWallet = 185;
  const wallets = Math.ceil(trades / perWallet);
  const step = Math.floor(2 ** 32 / wallets);
  const wallet = (k: string) => `'0x' || printf('%08x', (${k}) * ${step}) || substr(md5((${k})::VARCHAR), 1, 32)`;
  const warehouse = await DuckDbWarehouse.open({ path, memoryLimit: '2GB' });
  await warehouse.migrate();
  const started = Date.now();
  const chunk = 1_000_000;
  for (let start = 0; start < trades; start += chunk) {
    const end = Math.min(trades, start + chunk);
    await warehouse.query(`INSERT INTO trades
SELECT md5('t' || i::VARCHAR), w, CASE WHEN i % 2 = 0 THEN 'BUY' ELSE 'SELL' END,
  (hash(i) % 100000000000000000)::VARCHAR || (hash(i + 7) % 100000000000000000)::VARCHAR,
  '0x' || md5('c' || (i % 50000)::VARCHAR) || md5('d' || (i % 50000)::VARCHAR),
  (hash(i) % 100000) / 100.0, (hash(i + 1) % 1000) / 1000.0, TIMESTAMP '2020-01-01' + to_seconds((hash(i + 2) % 220000000)::BIGINT),
  'Will market ' || (i % 50000)::VARCHAR || ' resolve yes by the end of the month?', '', '', 'Yes', 999,
  '0x' || md5('h' || i::VARCHAR) || md5('g' || i::VARCHAR), 0,
  '{"proxy_wallet":"' || w || '","side":"BUY","token_id":"' || (hash(i) % 100000000000000000)::VARCHAR || '","condition_id":"0x' || md5('c' || (i % 50000)::VARCHAR) ||
  '","size":' || ((hash(i) % 100000) / 100.0)::VARCHAR || ',"price":0.5,"timestamp":' || (1600000000 + hash(i + 2) % 220000000)::VARCHAR ||
  ',"title":"Will market ' || (i % 50000)::VARCHAR || ' resolve yes by the end of the month?","slug":"","icon":"","event_slug":"","outcome":"","outcome_index":999,"name":"user' || (i // ${perWallet})::VARCHAR ||
  '","pseudonym":"Pseudo-' || (i // ${perWallet})::VARCHAR || '","bio":"","profile_image":"","profile_image_optimized":"","transaction_hash":"0x' || md5('h' || i::VARCHAR) || md5('g' || i::VARCHAR) || '"}',
  TIMESTAMP '2026-01-01'
FROM (SELECT i, ${wallet(`i // ${perWallet}`)} AS w FROM range(${start}, ${end}) r(i)) ORDER BY i`);
    log(`big warehouse: ${end.toLocaleString('en')} trades after ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  await warehouse.query(`INSERT INTO traders (wallet_address, added_at, source) SELECT ${wallet('k')}, TIMESTAMP '2026-01-01', 'bench' FROM range(0, ${wallets}) r(k)`);
  await warehouse.query(
    `INSERT INTO backfill_checkpoint (wallet_address, completed, upload_successful, trade_count, gcs_file, processed_at, error, attempts, parked, run_id)
     SELECT ${wallet('k')}, true, true, ${perWallet}, NULL, TIMESTAMP '2026-01-01', NULL, 0, false, 'bench' FROM range(0, ${wallets}) r(k)`,
  );
  await warehouse.query('CHECKPOINT');
  await warehouse.close();
}

async function tableSize(): Promise<void> {
  const trades = Number(values['table-trades']);
  const walletCount = Number(values['table-wallets']);
  const cache = values['table-cache'];
  const work = await tempDir();
  const source = cache ?? join(work, 'big-source.duckdb');
  if (!existsSync(source)) {
    const t = Date.now();
    await buildBigWarehouse(source, trades);
    log(`built a ${trades.toLocaleString('en')}-trade warehouse in ${((Date.now() - t) / 1000).toFixed(0)} s at ${source}`);
  }
  const sim = await startSimulator({ seed: 2026, wallets: walletCount, maxTradesPerWallet: 2000 });
  const lifted = ['--rate-limit', 'data:trades=100000/10s,gamma:markets=100000/10s,gamma:events=100000/10s'];
  try {
    const emptyDir = join(work, 'empty');
    await mkdir(emptyDir);
    await seedTraders(emptyDir, sim.dataset.wallets());
    const empty = await runChild(runArgs(emptyDir, sim, lifted));
    const bigDir = join(work, 'big');
    await mkdir(bigDir);
    await copyFile(source, join(bigDir, 'backfill.duckdb'));
    await seedTraders(bigDir, sim.dataset.wallets());
    const big = await runChild(runArgs(bigDir, sim, lifted));
    if (big.trades !== empty.trades || big.loaded !== walletCount) throw new Error(`table-size runs differ: ${empty.trades} vs ${big.trades} trades, ${big.loaded} wallets`);
    const label = `${walletCount} wallets (${empty.trades.toLocaleString('en')} trades)`;
    record(`5. ${label} into an empty warehouse`, `${(empty.durationMs / 1000).toFixed(1)} s`, `peak RSS ${empty.peakRssMb} MB`);
    record(`5. the same into one holding ${trades.toLocaleString('en')} trades`, `${(big.durationMs / 1000).toFixed(1)} s`, `peak RSS ${big.peakRssMb} MB (goal < 450 MB)`);
    record('5. time ratio big / empty (goal ≤ 1.15)', (big.durationMs / empty.durationMs).toFixed(2), 'API limiter lifted');
    const t = Date.now();
    const status = await startCli(['status', '--warehouse', join(bigDir, 'backfill.duckdb'), '--stage', join(bigDir, 'stage'), '--json']).result;
    const statusMs = Date.now() - t;
    if (status.code !== 0) throw new Error(`status failed: ${status.stderr.slice(-1000)}`);
    const figures = JSON.parse(status.stdout.trim().split('\n').pop() ?? '{}') as { rows?: { trades?: number } };
    record(`6. backfill status on ${(figures.rows?.trades ?? 0).toLocaleString('en')} trades (goal < 2 s)`, `${(statusMs / 1000).toFixed(2)} s`, 'the whole CLI process: Node start-up, open, probe, figures');
  } finally {
    await sim.close();
    await rm(work, { recursive: true, force: true });
  }
}

async function demo(): Promise<void> {
  const dir = await tempDir();
  try {
    const result = await startCli(['demo', '--warehouse', join(dir, 'backfill.duckdb'), '--stage', join(dir, 'stage'), '--log-level', 'warn', '--json']).result;
    const line = result.stdout.split('\n').find((l) => l.startsWith('{"runId"'));
    if (!line) throw new Error(`demo printed no summary (exit ${result.code}): ${result.stderr.slice(-2000)}`);
    const summary = JSON.parse(line) as RunSummary;
    record(`7. demo: ${summary.loaded} wallets, ${summary.trades.toLocaleString('en')} trades: peak RSS (goal < 300 MB)`, `${summary.peakRssMb} MB`, `${(summary.durationMs / 1000).toFixed(1)} s at the documented rate limits`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function refreshVsRefetch(wallets: number, whales: number[]): Promise<void> {
  const sim = await startSimulator({ seed: 2027, wallets, maxTradesPerWallet: 2000, whales, latencyMs: { min: 50, max: 150 }, rateLimits: DEFAULT_RATE_LIMITS, nowSeconds: clockBehind() });
  const work = await tempDir();
  const trades = (summary: RunSummary) => summary.requests['data:trades'] ?? 0;
  try {
    const held = join(work, 'held');
    await mkdir(held);
    await seedTraders(held, sim.dataset.wallets());
    await runChild(runArgs(held, sim, []));
    const day = sim.advance({ seconds: 86_400, seed: 11 });
    sim.resetStats();
    const refresh = await runChild(['refresh', ...runArgs(held, sim, []).slice(1)]);
    const refreshRows = sim.stats().tradeRowsServed;

    const fresh = join(work, 'fresh');
    await mkdir(fresh);
    await seedTraders(fresh, sim.dataset.wallets());
    sim.resetStats();
    const refetch = await runChild(runArgs(fresh, sim, []));
    const refetchRows = sim.stats().tradeRowsServed;
    const mix = whales.length > 0 ? ` + ${whales.length} whales of ${whales.map((w) => w.toLocaleString('en')).join('/')} fills` : '';
    const label = `${wallets.toLocaleString('en')} wallets${mix}, one simulated day later (${day.fills.toLocaleString('en')} new fills in ${day.wallets.length} wallets)`;
    record(`8. refresh of ${label}: trade requests / rows`, `${trades(refresh).toLocaleString('en')} / ${refreshRows.toLocaleString('en')}`, `${(refresh.durationMs / 1000).toFixed(1)} s, requests ${JSON.stringify(refresh.requests)}`);
    record('8. full refetch of the same wallets: trade requests / rows', `${trades(refetch).toLocaleString('en')} / ${refetchRows.toLocaleString('en')}`, `${(refetch.durationMs / 1000).toFixed(1)} s`);
    record('8. refresh / refetch: requests, rows, time', `${(trades(refresh) / trades(refetch)).toFixed(3)}, ${(refreshRows / refetchRows).toFixed(4)}, ${(refresh.durationMs / refetch.durationMs).toFixed(2)}`, 'ratios; rows include the 1 h overlap re-served');
  } finally {
    await sim.close();
    await rm(work, { recursive: true, force: true });
  }
}

const started = Date.now();
if (want('throughput')) await throughput();
if (want('whale')) await whales();
if (want('resume')) await resumeStart();
if (want('merge')) await mergeThroughput();
if (want('table')) await tableSize();
if (want('demo')) await demo();
if (want('refresh')) {
  await refreshVsRefetch(Number(values['refresh-wallets']), []);
  // Long histories: a refetch pages through them, a refresh does not.
  await refreshVsRefetch(Math.max(1, Math.round(Number(values['refresh-wallets']) / 10)), [100_000, 50_000, 20_000, 20_000, 10_000]);
}
if (only?.includes('feed-refresh')) {
  const wallets = Number(values['feed-wallets']);
  // Two fills per tracked wallet and day unless told: 200,000 at 100,000 wallets, as bench/feed-vs-wallets.ts.
  const fillsPerDay = Number(values['feed-fills-per-day'] ?? 2 * wallets);
  const feed = await feedRefreshBench({ wallets, fillsPerDay, maxTrades: 20, concurrency: defaultConcurrency(DEFAULT_RATE_LIMITS['data:trades']), seed: 2112 });
  record(`feed-refresh: ${wallets.toLocaleString('en')} wallets, ${fillsPerDay.toLocaleString('en')} fills in a day`, 'table below', feed.lines.join(' '));
  process.stdout.write(`\n${feed.table}\n`);
}
const cpu = cpus()[0]?.model ?? 'unknown CPU';
process.stdout.write(
  `\nbench on ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; total ${((Date.now() - started) / 1000).toFixed(0)} s\n\n` +
    `| figure | value | note |\n|---|---|---|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}\n`,
);
