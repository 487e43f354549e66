import { createHash } from 'node:crypto';

import { BigQuery } from '@google-cloud/bigquery';
import type { Dataset, TableMetadata } from '@google-cloud/bigquery';

import { ConfigError } from '../../lib/errors.js';
import { LOADED_TABLES } from '../table-schemas.js';
import type { LoadedTableSpec } from '../table-schemas.js';
import type {
  CheckpointRow,
  FailedWallet,
  InvalidTrader,
  LoadResult,
  PlanOptions,
  StatusFigures,
  Warehouse,
  WalletBundle,
} from '../warehouse.js';
import { JobRunner } from './bigquery-jobs.js';
import type { JobRunnerOptions } from './bigquery-jobs.js';
import { tableRef } from './bigquery-location.js';
import type { BigQueryLocation } from './bigquery-location.js';
import { BIGQUERY_MIGRATIONS, SCHEMA_MIGRATIONS_TABLE, SHARED_TABLES, stagingFields } from './bigquery-schema.js';
import type { FieldSchema, TableDefinition } from './bigquery-schema.js';
import {
  CHECKPOINT_ROW_TYPE,
  addTradersSql,
  appliedMigrationsSql,
  checkpointMergeSql,
  failedWalletsSql,
  invalidTradersSql,
  knownIdsSql,
  mergeSql,
  missionQueries,
  planSql,
  recordInvalidSql,
  recordMigrationSql,
  statusFiguresSql,
  tradesRangeSql,
} from './bigquery-sql.js';
import type { TableNamer } from './bigquery-sql.js';

type Kind = keyof typeof LOADED_TABLES;

/** Metadata first, trades last: a reader never sees a trade whose market row is still to come. */
const MERGE_ORDER: readonly Kind[] = ['markets', 'events', 'unresolved', 'trades'];

export interface BigQueryWarehouseOptions {
  where: BigQueryLocation;
  bigquery: BigQuery;
  jobs?: Partial<Omit<JobRunnerOptions, 'location' | 'maximumBytesBilled'>>;
  /** Staging tables expire on their own after this long, so a crashed run leaves nothing behind for long. */
  stagingTableTtlMs?: number;
  /** BigQuery accepts at most 10,000 source URIs per load job. */
  maxUrisPerLoad?: number;
  /** Checkpoint rows per MERGE statement (bounds the request size). */
  checkpointRowsPerStatement?: number;
}

interface StagedKind {
  kind: Kind;
  spec: LoadedTableSpec;
  table: string;
}

/**
 * The production warehouse: staged gzip NDJSON in GCS → one load job per kind into a per-batch
 * staging table → one MERGE per target → staging tables dropped. Never streaming inserts: rows in
 * the streaming buffer cannot be MERGEd or updated, and checkpoints are MERGEd like everything else.
 */
export class BigQueryWarehouse implements Warehouse {
  readonly description: string;
  readonly #where: BigQueryLocation;
  readonly #bq: BigQuery;
  readonly #dataset: Dataset;
  readonly #jobs: JobRunner;
  readonly #n: TableNamer;
  readonly #stagingTtlMs: number;
  readonly #maxUris: number;
  readonly #checkpointChunk: number;
  #known: Partial<Record<'market' | 'event', Promise<Set<string>>>> = {};

  constructor(options: BigQueryWarehouseOptions) {
    const { where } = options;
    this.#where = where;
    this.#bq = options.bigquery;
    this.#dataset = this.#bq.dataset(where.datasetId, { projectId: where.projectId, location: where.location });
    this.#jobs = new JobRunner(this.#bq, { ...options.jobs, location: where.location, maximumBytesBilled: where.maximumBytesBilled });
    this.#n = (table) => tableRef(where, table);
    this.#stagingTtlMs = options.stagingTableTtlMs ?? 6 * 3_600_000;
    this.#maxUris = options.maxUrisPerLoad ?? 10_000;
    this.#checkpointChunk = options.checkpointRowsPerStatement ?? 500;
    this.description = `bigquery://${where.projectId}/${where.datasetId}?location=${where.location}`;
  }

  // ---- schema ----------------------------------------------------------------------------

