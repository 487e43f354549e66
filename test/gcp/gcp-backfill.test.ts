import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { resolveBackends } from '../../src/library/backends.js';
import { ENV, resolveConfig } from '../../src/library/config.js';
import { startBackfill } from '../../src/engine/backfill-run.js';
import { ConfigError } from '../../src/lib/errors.js';
import type { StatusJson } from '../../src/status/status-json.js';
import { createPolymarketSource } from '../../src/polymarket/index.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import type { DuckDbWarehouse } from '../../src/warehouse/duckdb/index.js';
import { TEST_RUN_OPTIONS, UNTHROTTLED, clockBehind, noSleep } from '../../testkit/backfill-harness.js';
import { expectEqualsGroundTruth } from '../../testkit/ground-truth.js';
import { billedBytes } from '../fakes/fake-bigquery-server.js';
import { BUCKET, DATASET, PROJECT, WAREHOUSE_URI, startGcpFakes } from './gcp-test-helpers.js';
import { asWallets } from '../../testkit/wallets.js';
import { runCli } from '../../testkit/cli.js';

type Fakes = Awaited<ReturnType<typeof startGcpFakes>>;

/** The DuckDB engine behind the fake speaks the ground-truth helper's SQL on the same tables. */
const asQueryable = (f: Fakes) => ({ query: <T>(sql: string) => f.engine!.sql<T>(sql) }) as unknown as DuckDbWarehouse;

