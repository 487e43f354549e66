import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { warehouseRetryDecision } from '../../src/engine/commit-batcher.js';
import { ConfigError } from '../../src/lib/errors.js';
import { withRetry } from '../../src/lib/retry.js';
import { BigQueryJobError } from '../../src/warehouse/bigquery/errors.js';
import { parseBigQueryLocation } from '../../src/warehouse/bigquery/location.js';
import { CHECKPOINT_COLUMNS, MIGRATIONS, TRADES } from '../../src/warehouse/table-schemas.js';
import type { CheckpointRow, WalletBundle } from '../../src/warehouse/warehouse.js';
import { billedBytes } from '../fakes/fake-bigquery-server.js';
import type { FakeJob, TableResource } from '../fakes/fake-bigquery-server.js';
import { asWallet } from '../../testkit/wallets.js';
import {
  DATASET,
  PROJECT,
  checkpoint,
  market,
  openStage,
  openWarehouse,
  planAll,
  stageRows,
  startGcpFakes,
  trade,
  wallet,
} from './gcp-test-helpers.js';

type Fakes = Awaited<ReturnType<typeof startGcpFakes>>;

/** A warehouse call under the engine's one retry layer (the CommitBatcher's policy), without waiting. */
const underEngineRetry = <T>(work: () => Promise<T>, attempts = 3) =>
  withRetry(work, { attempts, baseDelayMs: 1, maxDelayMs: 1, classify: warehouseRetryDecision, sleep: () => Promise.resolve() });

const W1 = asWallet(wallet(0x11));
const W2 = asWallet(wallet(0xaa));
const W3 = asWallet(wallet(0xbb));
const MARKET = `0x${'c'.repeat(64)}`;

const insertedTables = (f: Fakes) =>
  f.bq.requests.filter((r) => r.op === 'tables.insert' && r.status === 200).map((r) => r.body as TableResource);
const sqlOf = (job: FakeJob) => job.sql ?? '';
const merges = (f: Fakes, table: string) => f.bq.queryJobs().filter((j) => sqlOf(j).startsWith(`MERGE INTO \`${PROJECT}.${DATASET}.${table}\``));

/** Every query job the product sent carried the byte cap and standard SQL (origin lesson 7). */
function expectEveryQueryCapped(f: Fakes, cap = '10000000000') {
  const jobs = f.bq.queryJobs();
  expect(jobs.length).toBeGreaterThan(0);
  for (const job of jobs) {
    expect(job.configuration.query?.maximumBytesBilled, sqlOf(job).slice(0, 60)).toBe(cap);
    expect(job.configuration.query?.useLegacySql).toBe(false);
  }
}

async function twoWalletBatch(f: Fakes): Promise<WalletBundle[]> {
  const stage = openStage(f.gcs, 'batch');
  const b1 = {
    wallet: W1,
    tradeCount: 2,
    files: {
      trades: await stageRows(stage, 'trades', W1, [trade(W1, 't1', '2024-01-02T03:04:05.000Z'), trade(W1, 't2', '2024-03-09T10:00:00.250Z')]),
      markets: await stageRows(stage, 'markets', W1, [market(MARKET, 'open', '2024-05-01T00:00:00.000Z')]),
    },
  };
  const b2 = {
    wallet: W2,
    tradeCount: 1,
    files: {
      trades: await stageRows(stage, 'trades', W2, [trade(W2, 't3', '2023-12-31T23:59:59.000Z')]),
      // The same market staged by a second wallet, fetched later and now closed: the later row wins.
      markets: await stageRows(stage, 'markets', W2, [market(MARKET, 'closed', '2024-05-02T00:00:00.000Z')]),
    },
  };
  return [b1, b2];
}

