import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';

import { openGcsStage } from '../../src/staging/gcs/index.js';
import type { GcsStageStore, OpenGcsStageOptions } from '../../src/staging/gcs/index.js';
import type { StageKind, StageStore, StagedFile } from '../../src/staging/stage-store.js';
import type { CheckpointRow, PlanOptions } from '../../src/warehouse/warehouse.js';
import { openBigQueryWarehouse } from '../../src/warehouse/bigquery/index.js';
import type { OpenBigQueryOptions } from '../../src/warehouse/bigquery/index.js';
import type { SqlWarehouse } from '../../src/warehouse/sql-warehouse.js';
import { createDuckDbEngine } from '../fakes/duckdb-query-engine.js';
import { startFakeBigQuery } from '../fakes/fake-bigquery-server.js';
import type { FakeBigQuery } from '../fakes/fake-bigquery-server.js';
import { startFakeGcs } from '../fakes/fake-gcs-server.js';
import type { FakeGcs } from '../fakes/fake-gcs-server.js';

/** Client retries on, delays shortened to milliseconds so fault tests stay fast. */
// async-retry (used by file.save) refuses a maxTimeout below its 1 s minTimeout, so 1 s is the floor.
export const FAST_GCS_RETRIES = { maxRetries: 3, retryDelayMultiplier: 1, maxRetryDelay: 1, totalTimeout: 30 };

export const BUCKET = 'backfill-test-bucket';

export function openStage(gcs: FakeGcs, prefix = 'stage', options: OpenGcsStageOptions = {}): GcsStageStore {
  return openGcsStage(`gs://${BUCKET}/${prefix}`, { apiEndpoint: gcs.url, retryOptions: FAST_GCS_RETRIES, ...options });
}

export async function gunzipLines(data: Buffer): Promise<unknown[]> {
  const content = await text(Readable.from([data]).pipe(createGunzip()));
  return content
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as unknown);
}

export const wallet = (n: number) => `0x${n.toString(16).padStart(40, '0')}`;

/** Fake GCS + fake BigQuery executing on DuckDB, wired so load jobs read the fake bucket. */
export async function startGcpFakes(options: { pollsBeforeDone?: number; engine?: boolean } = {}) {
  const gcs = await startFakeGcs();
  const engine =
    options.engine === false
      ? undefined
      : await createDuckDbEngine((uri) => {
          const parts = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
          return parts ? gcs.object(parts[1]!, parts[2]!)?.data : undefined;
        });
  const bq = await startFakeBigQuery({ ...(engine ? { engine } : {}), pollsBeforeDone: options.pollsBeforeDone ?? 1 });
  return {
    gcs,
    bq,
    engine,
    async close() {
      await bq.close();
      await gcs.close();
      await engine?.close();
    },
  };
}

export const PROJECT = 'test-project';
export const DATASET = 'polycopy_test';
export const WAREHOUSE_URI = `bigquery://${PROJECT}/${DATASET}?location=US`;

/** Job polling and backoff without real waiting; client HTTP retries shortened. */
export const FAST_JOBS = { sleep: () => Promise.resolve(), pollInitialMs: 1, pollMaxMs: 1 };
export const FAST_BQ_RETRIES = { maxRetries: 3, retryDelayMultiplier: 1, maxRetryDelay: 0.01, totalTimeout: 30 };

/** The BigQuery warehouse on the fake; `_stage` documents which stage its bundles come from (the warehouse itself never needs it). */
export function openWarehouse(fakes: { bq: FakeBigQuery }, _stage?: StageStore, options: OpenBigQueryOptions = {}): SqlWarehouse {
  return openBigQueryWarehouse(WAREHOUSE_URI, {
    apiEndpoint: fakes.bq.url,
    retryOptions: FAST_BQ_RETRIES,
    jobs: FAST_JOBS,
    ...options,
  });
}

export { trade } from '../../testkit/trade-row.js';

export const market = (conditionId: string, status = 'open', fetchedAt = '2024-05-01T00:00:00.000Z') => ({
  condition_id: conditionId,
  market_id: '1',
  question: 'Q?',
  slug: 'q',
  status,
  active: status === 'open',
  closed: status !== 'open',
  outcomes: '["Yes","No"]',
  outcome_prices: '["0.5","0.5"]',
  clob_token_ids: '["1","2"]',
  winning_label: status === 'open' ? null : 'Yes',
  winning_token_id: null,
  start_date: '2024-01-01T00:00:00.000Z',
  end_date: null,
  closed_time: null,
  volume: 10,
  liquidity: null,
  neg_risk: false,
  neg_risk_market_id: null,
  event_ids: '["7"]',
  event_slug: 'e',
  tags: null,
  raw: '{}',
  fetched_at: fetchedAt,
});

/** Stages rows of one kind for a wallet and returns the file. */
export async function stageRows(stage: StageStore, kind: StageKind, w: string, rows: object[]): Promise<StagedFile> {
  const writer = await stage.createWriter(kind, w);
  for (const row of rows) await writer.write(row);
  return writer.commit();
}

export const checkpoint = (w: string, ok: boolean, error: string | null = null, tradeCount = 2): CheckpointRow => ({
  wallet_address: w,
  ...(ok ? { outcome: 'loaded', error: null } : { outcome: 'failed', error: error ?? 'failed', failure_class: 'data' }),
  trade_count: tradeCount,
  gcs_file: ok ? `gs://${BUCKET}/x/trades/${w}.ndjson.gz` : null,
  processed_at: new Date().toISOString(),
  run_id: 'r1',
}) as CheckpointRow;

export async function planAll(warehouse: SqlWarehouse, options: Partial<PlanOptions> = {}): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of warehouse.planWallets({ retryParked: false, chunkSize: 2, ...options })) out.push(...chunk.map((p) => p.wallet));
  return out;
}