describe('GCS stage + BigQuery warehouse end to end (simulator → fake GCS → fake BigQuery on DuckDB)', () => {
  let sim: RunningSimulator;
  let f: Fakes;
  const saved = { gcs: process.env[ENV.gcsEndpoint], bq: process.env[ENV.bigqueryEndpoint] };

  beforeAll(async () => {
    sim = await startSimulator({ seed: 7, wallets: 40, maxTradesPerWallet: 400, nowSeconds: clockBehind() });
    // Jobs finish on arrival, so the production polling defaults cost nothing here.
    f = await startGcpFakes({ pollsBeforeDone: 0 });
    process.env[ENV.gcsEndpoint] = f.gcs.url;
    process.env[ENV.bigqueryEndpoint] = f.bq.url;
  });
  afterAll(async () => {
    process.env[ENV.gcsEndpoint] = saved.gcs;
    process.env[ENV.bigqueryEndpoint] = saved.bq;
    if (saved.gcs === undefined) delete process.env[ENV.gcsEndpoint];
    if (saved.bq === undefined) delete process.env[ENV.bigqueryEndpoint];
    await f.close();
    await sim.close();
  });

  it('the library wires gs:// and bigquery:// to the GCP code (endpoints from the environment), keeps the run lease in the bucket keyed on the dataset, and refuses mixed pairs', async () => {
    const wire = (warehouse: string, stage: string) => resolveBackends(resolveConfig({ warehouse, stage }, process.env));
    const backends = wire(WAREHOUSE_URI, `gs://${BUCKET}/cli`);
    expect(backends.stage.location).toBe(`gs://${BUCKET}/cli`);
    expect(backends.leases.location).toMatch(new RegExp(`^gs://${BUCKET}/leases/[0-9a-f]{16}/$`));
    const warehouse = await backends.openWarehouse();
    expect(warehouse.description).toBe(`bigquery://${PROJECT}/${DATASET}?location=US`);
    await warehouse.migrate();
    expect(f.bq.datasets.has(`${PROJECT}.${DATASET}`)).toBe(true);
    const got = await backends.leases.lock('all').acquire('tester', 60_000);
    expect(got.acquired).toBe(true);
    expect(f.gcs.objects(BUCKET).filter((o) => o.name.startsWith('leases/') && o.name.endsWith('/all.lease'))).toHaveLength(1);
    if (got.acquired) await got.lease.release();

    expect(() => wire(WAREHOUSE_URI, './data/stage')).toThrow(/needs a GCS stage/);
    expect(() => wire('./x.duckdb', `gs://${BUCKET}/cli`)).toThrow(ConfigError);
    expect(() => wire('bigquery://p/d', `gs://${BUCKET}/cli`)).toThrow(/invalid project id/);
    expect(() => wire(WAREHOUSE_URI, 'gs://Bad_Bucket/x')).toThrow(ConfigError);
  });

  it('a full engine run loads every simulated wallet equal to the ground truth, in few jobs per batch; a second run does nothing', async () => {
    const backends = resolveBackends(resolveConfig({ warehouse: WAREHOUSE_URI, stage: `gs://${BUCKET}/e2e` }, process.env));
    const stage = backends.stage;
    const warehouse = await backends.openWarehouse();
    await warehouse.migrate();
    await warehouse.addTraders(asWallets(sim.dataset.wallets()), 'test');
    const source = () =>
      createPolymarketSource({ dataApiUrl: sim.url, gammaApiUrl: sim.url, rateLimits: UNTHROTTLED, sleep: noSleep, timeoutMs: 10_000 });
    const options = { ...TEST_RUN_OPTIONS, commit: { ...TEST_RUN_OPTIONS.commit, maxWallets: 20, maxDelayMs: 60_000 } };

    const jobsBefore = f.bq.jobs.size;
    const first = source();
    const summary = await startBackfill({ source: first, stage, warehouse }, options).done.finally(() => first.close());
    expect(summary).toMatchObject({ outcome: 'complete', loaded: 40, failed: 0, planned: 40 });
    await expectEqualsGroundTruth(asQueryable(f), sim.dataset);

    const runJobs = [...f.bq.jobs.values()].slice(jobsBefore);
    // The run's bytes billed, summed from every job's statistics, and their on-demand price.
    const billed = runJobs.reduce((sum, j) => sum + billedBytes(j.bytesPerTable ?? []), 0);
    expect(billed).toBeGreaterThan(0);
    expect(summary.bigquery).toEqual({
      bytesBilled: billed,
      bytesProcessed: runJobs.reduce((sum, j) => sum + (j.bytesPerTable ?? []).reduce((a, b) => a + b, 0), 0),
      jobs: runJobs.length,
      estimatedCostUsd: (billed / 2 ** 40) * 6.25,
    });
    const loads = runJobs.filter((j) => j.kind === 'load');
    const checkpointMerges = runJobs.filter((j) => j.sql?.startsWith('MERGE INTO `test-project.polycopy_test.backfill_checkpoint`'));
    const checkpointWrites = checkpointMerges.filter((j) => 'rows' in j.params);
    // In-flight marks: one statement per window of 32 wallets (not one per wallet), before their fetches.
    const marks = checkpointMerges.filter((j) => 'wallets' in j.params);
    expect(marks.length).toBeGreaterThanOrEqual(2);
    expect(marks.length).toBeLessThanOrEqual(3);
    const tradeMerges = runJobs.filter((j) => j.sql?.startsWith('MERGE INTO `test-project.polycopy_test.trades`'));
    // 40 wallets in batches of 20: at most one load job per kind per batch (trades, markets, events, unresolved ids,
    // activity, combo activity), one trades MERGE per batch, and one load of the run's market resolutions.
    const batches = tradeMerges.length;
    expect(batches).toBeGreaterThanOrEqual(2);
    expect(batches).toBeLessThanOrEqual(3);
    expect(loads.length).toBeLessThanOrEqual(6 * batches + 1);
    expect(checkpointWrites.length).toBeLessThanOrEqual(batches + 1);
    for (const load of loads) expect(load.configuration.load!.sourceUris.every((u) => u.startsWith(`gs://${BUCKET}/e2e/`))).toBe(true);
    for (const job of runJobs.filter((j) => j.kind === 'query')) expect(job.configuration.query!.maximumBytesBilled).toBe('10000000000');
    expect(f.bq.requests.some((r) => r.path.includes('insertAll'))).toBe(false);
    // Staged files are kept after the load (a failed load can be redone without the API).
    expect(f.gcs.objects(BUCKET).filter((o) => o.name.startsWith('e2e/manifests/'))).toHaveLength(40);

    sim.resetStats();
    const second = source();
    const again = await startBackfill({ source: second, stage, warehouse }, options).done.finally(() => second.close());
    expect(again).toMatchObject({ outcome: 'complete', planned: 0, loaded: 0 });
    expect(sim.stats().requests['data:trades'] ?? 0).toBe(0);
    await warehouse.close();
  });

  it('a refresh on BigQuery brings the new fills, and each checkpoint\'s trade_count is the wallet\'s whole count, not its window\'s', async () => {
    const backends = resolveBackends(resolveConfig({ warehouse: WAREHOUSE_URI, stage: `gs://${BUCKET}/e2e` }, process.env));
    const warehouse = await backends.openWarehouse();
    await warehouse.migrate();
    const step = sim.advance({ seconds: 2 * 86_400, seed: 5 });
    expect(step.wallets.length).toBeGreaterThan(0);
    const source = createPolymarketSource({ dataApiUrl: sim.url, gammaApiUrl: sim.url, rateLimits: UNTHROTTLED, sleep: noSleep, timeoutMs: 10_000 });
    const summary = await startBackfill(
      { source, stage: backends.stage, warehouse },
      { ...TEST_RUN_OPTIONS, refresh: { overlapSeconds: 3_600, marketRefreshAfterMs: 0 } },
    ).done.finally(() => source.close());
    expect(summary).toMatchObject({ mode: 'refresh', outcome: 'complete', loaded: 40, failed: 0 });
    await expectEqualsGroundTruth(asQueryable(f), sim.dataset);
    const held = await f.engine!.sql<{ wallet: string; trades: number; checkpoint: number }>(
      `SELECT c.wallet_address AS wallet, CAST(COUNT(t.trade_id) AS INTEGER) AS trades, CAST(ANY_VALUE(c.trade_count) AS INTEGER) AS checkpoint
       FROM backfill_checkpoint c LEFT JOIN trades t ON t.proxy_wallet = c.wallet_address
       GROUP BY c.wallet_address`,
    );
    expect(held).toHaveLength(40);
    for (const row of held) expect(row.checkpoint, row.wallet).toBe(row.trades);
    await warehouse.close();
  });

  it('the real CLI (`backfill status`, `backfill run`) opens both backends from --warehouse bigquery:// --stage gs://: mission figures, run lease in GCS', async () => {
    const env = { [ENV.gcsEndpoint]: f.gcs.url, [ENV.bigqueryEndpoint]: f.bq.url };
    const status = await runCli(['status', '--warehouse', WAREHOUSE_URI, '--stage', `gs://${BUCKET}/e2e`, '--json'], env);
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    const figures = JSON.parse(status.stdout) as StatusJson;
    expect(figures).toMatchObject({ warehouse: `bigquery://${PROJECT}/${DATASET}?location=US`, source: 'warehouse', completed: 40, total: 40, percent_complete: 100 });
    // No run was recorded yet (the engine runs above were not CLI runs): nothing billed so far.
    expect(figures.bigquery).toEqual({ runs: 0, bytes_billed: 0, bytes_processed: 0, estimated_cost_usd: 0 });

    // `backfill run` takes its run lease in GCS (create, then delete with its generation), finds nothing to do, exits 0.
    f.gcs.requests.length = 0;
    const run = await runCli(
      ['run', '--warehouse', WAREHOUSE_URI, '--stage', `gs://${BUCKET}/e2e`, '--data-api-url', sim.url, '--gamma-api-url', sim.url, '--log-level', 'error'],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    const lease = f.gcs.requests.filter((r) => r.object?.startsWith('leases/'));
    expect(lease.find((r) => r.op === 'upload:multipart')?.query.ifGenerationMatch).toBe('0');
    expect(lease.find((r) => r.op === 'delete')?.query.ifGenerationMatch).toMatch(/^\d+$/);
    expect(f.gcs.objects(BUCKET).filter((o) => o.name.startsWith('leases/'))).toEqual([]);

    // The run recorded itself with what its jobs billed; status and the dashboard sum the records.
    const runs = await f.engine!.sql<{ run_id: string; outcome: string; bytes_billed: bigint; jobs: bigint }>('SELECT run_id, outcome, bytes_billed, jobs FROM backfill_runs');
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ outcome: 'complete' });
    expect(Number(runs[0]!.bytes_billed)).toBeGreaterThanOrEqual(10 * 2 ** 20);
    const after = JSON.parse((await runCli(['status', '--warehouse', WAREHOUSE_URI, '--stage', `gs://${BUCKET}/e2e`, '--json'], env)).stdout) as StatusJson;
    expect(after.bigquery).toMatchObject({ runs: 1, bytes_billed: Number(runs[0]!.bytes_billed) });
    expect(after.bigquery!.estimated_cost_usd).toBeCloseTo((Number(runs[0]!.bytes_billed) / 2 ** 40) * 6.25, 4);
    const human = await runCli(['status', '--warehouse', WAREHOUSE_URI, '--stage', `gs://${BUCKET}/e2e`], env);
    expect(human.stdout).toMatch(/bigquery +[\d,]+ bytes billed by 1 recorded run\(s\) \(~\$[\d.]+/);

    const mixed = await runCli(['status', '--warehouse', WAREHOUSE_URI, '--stage', './data/stage'], env);
    expect(mixed.code).toBe(64);
    expect(mixed.stderr).toMatch(/needs a GCS stage/);
  });

  it('a run whose stage bucket lies outside the dataset\'s location stops at start-up (exit 64, one bucket metadata read, no API call, lease released); BACKFILL_SKIP_LOCATION_CHECK=1 lets it go', async () => {
    const env = { [ENV.gcsEndpoint]: f.gcs.url, [ENV.bigqueryEndpoint]: f.bq.url };
    const args = ['run', '--warehouse', WAREHOUSE_URI, '--stage', `gs://${BUCKET}/e2e`, '--data-api-url', sim.url, '--gamma-api-url', sim.url, '--log-level', 'error', '--retry-parked'];
    f.gcs.placeBucket(BUCKET, { location: 'EUROPE-WEST1', locationType: 'region' });
    // One wallet to do again, so that a run let through would have work and leave a trace.
    const checkpoints = async () => Number((await f.engine!.sql<{ n: number }>('SELECT CAST(COUNT(*) AS INTEGER) AS n FROM backfill_checkpoint'))[0]!.n);
    await f.engine!.sql('DELETE FROM backfill_checkpoint WHERE wallet_address = (SELECT MIN(wallet_address) FROM backfill_checkpoint)');
    const pending = await checkpoints();
    try {
      f.gcs.requests.length = 0;
      const requestsBefore = sim.stats().requests['data:trades'] ?? 0;
      const refused = await runCli(args, env);
      expect(refused.code).toBe(64);
      expect(refused.stderr).toContain(`location mismatch: the stage bucket gs://${BUCKET} is in EUROPE-WEST1 (region), but dataset ${PROJECT}:${DATASET} is in US`);
      expect(f.gcs.requests.filter((r) => r.op === 'bucket')).toHaveLength(1);
      expect(sim.stats().requests['data:trades'] ?? 0).toBe(requestsBefore);
      expect(f.gcs.objects(BUCKET).filter((o) => o.name.startsWith('leases/'))).toEqual([]);
      expect(await checkpoints()).toBe(pending);

      const skipped = await runCli(args, { ...env, BACKFILL_SKIP_LOCATION_CHECK: '1' });
      expect(skipped.code, skipped.stderr).toBe(0);
      expect(await checkpoints()).toBe(pending + 1);

      // A us-* region and a US dual-region fit a US dataset.
      f.gcs.placeBucket(BUCKET, { location: 'US', locationType: 'dual-region', dataLocations: ['US-EAST1', 'US-WEST1'] });
      expect((await runCli(args, env)).code).toBe(0);
    } finally {
      f.gcs.placeBucket(BUCKET, { location: 'US', locationType: 'multi-region' });
    }
  });
});