  async migrate(): Promise<void> {
    await this.#ensureDataset();
    await this.#ensureTable(SCHEMA_MIGRATIONS_TABLE);
    const applied = new Set(
      (await this.#jobs.rows<{ version: number }>(await this.#jobs.query('read migrations', appliedMigrationsSql(this.#n)))).map((r) =>
        Number(r.version),
      ),
    );
    for (const migration of BIGQUERY_MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      // Table creation is idempotent (409 = exists, checked for missing columns), so a migration
      // interrupted half-way is simply run again; the version is recorded last.
      for (const table of migration.tables) await this.#ensureTable(table);
      await this.#jobs.query(
        'record migration',
        recordMigrationSql(this.#n),
        { version: migration.version, description: migration.description },
        { version: 'INT64', description: 'STRING' },
      );
    }
  }

  async #ensureDataset(): Promise<void> {
    try {
      const [metadata] = await this.#dataset.getMetadata();
      const actual = String((metadata as { location?: string }).location ?? '');
      if (actual && actual.toLowerCase() !== this.#where.location.toLowerCase()) {
        throw new ConfigError(`dataset ${this.#where.projectId}:${this.#where.datasetId} is in ${actual}, not ${this.#where.location}`, {
          hint: `Jobs must run where the dataset is; use ?location=${actual} in the warehouse URI`,
        });
      }
      return;
    } catch (error) {
      if (status(error) !== 404) throw error;
    }
    try {
      // In the client's project, which is the URI's.
      await this.#bq.createDataset(this.#where.datasetId, {
        location: this.#where.location,
        description: 'Polymarket wallet trade histories (polycopy-backfill)',
      });
    } catch (error) {
      if (status(error) !== 409) throw error;
    }
  }

  async #ensureTable(def: TableDefinition): Promise<void> {
    const table = this.#dataset.table(def.name);
    try {
      await this.#dataset.createTable(def.name, {
        schema: { fields: def.fields },
        description: def.description,
        ...(def.timePartitioning ? { timePartitioning: def.timePartitioning } : {}),
        ...(def.clustering ? { clustering: def.clustering } : {}),
      });
      return;
    } catch (error) {
      if (status(error) !== 409) throw error;
    }
    const [metadata] = (await table.getMetadata()) as unknown as [TableMetadata];
    const existing = (metadata.schema?.fields ?? []) as FieldSchema[];
    const names = new Set(existing.map((f) => f.name));
    const missing = def.fields.filter((f) => !names.has(f.name));
    if (missing.length === 0) return;
    if (!SHARED_TABLES.has(def.name)) {
      throw new ConfigError(
        `table ${this.#where.projectId}.${this.#where.datasetId}.${def.name} exists without columns ${missing.map((f) => f.name).join(', ')}`,
        { hint: 'It was not created by this tool; use another dataset, or rename the existing table' },
      );
    }
    // BigQuery only adds NULLABLE columns to an existing table.
    await table.setMetadata({ schema: { fields: [...existing, ...missing.map((f) => ({ ...f, mode: 'NULLABLE' }))] } });
  }

  // ---- traders and planning --------------------------------------------------------------

  async addTraders(addresses: readonly string[], source: string): Promise<number> {
    if (addresses.length === 0) return 0;
    let added = 0;
    // Chunked: a query request is limited to 10 MB, and 10,000 addresses are ~0.5 MB.
    for (const chunk of chunks(addresses, 10_000)) {
      const done = await this.#jobs.query('add traders', addTradersSql(this.#n), { wallets: chunk, source }, { wallets: ['STRING'], source: 'STRING' });
      added += affectedRows(done.metadata);
    }
    return added;
  }

  async *planWallets(options: PlanOptions): AsyncIterable<string[]> {
    // A plan starts a run: id look-ups start again from the warehouse as it is now.
    this.#known = {};
    const chunkSize = options.chunkSize ?? 2048;
    const shard = options.shard ?? { index: 0, count: 1 };
    if (!Number.isInteger(shard.count) || shard.count < 1 || !Number.isInteger(shard.index) || shard.index < 0 || shard.index >= shard.count) {
      throw new ConfigError(`invalid shard ${shard.index}/${shard.count}`, { hint: 'The shard index runs from 0 to count-1' });
    }
    const done = await this.#jobs.query(
      'plan wallets',
      planSql(this.#n),
      { retry_parked: options.retryParked, shard_count: shard.count, shard_index: shard.index },
      { retry_parked: 'BOOL', shard_count: 'INT64', shard_index: 'INT64' },
    );
    // Page by page: the next page is only requested when the engine asks for more wallets.
    let pending: string[] = [];
    for await (const page of this.#jobs.pages<{ wallet: string }>(done, chunkSize)) {
      for (const row of page) pending.push(row.wallet);
      while (pending.length >= chunkSize) yield pending.splice(0, chunkSize);
    }
    if (pending.length > 0) yield pending;
    pending = [];
  }

  async recordInvalidTraders(runId: string): Promise<InvalidTrader[]> {
    const found = await this.#jobs.rows<{ value: string }>(await this.#jobs.query('find invalid traders', invalidTradersSql(this.#n)));
    const invalid = found.map(({ value }) => ({ value, reason: describeInvalidAddress(value) }));
    if (invalid.length === 0) return invalid;
    // Chunked so a traders table full of junk cannot exceed the 10 MB request limit.
    for (const chunk of chunks(invalid, 5_000)) {
      await this.#jobs.query(
        'record invalid traders',
        recordInvalidSql(this.#n),
        { rows: chunk.map((i) => ({ wallet_address: i.value, error: i.reason })), run_id: runId },
        { rows: [{ wallet_address: 'STRING', error: 'STRING' }], run_id: 'STRING' },
      );
    }
    return invalid;
  }

  // ---- metadata look-ups -----------------------------------------------------------------

  /**
   * Answered from a snapshot of all known ids, read once per run in pages. One query per run
   * instead of one per wallet: each query bills at least 10 MB per table it reads, so per-wallet
   * look-ups over markets + unresolved_ids would bill ~20 MB × 2 × 100,000 wallets ≈ 4 TB and add
   * a job's latency to every wallet. Ids merged by another runner after the snapshot are merely
   * fetched from Gamma again and upserted; within a run, the engine's claims stop repeats.
   */
  async knownConditionIds(ids: readonly string[]): Promise<Set<string>> {
    return this.#knownAmong('market', ids);
  }

  async knownEventIds(ids: readonly string[]): Promise<Set<string>> {
    return this.#knownAmong('event', ids);
  }

  async #knownAmong(kind: 'market' | 'event', ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const snapshot = (this.#known[kind] ??= this.#readKnown(kind).catch((error: unknown) => {
      delete this.#known[kind];
      throw error;
    }));
    const known = await snapshot;
    return new Set(ids.filter((id) => known.has(id)));
  }

  async #readKnown(kind: 'market' | 'event'): Promise<Set<string>> {
    const known = new Set<string>();
    const done = await this.#jobs.query(`read known ${kind} ids`, knownIdsSql(this.#n, kind));
    for await (const page of this.#jobs.pages<{ id: string }>(done, 100_000)) for (const row of page) known.add(row.id);
    return known;
  }

  // ---- loads -----------------------------------------------------------------------------

  async loadBundles(bundles: readonly WalletBundle[]): Promise<LoadResult> {
    const merged: LoadResult['merged'] = { trades: 0, markets: 0, events: 0, unresolved: 0 };
    const uris: Record<Kind, Set<string>> = { trades: new Set(), markets: new Set(), events: new Set(), unresolved: new Set() };
    for (const bundle of bundles) {
      for (const kind of MERGE_ORDER) {
        const file = bundle.files[kind];
        if (!file || file.rows === 0) continue;
        if (!file.uri.startsWith('gs://')) {
          throw new ConfigError(`staged file ${file.uri} is not in GCS; BigQuery loads only from gs:// URIs`, {
            hint: 'Use --stage gs://BUCKET/PREFIX with a bigquery:// warehouse',
          });
        }
        uris[kind].add(file.uri);
      }
    }
    const kinds = MERGE_ORDER.filter((k) => uris[k].size > 0);
    // Loads are independent and each costs seconds of fixed latency: run them side by side.
    const staged = await settleAll(kinds.map((kind) => this.#stage(kind, [...uris[kind]].sort())));
    for (const s of staged) merged[s.kind] = await this.#merge(s);
    // After every MERGE succeeded; on failure the tables stay for the engine's retry of this batch
    // (same files → same tables → the loads attach to their finished jobs) or expire.
    await Promise.all(staged.map((s) => this.#dropTable(s.table)));
    return { merged };
  }

  /** Staging table + load job(s), both named after the batch's files so a retry finds them. */
  async #stage(kind: Kind, uris: string[]): Promise<StagedKind> {
    const spec = LOADED_TABLES[kind];
    const table = `backfill_stage_${spec.table}_${digest(uris).slice(0, 24)}`;
    const fields = stagingFields(spec);
    const generation = await this.#createStagingTable(table, fields);
    let index = 0;
    for (const sourceUris of chunks(uris, this.#maxUris)) {
      // Same files + same staging table generation + same chunk → same job ids. A re-submitted
      // load (a crash, a lost answer) gets 409 and attaches to the finished job instead of
      // loading twice; a staging table re-created since (new creationTime) gets new ids.
      const idBase = `backfill_load_${spec.table}_${digest([table, generation, String(index), ...sourceUris]).slice(0, 40)}`;
      await this.#jobs.load(`load ${spec.table}`, idBase, {
        sourceUris,
        sourceFormat: 'NEWLINE_DELIMITED_JSON',
        schema: { fields },
        destinationTable: { projectId: this.#where.projectId, datasetId: this.#where.datasetId, tableId: table },
        createDisposition: 'CREATE_NEVER',
        // Append: several chunks fill one table; a file loaded twice is de-duplicated by the MERGE.
        writeDisposition: 'WRITE_APPEND',
        ignoreUnknownValues: false,
        maxBadRecords: 0,
      });
      index += 1;
    }
    return { kind, spec, table };
  }

  /** Creates the unpartitioned staging table with an expiration; returns its creationTime (its generation). */
  async #createStagingTable(name: string, fields: FieldSchema[]): Promise<string> {
    try {
      const [, response] = (await this.#dataset.createTable(name, {
        schema: { fields },
        expirationTime: String(Date.now() + this.#stagingTtlMs),
        description: 'polycopy-backfill batch staging table; dropped after its MERGE, expires on its own otherwise',
        labels: { app: 'polycopy-backfill', role: 'staging' },
      })) as unknown as [unknown, TableMetadata];
      return String(response.creationTime ?? '');
    } catch (error) {
      if (status(error) !== 409) throw error;
    }
    const [metadata] = (await this.#dataset.table(name).getMetadata()) as unknown as [TableMetadata];
    return String(metadata.creationTime ?? '');
  }

  async #merge(staged: StagedKind): Promise<number> {
    const { spec, kind } = staged;
    const params: Record<string, unknown> = {};
    const types: Record<string, string | string[]> = {};
    if (kind === 'trades') {
      const ranges = await this.#jobs.rows<{ wallet: string; min_us: number; max_us: number }>(
        await this.#jobs.query('range of staged trades', tradesRangeSql(this.#n(staged.table))),
      );
      if (ranges.length === 0) return 0;
      params.min_ts = BigQuery.timestamp(microsToIso(Math.min(...ranges.map((r) => Number(r.min_us)))));
      params.max_ts = BigQuery.timestamp(microsToIso(Math.max(...ranges.map((r) => Number(r.max_us)))));
      params.wallets = ranges.map((r) => r.wallet);
      Object.assign(types, { min_ts: 'TIMESTAMP', max_ts: 'TIMESTAMP', wallets: ['STRING'] });
    }
    const done = await this.#jobs.query(
      `merge ${spec.table}`,
      mergeSql(spec, this.#n(spec.table), this.#n(staged.table), { prune: kind === 'trades' }),
      params,
      types,
    );
    return affectedRows(done.metadata);
  }

  async #dropTable(name: string): Promise<void> {
    try {
      await this.#dataset.table(name).delete();
    } catch {
      // Best effort: the table expires on its own.
    }
  }

  // ---- checkpoints and reporting ---------------------------------------------------------

  async writeCheckpoints(rows: readonly CheckpointRow[], options: { maxFailedAttempts: number }): Promise<void> {
    for (const chunk of chunks(rows, this.#checkpointChunk)) {
      await this.#jobs.query(
        'write checkpoints',
        checkpointMergeSql(this.#n),
        {
          rows: chunk.map((r) => ({
            wallet_address: r.wallet_address,
            upload_successful: r.upload_successful,
            trade_count: r.trade_count,
            gcs_file: r.gcs_file,
            processed_at: BigQuery.timestamp(r.processed_at),
            error: r.error === null ? null : truncate(r.error, 4_000),
            run_id: r.run_id,
            transient: r.transient ?? false,
          })),
          max_failed_attempts: options.maxFailedAttempts,
        },
        { rows: [CHECKPOINT_ROW_TYPE as Record<string, string>], max_failed_attempts: 'INT64' },
      );
    }
  }

  async status(): Promise<StatusFigures> {
    const [ours] = await this.#jobs.rows<Record<string, unknown>>(await this.#jobs.query('status figures', statusFiguresSql(this.#n)));
    const n = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
    let completed = n(ours?.completed);
    let total = n(ours?.total);
    let percent: number | null = null;
    // The mission's progress query divides by the trader count, which BigQuery rejects when it is 0.
    if (total > 0) {
      const [mission] = await this.#jobs.rows<{ completed: unknown; total: unknown; percent_complete: unknown }>(
        await this.#jobs.query('mission progress', missionQueries(this.#n).progress),
      );
      completed = n(mission?.completed);
      total = n(mission?.total);
      percent = mission?.percent_complete === null || mission?.percent_complete === undefined ? null : Number(mission.percent_complete);
    }
    return {
      completed,
      total,
      percent_complete: percent,
      failed: n(ours?.failed),
      parked: n(ours?.parked),
      valid_wallets: n(ours?.valid_wallets),
      pending: n(ours?.pending),
      invalid_wallets: n(ours?.invalid_wallets),
      rows: { trades: n(ours?.trades), markets: n(ours?.markets), events: n(ours?.events), unresolved: n(ours?.unresolved) },
      last_processed_at: (ours?.last_processed_at as string | null | undefined) ?? null,
    };
  }

  async failedWallets(options: { limit?: number } = {}): Promise<FailedWallet[]> {
    const rows = await this.#jobs.rows<Record<string, unknown>>(
      await this.#jobs.query('failed wallets', failedWalletsSql(this.#n), { limit: options.limit ?? 1_000_000 }, { limit: 'INT64' }),
    );
    return rows.map((r) => ({
      wallet_address: String(r.wallet_address),
      trade_count: Number(r.trade_count ?? 0),
      processed_at: (r.processed_at as string | null) ?? null,
      error: (r.error as string | null) ?? null,
      attempts: Number(r.attempts ?? 0),
      parked: Boolean(r.parked),
      gcs_file: (r.gcs_file as string | null) ?? null,
    }));
  }

  async close(): Promise<void> {
    // Nothing to release: the client holds only keep-alive HTTP connections.
  }
}

function status(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function affectedRows(metadata: { statistics?: { query?: { numDmlAffectedRows?: string | null } | null } | null }): number {
  return Number(metadata.statistics?.query?.numDmlAffectedRows ?? 0);
}

function digest(parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

async function settleAll<T>(work: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(work);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** Epoch microseconds → RFC 3339 with all six fractional digits (a TIMESTAMP parameter must be exact). */
export function microsToIso(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const rest = micros - ms * 1000;
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, (_, millis: string) => `.${millis}${String(rest).padStart(3, '0')}Z`);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

// Same wording as the DuckDB warehouse, so `backfill failed` reads alike on both.
function describeInvalidAddress(value: string): string {
  const shown = JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  return `invalid wallet address ${shown} in traders: expected 0x followed by 40 hex digits; fix or delete the row, it is not sent to the API`;
}