describe('BigQuery warehouse against the REST fake (SQL executed on DuckDB)', () => {
  let f: Fakes;
  beforeEach(async () => {
    f = await startGcpFakes();
  });
  afterEach(async () => {
    await f.close();
  });

  it('migrate creates the dataset and tables from the shared specs — trades partitioned by month on timestamp, clustered on proxy_wallet — and a second migrate creates nothing', async () => {
    const wh = openWarehouse(f, openStage(f.gcs));
    await wh.migrate();
    const created = insertedTables(f);
    expect(f.bq.requests.find((r) => r.op === 'datasets.insert')?.body).toMatchObject({ datasetReference: { datasetId: DATASET }, location: 'US' });
    const byName = new Map(created.map((t) => [t.tableReference.tableId, t]));
    expect([...byName.keys()].sort()).toEqual(
      ['activity', 'audit_chain_fills', 'audit_mismatches', 'audit_progress', 'audit_results', 'backfill_checkpoint', 'backfill_runs', 'combo_activity', 'events', 'feed_walks', 'market_resolutions', 'markets', 'positions', 'schema_migrations', 'traders', 'trades', 'unresolved_ids', 'wallet_stats'].sort(),
    );
    // A wallet's rows are read and replaced together: clustered on it.
    expect(byName.get('positions')!.clustering).toEqual({ fields: ['proxy_wallet'] });
    expect(byName.get('wallet_stats')!.clustering).toEqual({ fields: ['proxy_wallet'] });
    const trades = byName.get('trades')!;
    expect(trades.timePartitioning).toEqual({ type: 'MONTH', field: 'timestamp' });
    expect(trades.clustering).toEqual({ fields: ['proxy_wallet'] });
    expect(trades.schema!.fields.map((c) => c.name)).toEqual([...TRADES.columns.map((c) => c.name), 'loaded_at']);
    expect(trades.schema!.fields.find((c) => c.name === 'trade_id')).toEqual({ name: 'trade_id', type: 'STRING', mode: 'REQUIRED' });
    expect(trades.schema!.fields.find((c) => c.name === 'timestamp')?.type).toBe('TIMESTAMP');
    // json → STRING (the staged JSON text), as in DuckDB.
    expect(byName.get('markets')!.schema!.fields.find((c) => c.name === 'outcomes')?.type).toBe('STRING');
    expect(byName.get('backfill_checkpoint')!.schema!.fields.map((c) => c.name)).toEqual(CHECKPOINT_COLUMNS.map((c) => c.name));
    expect(byName.get('markets')!.timePartitioning).toBeUndefined();

    f.bq.requests.length = 0;
    await openWarehouse(f, openStage(f.gcs)).migrate();
    expect(insertedTables(f)).toEqual([]);
    expect(await f.engine!.sql('SELECT version FROM schema_migrations ORDER BY version')).toEqual(MIGRATIONS.map((m) => ({ version: BigInt(m.version) })));
    expectEveryQueryCapped(f);
  });

  it("an origin-style traders and backfill_checkpoint gain the missing columns (NULLABLE); a foreign trades table or another location is refused", async () => {
    f.bq.createDataset(PROJECT, DATASET, 'US');
    await f.bq.createTable(PROJECT, DATASET, 'traders', [{ name: 'wallet_address', type: 'STRING', mode: 'REQUIRED' }]);
    await f.bq.createTable(PROJECT, DATASET, 'backfill_checkpoint', [
      { name: 'wallet_address', type: 'STRING', mode: 'NULLABLE' },
      { name: 'completed', type: 'BOOLEAN', mode: 'NULLABLE' },
      { name: 'processed_at', type: 'TIMESTAMP', mode: 'NULLABLE' },
      { name: 'trade_count', type: 'INTEGER', mode: 'NULLABLE' },
      { name: 'gcs_file', type: 'STRING', mode: 'NULLABLE' },
      { name: 'upload_successful', type: 'BOOLEAN', mode: 'NULLABLE' },
    ]);
    await f.engine!.sql(`INSERT INTO traders VALUES ('${W1}')`);
    const wh = openWarehouse(f, openStage(f.gcs));
    await wh.migrate();
    const patches = f.bq.requests.filter((r) => r.op === 'tables.patch');
    expect(patches).toHaveLength(2);
    const checkpointPatch = patches.find((r) => r.path.endsWith('/backfill_checkpoint'))!.body as { schema: { fields: { name: string; mode: string }[] } };
    expect(checkpointPatch.schema.fields.slice(6)).toEqual(
      CHECKPOINT_COLUMNS.slice(6).map(({ name }) => expect.objectContaining({ name, mode: 'NULLABLE' })),
    );
    expect(await wh.addTraders([W1, W2], 'test')).toBe(1);
    expect(await planAll(wh)).toEqual([W1, W2]);

    const other = await startGcpFakes();
    try {
      other.bq.createDataset(PROJECT, DATASET, 'US');
      await other.bq.createTable(PROJECT, DATASET, 'trades', [{ name: 'id', type: 'STRING' }, { name: 'wallet_address', type: 'STRING' }]);
      await expect(openWarehouse(other, openStage(other.gcs)).migrate()).rejects.toThrow(/trades exists without columns trade_id, proxy_wallet/);
    } finally {
      await other.close();
    }
    const eu = await startGcpFakes();
    try {
      eu.bq.createDataset(PROJECT, DATASET, 'EU');
      await expect(openWarehouse(eu, openStage(eu.gcs)).migrate()).rejects.toThrow(/is in EU, not US.*location=EU/);
    } finally {
      await eu.close();
    }
  });

  it('loads a batch with one load job per kind from the gs:// URIs into expiring staging tables, one MERGE per kind (metadata first), then drops them', async () => {
    const wh = openWarehouse(f, openStage(f.gcs));
    await wh.migrate();
    const bundles = await twoWalletBatch(f);
    f.bq.requests.length = 0;
    const before = Date.now();
    const result = await wh.loadBundles(bundles);
    expect(result.merged).toEqual({ trades: 3, markets: 1, events: 0, unresolved: 0, activity: 0, combo_activity: 0, resolutions: 0 });

    const loads = f.bq.loadJobs();
    expect(loads.map((j) => j.configuration.load!.destinationTable.tableId.replace(/_[0-9a-f]+$/, ''))).toEqual(
      expect.arrayContaining(['backfill_stage_trades', 'backfill_stage_markets']),
    );
    expect(loads).toHaveLength(2);
    const tradesLoad = loads.find((j) => j.configuration.load!.destinationTable.tableId.startsWith('backfill_stage_trades'))!;
    expect(tradesLoad.configuration.load).toMatchObject({
      sourceUris: [bundles[0]!.files.trades!.uri, bundles[1]!.files.trades!.uri].sort(),
      sourceFormat: 'NEWLINE_DELIMITED_JSON',
      writeDisposition: 'WRITE_APPEND',
      createDisposition: 'CREATE_NEVER',
      destinationTable: { projectId: PROJECT, datasetId: DATASET },
    });
    expect(tradesLoad.configuration.load!.sourceUris.every((u) => u.startsWith('gs://'))).toBe(true);
    expect(tradesLoad.configuration.load!.schema.fields.map((c) => c.name)).toEqual(TRADES.columns.map((c) => c.name));

    const staging = insertedTables(f).filter((t) => t.tableReference.tableId.startsWith('backfill_stage_'));
    expect(staging).toHaveLength(2);
    for (const t of staging) {
      expect(t.timePartitioning).toBeUndefined();
      expect(Number(t.expirationTime)).toBeGreaterThan(before + 5 * 3_600_000);
      expect(Number(t.expirationTime)).toBeLessThan(Date.now() + 7 * 3_600_000);
    }

    const [tradesMerge] = merges(f, 'trades');
    const [marketsMerge] = merges(f, 'markets');
    expect(tradesMerge && marketsMerge).toBeTruthy();
    expect(f.bq.queryJobs().indexOf(marketsMerge!)).toBeLessThan(f.bq.queryJobs().indexOf(tradesMerge!));
    const tradesSql = sqlOf(tradesMerge!);
    expect(tradesSql).toContain('QUALIFY ROW_NUMBER() OVER (PARTITION BY `trade_id`) = 1');
    expect(tradesSql).toContain(
      'ON t.`trade_id` = s.`trade_id` AND ((t.`timestamp` >= @ts_from_0 AND t.`timestamp` < @ts_to_0) OR (t.`timestamp` >= @ts_from_1 AND t.`timestamp` < @ts_to_1)) AND t.`proxy_wallet` IN UNNEST(@wallets)',
    );
    expect(tradesSql).not.toContain('WHEN MATCHED');
    expect(tradesSql).toContain('WHEN NOT MATCHED THEN INSERT');
    // The pruning constants are exactly the batch's months (Dec 2023 + Jan 2024 run together; March
    // alone; February, which has no trade, is left out) and wallets.
    expect(tradesMerge!.params).toMatchObject({
      ts_from_0: { type: 'TIMESTAMP', value: '2023-12-01T00:00:00.000Z' },
      ts_to_0: { type: 'TIMESTAMP', value: '2024-02-01T00:00:00.000Z' },
      ts_from_1: { type: 'TIMESTAMP', value: '2024-03-01T00:00:00.000Z' },
      ts_to_1: { type: 'TIMESTAMP', value: '2024-04-01T00:00:00.000Z' },
    });
    expect(tradesMerge!.params.min_ts).toBeUndefined();
    expect((tradesMerge!.params.wallets!.value as { value: string }[]).map((v) => v.value).sort()).toEqual([W1, W2]);
    // The count for the checkpoints reads the same months only.
    const count = f.bq.queryJobs().find((j) => sqlOf(j).includes('AS key_count') && sqlOf(j).includes('.trades`'))!;
    expect(sqlOf(count)).toContain('AND ((`timestamp` >= @ts_from_0 AND `timestamp` < @ts_to_0) OR (`timestamp` >= @ts_from_1 AND `timestamp` < @ts_to_1))');
    expect(count.params).toMatchObject({ ts_from_0: tradesMerge!.params.ts_from_0, ts_to_1: tradesMerge!.params.ts_to_1 });
    // A small markets table is upserted at once (asking which keys it holds would cost more).
    const marketsSql = sqlOf(marketsMerge!);
    expect(marketsSql).toContain('PARTITION BY `condition_id` ORDER BY `fetched_at` DESC');
    expect(marketsSql).toContain('WHEN MATCHED THEN UPDATE SET `market_id` = s.`market_id`');

    expect(f.bq.requests.filter((r) => r.op === 'tables.delete')).toHaveLength(2);
    expect([...f.bq.tables.keys()].filter((k) => k.includes('backfill_stage_'))).toEqual([]);
    expect(await f.engine!.sql('SELECT status FROM markets')).toEqual([{ status: 'closed' }]);

    // Loading the same staged rows again changes nothing: one row per key.
    const again = await wh.loadBundles(bundles);
    expect(again.merged.trades).toBe(0);
    expect(await f.engine!.sql('SELECT trade_id FROM trades ORDER BY trade_id')).toEqual([{ trade_id: 't1' }, { trade_id: 't2' }, { trade_id: 't3' }]);
    expectEveryQueryCapped(f);
    // Never streaming inserts, for data or checkpoints.
    expect(f.bq.requests.some((r) => r.path.includes('insertAll'))).toBe(false);
  });

  it('records totalBytesBilled and totalBytesProcessed of every finished job: costs() is their sum, with the 10 MiB minimum per table read', async () => {
    const wh = openWarehouse(f, openStage(f.gcs));
    await wh.migrate();
    const bundles = await twoWalletBatch(f);
    const before = wh.costs()!;
    const jobsBefore = f.bq.jobs.size;
    await wh.loadBundles(bundles);
    const jobs = [...f.bq.jobs.values()].slice(jobsBefore);
    const after = wh.costs()!;
    expect(after.jobs - before.jobs).toBe(jobs.length);
    expect(after.bytesBilled - before.bytesBilled).toBe(jobs.reduce((sum, j) => sum + billedBytes(j.bytesPerTable ?? []), 0));
    expect(after.bytesProcessed - before.bytesProcessed).toBe(jobs.reduce((sum, j) => sum + (j.bytesPerTable ?? []).reduce((a, b) => a + b, 0), 0));
    // The trades MERGE reads two tables (target and staging): at least 2 × 10 MiB billed.
    const [tradesMerge] = merges(f, 'trades');
    expect(tradesMerge!.bytesPerTable).toHaveLength(2);
    expect(billedBytes(tradesMerge!.bytesPerTable!)).toBeGreaterThanOrEqual(20 * 2 ** 20);
  });

  it('on a large markets table a batch of only new markets merges insert-only, billing the key column instead of the whole table; a known market is still upserted', async () => {
    const wh = openWarehouse(f, openStage(f.gcs));
    await wh.migrate();
    // 40,000 markets of ~1 KB: over the 32 MiB from which the known-keys question pays.
    await f.engine!.sql(`INSERT INTO markets (condition_id, status, raw, fetched_at) SELECT '0xold' || i, 'closed', repeat('x', 1000), TIMESTAMP '2024-01-01' FROM range(40000) r(i)`);
    const tableBytes = (await f.engine!.sql<{ b: bigint }>("SELECT sum(2 + strlen(condition_id) + 2 + strlen(status) + 2 + strlen(raw) + 8)::BIGINT AS b FROM markets"))[0]!.b;
    expect(Number(tableBytes)).toBeGreaterThan(32 * 2 ** 20);
    const bundles = await twoWalletBatch(f);
    await wh.loadBundles(bundles);
    const [known] = f.bq.queryJobs().filter((j) => sqlOf(j).startsWith('SELECT COUNT(*) AS known'));
    expect(known!.bytesPerTable).toHaveLength(2);
    const [insertOnly] = merges(f, 'markets');
    expect(sqlOf(insertOnly!)).not.toContain('WHEN MATCHED');
    // Target side: condition_id alone (~60 B × 40,000), not the ~40 MB table an upsert bills.
    expect(insertOnly!.bytesPerTable![0]).toBeLessThan(3 * 2 ** 20);
    expect(await f.engine!.sql(`SELECT status FROM markets WHERE condition_id = '${MARKET}'`)).toEqual([{ status: 'closed' }]);

    // The same market staged again, now known: the upsert refreshes it.
    const stage = openStage(f.gcs, 'refresh');
    await wh.loadBundles([{ wallet: W3, tradeCount: 0, files: { markets: await stageRows(stage, 'markets', W3, [market(MARKET, 'open', '2024-06-01T00:00:00.000Z')]) } }]);
    const upsert = merges(f, 'markets').at(-1)!;
    expect(sqlOf(upsert)).toContain('WHEN MATCHED THEN UPDATE SET `market_id` = s.`market_id`');
    expect(await f.engine!.sql(`SELECT status FROM markets WHERE condition_id = '${MARKET}'`)).toEqual([{ status: 'open' }]);
  });

  it('the trades MERGE and the checkpoint count read only the months the batch has trades in, not the whole range between them (fake on-demand accounting)', async () => {
    const wh = openWarehouse(f, openStage(f.gcs));
    await wh.migrate();
    // Another wallet's year of trades, all between the batch's two months.
    await f.engine!.sql(`INSERT INTO trades (trade_id, proxy_wallet, "timestamp", raw)
      SELECT 'old' || i, '${W3}', TIMESTAMP '2023-01-01' + to_days((i % 360)::INT), repeat('x', 100) FROM range(3000) r(i)`);
    const stage = openStage(f.gcs, 'months');
    const bundle = {
      wallet: W1,
      tradeCount: 2,
      files: { trades: await stageRows(stage, 'trades', W1, [trade(W1, 'a', '2022-12-15T00:00:00.000Z'), trade(W1, 'b', '2024-01-15T00:00:00.000Z')]) },
    };
    await wh.loadBundles([bundle]);
    const [tradesMerge] = merges(f, 'trades');
    expect(tradesMerge!.params).toMatchObject({
      ts_from_0: { value: '2022-12-01T00:00:00.000Z' },
      ts_to_0: { value: '2023-01-01T00:00:00.000Z' },
      ts_from_1: { value: '2024-01-01T00:00:00.000Z' },
      ts_to_1: { value: '2024-02-01T00:00:00.000Z' },
    });
    // The target side (the first table the MERGE names) reads no row of 2023: 0 bytes, where the
    // one [min, max] range would have read all 3,000 rows' trade_id, timestamp and proxy_wallet.
    expect(tradesMerge!.bytesPerTable![0]).toBe(0);
    const count = f.bq.queryJobs().find((j) => sqlOf(j).includes('AS key_count') && sqlOf(j).includes('.trades`'))!;
    // The count reads the batch's own two rows, now merged, and nothing of 2023.
    expect(count.bytesPerTable).toHaveLength(1);
    expect(count.bytesPerTable![0]).toBeGreaterThan(0);
    expect(count.bytesPerTable![0]).toBeLessThan(2 * 100);
    const [range] = await f.engine!.sql<{ bytes: number }>(
      `SELECT sum(2 + strlen(trade_id) + 8 + 2 + strlen(proxy_wallet))::BIGINT AS bytes FROM trades WHERE "timestamp" BETWEEN TIMESTAMP '2022-12-15' AND TIMESTAMP '2024-01-15'`,
    );
    expect(Number(range!.bytes)).toBeGreaterThan(3000 * 50);
  });

  it('a batch re-submitted after a crash attaches to its finished load job (409) instead of loading twice: same files → same job id', async () => {
    await openWarehouse(f, openStage(f.gcs)).migrate();
    const bundles = await twoWalletBatch(f);
    // First "process": the loads succeed, then the trades MERGE fails for good, as if the process died there.
    f.bq.failJobs(1, (j) => sqlOf(j).startsWith('MERGE INTO `test-project.polycopy_test.trades`'), {
      reason: 'invalidQuery',
      message: 'Syntax error: injected',
    });
    await expect(openWarehouse(f, openStage(f.gcs)).loadBundles(bundles)).rejects.toBeInstanceOf(BigQueryJobError);
    const firstLoads = f.bq.loadJobs().map((j) => j.jobId);
    expect(firstLoads).toHaveLength(2);
    expect([...f.bq.tables.keys()].filter((k) => k.includes('backfill_stage_'))).toHaveLength(2);

    // Second "process": same files → same staging tables → same load job ids → 409 → attached.
    f.bq.requests.length = 0;
    const second = await openWarehouse(f, openStage(f.gcs)).loadBundles(bundles);
    expect(second.merged.trades).toBe(3);
    const inserts = f.bq.requests.filter((r) => r.op === 'jobs.insert' && (r.body as { configuration: { load?: unknown } }).configuration.load);
    expect(inserts.map((r) => [(r.body as { jobReference: { jobId: string } }).jobReference.jobId, r.status]).sort()).toEqual(
      firstLoads.map((id) => [id, 409]).sort(),
    );
    expect(f.bq.loadJobs()).toHaveLength(2);
    expect(await f.engine!.sql('SELECT count(*) AS n, count(DISTINCT trade_id) AS d FROM trades')).toEqual([{ n: 3n, d: 3n }]);
  });

  it('a load whose jobs.insert answer was lost (503 after the job was created) is re-sent by the client, gets 409 and attaches: one load', async () => {
    const wh = openWarehouse(f, openStage(f.gcs));
    await wh.migrate();
    const bundles = await twoWalletBatch(f);
    f.bq.failAfterProcessing(1, (r) => r.op === 'jobs.insert' && Boolean((r.body as { configuration: { load?: unknown } }).configuration.load));
    const costsBefore = wh.costs()!;
    const jobsBefore = f.bq.jobs.size;
    await wh.loadBundles(bundles);
    // The job attached to again is counted once in what the run reports.
    expect(wh.costs()!.jobs - costsBefore.jobs).toBe(f.bq.jobs.size - jobsBefore);
    const loadInserts = f.bq.requests.filter((r) => r.op === 'jobs.insert' && (r.body as { configuration: { load?: unknown } }).configuration.load);
    expect(loadInserts.map((r) => r.status).sort()).toEqual([200, 409, 503]);
    expect(f.bq.loadJobs()).toHaveLength(2);
    expect(await f.engine!.sql('SELECT count(*) AS n FROM trades')).toEqual([{ n: 3n }]);
  });

  describe('errors by class', () => {
    it('"Could not serialize access … due to concurrent update" (400 invalidQuery) is transient: the engine\'s retry runs it again under a new job id', async () => {
      const wh = openWarehouse(f, openStage(f.gcs));
      await wh.migrate();
      const bundles = await twoWalletBatch(f);
      f.bq.failJobs(1, (j) => sqlOf(j).startsWith('MERGE INTO `test-project.polycopy_test.trades`'), {
        reason: 'invalidQuery',
        message: 'Could not serialize access to table test-project:polycopy_test.trades due to concurrent update',
      });
      expect((await underEngineRetry(() => wh.loadBundles(bundles))).merged.trades).toBe(3);
      const attempts = merges(f, 'trades');
      expect(attempts).toHaveLength(2);
      expect(attempts[0]!.outcome.error?.message).toMatch(/Could not serialize/);
      expect(attempts[1]!.jobId).not.toBe(attempts[0]!.jobId);
    });

    it('"Transaction is aborted due to concurrent update" on a checkpoint MERGE is transient too', async () => {
      const wh = openWarehouse(f, openStage(f.gcs));
      await wh.migrate();
      f.bq.failJobs(1, (j) => sqlOf(j).startsWith('MERGE INTO `test-project.polycopy_test.backfill_checkpoint`'), {
        reason: 'invalidQuery',
        message: 'Transaction is aborted due to concurrent update against table test-project:polycopy_test.backfill_checkpoint',
      });
      await underEngineRetry(() => wh.writeCheckpoints([checkpoint(W1, true)], { maxFailedAttempts: 3 }), 5);
      expect(merges(f, 'backfill_checkpoint')).toHaveLength(2);
      expect(await f.engine!.sql('SELECT wallet_address FROM backfill_checkpoint')).toEqual([{ wallet_address: W1 }]);
    });

    it('jobBackendError: the failed job is confirmed DONE first; the engine\'s retry re-submits the load under the next id', async () => {
      const wh = openWarehouse(f, openStage(f.gcs));
      await wh.migrate();
      const bundles = await twoWalletBatch(f);
      f.bq.failJobs(1, (j) => j.kind === 'load' && j.configuration.load!.destinationTable.tableId.startsWith('backfill_stage_trades'), {
        reason: 'jobBackendError',
        message: 'The job encountered an internal error during execution',
      });
      f.bq.requests.length = 0;
      expect((await underEngineRetry(() => wh.loadBundles(bundles))).merged.trades).toBe(3);
      const tradeLoads = f.bq.loadJobs().filter((j) => j.configuration.load!.destinationTable.tableId.startsWith('backfill_stage_trades'));
      expect(tradeLoads.map((j) => j.jobId.slice(-2))).toEqual(['_0', '_1']);
      const failedId = tradeLoads[0]!.jobId;
      // The fake answers RUNNING at insert and DONE on the first jobs.get: that get is the confirmation.
      const seenDone = f.bq.requests.findIndex((r) => r.op === 'jobs.get' && r.path.endsWith(failedId));
      const resubmitted = f.bq.requests.findIndex((r) => r.op === 'jobs.insert' && (r.body as { jobReference: { jobId: string } }).jobReference.jobId === tradeLoads[1]!.jobId);
      expect(seenDone).toBeGreaterThanOrEqual(0);
      expect(seenDone).toBeLessThan(resubmitted);
    });

    it('invalid SQL fails at once with the job id, reason and message; nothing is retried', async () => {
      const wh = openWarehouse(f, openStage(f.gcs));
      await wh.migrate();
      const bundles = await twoWalletBatch(f);
      f.bq.failJobs(1, (j) => sqlOf(j).startsWith('MERGE INTO `test-project.polycopy_test.markets`'), {
        reason: 'invalidQuery',
        message: 'Syntax error: Unexpected keyword QUALIFY at [3:3]',
      });
      const error = await wh.loadBundles(bundles).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BigQueryJobError);
      expect((error as Error).message).toMatch(/merge markets failed \(job backfill_merge_markets_[0-9a-f]+_0, invalidQuery\): Syntax error: Unexpected keyword QUALIFY/);
      expect(merges(f, 'markets')).toHaveLength(1);
      expect(merges(f, 'trades')).toHaveLength(0);
    });

    it('rateLimitExceeded on jobs.insert beyond the client’s own retries is backed off and re-sent with the SAME id (the job may exist)', async () => {
      const wh = openWarehouse(f, openStage(f.gcs));
      await wh.migrate();
      f.bq.requests.length = 0;
      f.bq.failRequests(5, (r) => r.op === 'jobs.insert', 403, 'rateLimitExceeded');
      await wh.writeCheckpoints([checkpoint(W1, true)], { maxFailedAttempts: 3 });
      const inserts = f.bq.requests.filter((r) => r.op === 'jobs.insert');
      expect(inserts.map((r) => r.status)).toEqual([403, 403, 403, 403, 403, 200]);
      expect(new Set(inserts.map((r) => (r.body as { jobReference: { jobId: string } }).jobReference.jobId)).size).toBe(1);
    });

    it('a query over the byte cap fails with a hint naming maximumBytesBilled', async () => {
      const wh = openWarehouse(f, openStage(f.gcs));
      await wh.migrate();
      f.bq.failJobs(1, (j) => sqlOf(j).includes('backfill_checkpoint'), {
        reason: 'bytesBilledLimitExceeded',
        message: 'Query exceeded limit for bytes billed: 10000000000. 20000000000 or higher required.',
      });
      await expect(wh.status()).rejects.toThrow(/maximumBytesBilled=N/);
    });
  });

  it('checkpoints are one MERGE query from an ARRAY<STRUCT> parameter (never insertAll) with the attempts/parked logic of DuckDB', async () => {
    const wh = openWarehouse(f, openStage(f.gcs));
    await wh.migrate();
    await wh.addTraders([W1, W2, W3], 'test');
    await wh.writeCheckpoints([checkpoint(W1, true), checkpoint(W2, false, 'boom')], { maxFailedAttempts: 2 });
    const [write] = merges(f, 'backfill_checkpoint');
    const rows = write!.params.rows!;
    expect(rows.type).toBe('ARRAY');
    expect(rows.arrayType).toMatchObject({ type: 'STRUCT' });
    expect((rows.value as unknown[]).length).toBe(2);
    expect(write!.params.max_failed_attempts).toEqual({ type: 'INT64', value: 2 });
    expect(await planAll(wh)).toEqual([W2, W3]);
    await wh.writeCheckpoints([checkpoint(W2, false, 'boom again')], { maxFailedAttempts: 2 });
    expect(await planAll(wh)).toEqual([W3]);
    expect(await planAll(wh, { retryParked: true })).toEqual([W2, W3]);
    const [failed] = await wh.failedWallets();
    expect(failed).toMatchObject({ wallet_address: W2, attempts: 2, parked: true, error: 'boom again', gcs_file: null });
    await wh.writeCheckpoints([checkpoint(W2, true)], { maxFailedAttempts: 2 });
    expect(await wh.failedWallets()).toEqual([]);
    // An outage failure is recorded but does not move the wallet towards parking.
    await wh.writeCheckpoints([{ ...checkpoint(W3, false, 'API down'), outcome: 'transient', failure_class: 'API unavailable' } as CheckpointRow], { maxFailedAttempts: 1 });
    expect((await wh.failedWallets())[0]).toMatchObject({ wallet_address: W3, attempts: 0, parked: false });
    expect(await planAll(wh)).toEqual([W3]);
    expect(f.bq.requests.some((r) => r.path.includes('insertAll') || r.path.includes('tabledata'))).toBe(false);
    expectEveryQueryCapped(f);
  });

  it("positions are replaced per wallet by MERGE statements that each hold whole wallets (no transactions); a wallet too large for one is written in parts, its flag cleared only with the last", async () => {
    // One row per statement bound: 4 positions per MERGE.
    const wh = openWarehouse(f, openStage(f.gcs), { checkpointRowsPerStatement: 1 });
    await wh.migrate();
    const position = (w: string, token: string, realized: number) => ({
      proxy_wallet: w, condition_id: MARKET, token_id: token, outcome_index: 0, shares: 1, avg_price: 0.5, total_bought: 1, cost_bought_usdc: 0.5,
      realized_pnl: realized, realized_pnl_after_fees: realized, fees_usdc: 0, status: 'open', payout_price: null, settled_pnl: null, fills: 1,
      first_entry_at: '2024-01-01T00:00:00.000Z', last_event_at: '2024-01-01T00:00:00.000Z', computed_at: '2024-06-01T00:00:00.000Z',
    });
    const rows = (w: string, tokens: number, fingerprint: string) => ({
      wallet: w,
      fingerprint,
      positions: Array.from({ length: tokens }, (_, i) => position(w, `t${i}`, i)),
      stats: { proxy_wallet: w, stale: false, realized_pnl: tokens, fills: tokens, markets_traded: 1, top_categories: '[]', skipped: '{}', fingerprint, computed_at: '2024-06-01T00:00:00.000Z' },
    });
    const held = async () =>
      Object.fromEntries(
        (await f.engine!.sql<{ w: string; n: bigint }>('SELECT proxy_wallet AS w, count(*) AS n FROM positions GROUP BY 1 ORDER BY 1')).map((r) => [r.w, Number(r.n)]),
      );
    expect(await wh.writeWalletPnl([rows(W1, 10, 'a'), rows(W2, 3, 'b'), rows(W3, 1, 'c')])).toEqual({ written: 3, unchanged: 0, positions: 14 });
    expect(await held()).toEqual({ [W1]: 10, [W2]: 3, [W3]: 1 });
    const replaces = () => f.bq.queryJobs().filter((j) => sqlOf(j).startsWith(`MERGE INTO \`${PROJECT}.${DATASET}.positions\``));
    // W1 in three parts (no deletion), then W2 and W3 together in one statement that deletes what they no longer hold.
    expect(replaces().map((j) => [(j.params.rows!.value as unknown[]).length, (j.params.wallets!.value as unknown[]).length])).toEqual([[4, 0], [4, 0], [2, 0], [4, 2]]);
    // The figures (and the cleared flag) are written after every part and the deletion of W1's stale tokens.
    const order = f.bq.queryJobs().map((j) => sqlOf(j).slice(0, 60));
    const statsWrite = order.findIndex((q) => q.startsWith(`MERGE INTO \`${PROJECT}.${DATASET}.wallet_stats\``));
    const lastPart = order.findLastIndex((q) => q.startsWith(`MERGE INTO \`${PROJECT}.${DATASET}.positions\``) || q.startsWith(`DELETE FROM \`${PROJECT}.${DATASET}.positions\``));
    expect(statsWrite).toBeGreaterThan(lastPart);
    // Fewer tokens now: the rows they no longer have go, other wallets' rows stay.
    await wh.writeWalletPnl([rows(W1, 6, 'a2'), rows(W2, 1, 'b2')]);
    expect(await held()).toEqual({ [W1]: 6, [W2]: 1, [W3]: 1 });
    expect(await f.engine!.sql(`SELECT token_id, realized_pnl FROM positions WHERE proxy_wallet = '${W2}'`)).toEqual([{ token_id: 't0', realized_pnl: 0 }]);
    expect((await wh.walletStats({ by: 'pnl', limit: 5, minMarkets: 0 })).map((r) => [r.proxy_wallet, r.realized_pnl])).toEqual([[W1, 6], [W2, 1], [W3, 1]]);
  });

  it('plans valid normalised wallets once each, in order, page by page (maxResults/pageToken); shards split them disjointly; bad values are recorded once', async () => {
    const wh = openWarehouse(f, openStage(f.gcs));
    await wh.migrate();
    const hostile = [
      `  ${W2.toUpperCase().replace('0X', '0x')}\t`,
      W2,
      W1,
      W1,
      W3,
      'not-a-wallet',
      "0x'; DROP TABLE trades; --",
      `0x${'g'.repeat(40)}`,
    ];
    for (const value of hostile) await f.engine!.sql(`INSERT INTO traders (wallet_address) VALUES ('${value.replace(/'/g, "''")}')`);
    await f.engine!.sql('INSERT INTO traders (wallet_address) VALUES (NULL)');
    f.bq.requests.length = 0;
    expect(await planAll(wh)).toEqual([W1, W2, W3]);
    const pages = f.bq.requests.filter((r) => r.op === 'queries.get');
    expect(pages.map((r) => [r.query.maxResults, r.query.pageToken])).toEqual([
      ['2', undefined],
      ['2', '2'],
    ]);
    const [plan] = f.bq.queryJobs().filter((j) => sqlOf(j).startsWith('WITH candidates'));
    expect(sqlOf(plan!)).toContain('ABS(MOD(FARM_FINGERPRINT(c.wallet), @shard_count)) = @shard_index');

    const shards = await Promise.all([0, 1, 2].map((index) => planAll(wh, { shard: { index, count: 3 } })));
    expect(shards.flat().sort()).toEqual([W1, W2, W3]);
    expect(new Set(shards.flat()).size).toBe(3);
    await expect(planAll(wh, { shard: { index: 3, count: 3 } })).rejects.toBeInstanceOf(ConfigError);

    const invalid = await wh.recordInvalidTraders('run-1');
    expect(invalid.map((i) => i.value).sort()).toEqual(['not-a-wallet', "0x'; DROP TABLE trades; --", `0x${'g'.repeat(40)}`].sort());
    for (const i of invalid) expect(i.reason).toContain(JSON.stringify(i.value));
    expect(await wh.recordInvalidTraders('run-2')).toEqual([]);
    expect((await wh.failedWallets()).filter((w) => w.parked)).toHaveLength(3);
    expect(await f.engine!.sql('SELECT count(*) AS n FROM trades')).toEqual([{ n: 0n }]);
  });

  it('without an engine the fake answers per SQL pattern: a 5-row plan arrives in pages of 2 and is yielded as chunks of 2, 2, 1', async () => {
    const scripted = await startGcpFakes({ engine: false });
    try {
      const wallets = [1, 2, 3, 4, 5].map((n) => wallet(n));
      scripted.bq.onQuery((job) => (sqlOf(job).startsWith('WITH candidates') ? { rows: wallets.map((w) => ({ wallet: w })) } : undefined));
      const wh = openWarehouse(scripted, openStage(scripted.gcs));
      await wh.migrate();
      const chunks: string[][] = [];
      for await (const chunk of wh.planWallets({ retryParked: true, chunkSize: 2, shard: { index: 1, count: 4 } })) chunks.push(chunk.map((p) => p.wallet));
      expect(chunks).toEqual([wallets.slice(0, 2), wallets.slice(2, 4), wallets.slice(4)]);
      const [plan] = scripted.bq.queryJobs().filter((j) => sqlOf(j).startsWith('WITH candidates'));
      expect(plan!.params).toMatchObject({
        retry_parked: { type: 'BOOL', value: true },
        shard_count: { type: 'INT64', value: 4 },
        shard_index: { type: 'INT64', value: 1 },
      });
      expect(scripted.bq.requests.filter((r) => r.op === 'queries.get' && r.path.endsWith(plan!.jobId)).map((r) => r.query.pageToken)).toEqual([undefined, '2', '4']);
    } finally {
      await scripted.close();
    }
  });

  it("status gives the mission queries' own numbers (run verbatim on the same tables); with no traders it does not divide by zero", async () => {
    const wh = openWarehouse(f, openStage(f.gcs));
    await wh.migrate();
    expect(await wh.status()).toMatchObject({ completed: 0, total: 0, percent_complete: null, pending: 0 });
    expect(f.bq.queryJobs().some((j) => sqlOf(j).includes('* 100.0 /'))).toBe(false);

    await wh.addTraders([W1, W2, W3], 'test');
    await wh.writeCheckpoints([checkpoint(W1, true), checkpoint(W2, false, 'x')], { maxFailedAttempts: 5 });
    const status = await wh.status();
    // The mission's three queries, names replaced by the bare DuckDB names only.
    const [completed] = await f.engine!.sql<{ completed: bigint }>(
      'SELECT COUNT(*) as completed FROM backfill_checkpoint WHERE completed = true AND upload_successful = true',
    );
    const failed = await f.engine!.sql<{ wallet_address: string }>(
      'SELECT wallet_address, trade_count, processed_at FROM backfill_checkpoint WHERE completed = true AND upload_successful = false',
    );
    const [progress] = await f.engine!.sql<{ total: bigint; percent_complete: number }>(
      'SELECT (SELECT COUNT(*) FROM backfill_checkpoint WHERE completed = true AND upload_successful = true) as completed, (SELECT COUNT(DISTINCT wallet_address) FROM traders WHERE wallet_address IS NOT NULL) as total, ROUND((SELECT COUNT(*) FROM backfill_checkpoint WHERE completed = true AND upload_successful = true) * 100.0 / (SELECT COUNT(DISTINCT wallet_address) FROM traders WHERE wallet_address IS NOT NULL), 2) as percent_complete',
    );
    expect(status).toMatchObject({
      completed: Number(completed!.completed),
      total: Number(progress!.total),
      percent_complete: Number(progress!.percent_complete),
      failed: failed.length,
      pending: 2,
      valid_wallets: 3,
    });
    expect(status).toMatchObject({ completed: 1, total: 3, percent_complete: 33.33 });
    expect(status.last_processed_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const progressJob = f.bq.queryJobs().find((j) => sqlOf(j).includes('* 100.0 /'))!;
    expect(sqlOf(progressJob)).toContain('FROM `test-project.polycopy_test.backfill_checkpoint` WHERE completed = true AND upload_successful = true');
  });

  it('id look-ups read one snapshot of known ids per run (not a query per wallet) and include ids known to be unresolvable', async () => {
    const wh = openWarehouse(f, openStage(f.gcs));
    await wh.migrate();
    await f.engine!.sql(`INSERT INTO markets (condition_id) VALUES ('m1')`);
    await f.engine!.sql(`INSERT INTO unresolved_ids (kind, id) VALUES ('market', 'm2'), ('event', 'e9')`);
    await f.engine!.sql(`INSERT INTO events (event_id) VALUES ('e1')`);
    const before = f.bq.queryJobs().length;
    expect(await wh.knownConditionIds(['m1', 'm2', 'm3'])).toEqual(new Set(['m1', 'm2']));
    expect(await wh.knownConditionIds(['m3', 'm1'])).toEqual(new Set(['m1']));
    expect(await wh.knownEventIds(['e1', 'e9', 'e2'])).toEqual(new Set(['e1', 'e9']));
    expect(f.bq.queryJobs().slice(before).map((j) => sqlOf(j).slice(0, 30))).toEqual([
      'SELECT condition_id AS id FROM',
      'SELECT event_id AS id FROM `te',
    ]);
    // A new run (planWallets) reads a fresh snapshot.
    await f.engine!.sql(`INSERT INTO markets (condition_id) VALUES ('m3')`);
    await planAll(wh);
    expect(await wh.knownConditionIds(['m3'])).toEqual(new Set(['m3']));
  });

  it('the warehouse URI is validated before any request; the byte cap is configurable and carried by every query', async () => {
    for (const bad of [
      'bigquery://p/d',
      'bigquery://My-Project/data',
      'bigquery://my-project/bad-dataset',
      'bigquery://my-project/a/b',
      'bigquery://my-project/data?location=US;DROP',
      'bigquery://my-project/data?maximumBytesBilled=-1',
      'bigquery://my-project/data?unknown=1',
    ]) {
      expect(() => parseBigQueryLocation(bad), bad).toThrow(ConfigError);
    }
    expect(parseBigQueryLocation('bigquery://my-project/polycopy_v1?location=europe-west1&maximumBytesBilled=500')).toEqual({
      projectId: 'my-project',
      datasetId: 'polycopy_v1',
      location: 'europe-west1',
      maximumBytesBilled: '500',
    });
    const { openBigQueryWarehouse } = await import('../../src/warehouse/bigquery/index.js');
    const wh = openBigQueryWarehouse(`bigquery://${PROJECT}/${DATASET}?location=US&maximumBytesBilled=123456789`, {
      apiEndpoint: f.bq.url,
      jobs: { sleep: () => Promise.resolve(), pollInitialMs: 1, pollMaxMs: 1 },
    });
    await wh.migrate();
    await wh.status();
    expectEveryQueryCapped(f, '123456789');
  });
});
