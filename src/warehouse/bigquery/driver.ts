import { createHash } from 'node:crypto';

import { BigQuery } from '@google-cloud/bigquery';
import type { Dataset, TableMetadata } from '@google-cloud/bigquery';

import { ConfigError } from '../../lib/errors.js';
import type { DriverCapabilities, SqlSession, StagedRelation, WarehouseDriver } from '../driver.js';
import type { ParamType, Params } from '../sql/dialect.js';
import type { LoadedTableSpec, LogicalType } from '../table-schemas.js';
import type { WarehouseCosts } from '../warehouse.js';
import { SQL_TYPES, bigQueryDialect } from './dialect.js';
import { JobRunner } from './jobs.js';
import type { JobRunnerOptions, ParamType as ClientParamType } from './jobs.js';
import { tableRef } from './location.js';
import type { BigQueryLocation } from './location.js';
import { SCHEMA_MIGRATIONS_DEFINITION, TABLE_DEFINITIONS, stagingFields } from './schema.js';
import type { FieldSchema, TableDefinition } from './schema.js';

export interface BigQueryDriverOptions {
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

/**
 * The production backend: staged gzip NDJSON in GCS → a load job per kind into a per-batch
 * staging table → the shared MERGE. Never streaming inserts: rows in the streaming buffer cannot
 * be MERGEd or updated, and checkpoints are MERGEd like everything else. No multi-statement
 * transactions: each MERGE commits alone and is idempotent, so a batch that failed half-way is
 * simply merged again.
 */
export class BigQueryDriver implements WarehouseDriver {
  readonly dialect;
  readonly capabilities: DriverCapabilities;
  readonly description: string;
  readonly identity: string;
  readonly #where: BigQueryLocation;
  readonly #bq: BigQuery;
  readonly #dataset: Dataset;
  readonly #jobs: JobRunner;
  readonly #stagingTtlMs: number;
  readonly #maxUris: number;

  constructor(options: BigQueryDriverOptions) {
    const { where } = options;
    this.#where = where;
    this.#bq = options.bigquery;
    this.dialect = bigQueryDialect(where);
    this.#dataset = this.#bq.dataset(where.datasetId, { projectId: where.projectId, location: where.location });
    this.#jobs = new JobRunner(this.#bq, { ...options.jobs, location: where.location, maximumBytesBilled: where.maximumBytesBilled });
    this.#stagingTtlMs = options.stagingTableTtlMs ?? 6 * 3_600_000;
    this.#maxUris = options.maxUrisPerLoad ?? 10_000;
    this.capabilities = {
      transactions: false,
      cheapLookups: false,
      timePartitions: true,
      duplicateCheck: true,
      billedByBytes: true,
      maxRowsPerStatement: options.checkpointRowsPerStatement ?? 500,
    };
    this.description = `bigquery://${where.projectId}/${where.datasetId}?location=${where.location}`;
    this.identity = `bigquery://${where.projectId}/${where.datasetId}`;
  }

  // ---- schema ----------------------------------------------------------------------------

  async migrate(): Promise<void> {
    await this.#ensureDataset();
    // Table creation is idempotent (409 = exists, checked for missing columns), so a migration
    // interrupted half-way is simply run again; the versions are recorded by the caller last.
    await this.#ensureTable(SCHEMA_MIGRATIONS_DEFINITION);
    for (const table of TABLE_DEFINITIONS) await this.#ensureTable(table);
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
    // Our own tables gain the columns of a newer version; a table someone else made must already
    // be the shared shape, or it is not ours to change.
    if (!def.shared && names.size > 0 && !names.has(def.fields[0]!.name)) {
      throw new ConfigError(
        `table ${this.#where.projectId}.${this.#where.datasetId}.${def.name} exists without columns ${missing.map((f) => f.name).join(', ')}`,
        { hint: 'It was not created by this tool; use another dataset, or rename the existing table' },
      );
    }
    // BigQuery only adds NULLABLE columns to an existing table.
    await table.setMetadata({ schema: { fields: [...existing, ...missing.map((f) => ({ ...f, mode: 'NULLABLE' }))] } });
  }

  // ---- statements ------------------------------------------------------------------------

  async query<T = Record<string, unknown>>(what: string, sql: string, params: Params = {}): Promise<T[]> {
    const { values, types } = bind(params);
    return this.#jobs.rows<T>(await this.#jobs.query(what, sql, values, types));
  }

  async execute(what: string, sql: string, params: Params = {}): Promise<number> {
    const { values, types } = bind(params);
    const done = await this.#jobs.query(what, sql, values, types);
    return Number(done.metadata.statistics?.query?.numDmlAffectedRows ?? 0);
  }

  async *stream<T = Record<string, unknown>>(what: string, sql: string, params: Params, chunkSize: number): AsyncIterable<T[]> {
    const { values, types } = bind(params);
    const done = await this.#jobs.query(what, sql, values, types);
    // Page by page: the next page is only requested when the consumer asks for more.
    let pending: T[] = [];
    for await (const page of this.#jobs.pages<T>(done, chunkSize)) {
      pending.push(...page);
      while (pending.length >= chunkSize) yield pending.splice(0, chunkSize);
    }
    if (pending.length > 0) yield pending;
    pending = [];
  }

  transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    return work(this);
  }

  /** `numBytes` of a table's metadata (tables.get: no job, nothing billed); undefined when unreadable. */
  async tableBytes(name: string): Promise<number | undefined> {
    try {
      const [metadata] = (await this.#dataset.table(name).getMetadata()) as unknown as [TableMetadata];
      const bytes = Number(metadata.numBytes);
      return Number.isFinite(bytes) ? bytes : undefined;
    } catch {
      return undefined;
    }
  }

  /** What this driver's jobs have billed so far (every query and load job, from their statistics). */
  costs(): WarehouseCosts {
    return this.#jobs.costs();
  }

  // ---- staging ---------------------------------------------------------------------------

  /** Staging table + load job(s), both named after the batch's files so a retry finds them. */
  async stageFiles(spec: LoadedTableSpec, uris: readonly string[], versions: readonly string[] = []): Promise<StagedRelation> {
    for (const uri of uris) {
      if (!uri.startsWith('gs://')) {
        throw new ConfigError(`staged file ${uri} is not in GCS; BigQuery loads only from gs:// URIs`, {
          hint: 'Use --stage gs://BUCKET/PREFIX with a bigquery:// warehouse',
        });
      }
    }
    // Versions in the name: a file rewritten under its old name (a wallet fetched again after its staged files were
    // refused) must not find the staging table, and the load jobs, its refused predecessor left behind.
    const table = `backfill_stage_${spec.table}_${digest([...uris, ...versions]).slice(0, 24)}`;
    const fields = stagingFields(spec);
    const generation = await this.#createStagingTable(table, fields);
    let index = 0;
    for (const sourceUris of chunks(uris, this.#maxUris)) {
      // Same files + same staging table generation + same chunk → same job ids. A re-submitted
      // load (a crash, a lost answer, the engine's retry) gets 409 and attaches to the finished
      // job instead of loading twice; a staging table re-created since (new creationTime) gets new ids.
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
    return {
      relation: tableRef(this.#where, table),
      params: {},
      unique: false,
      dispose: () => this.#dropTable(table),
    };
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

  async #dropTable(name: string): Promise<void> {
    try {
      await this.#dataset.table(name).delete();
    } catch {
      // Best effort: the table expires on its own.
    }
  }

  async close(): Promise<void> {
    // Nothing to release: the client holds only keep-alive HTTP connections.
  }
}

function status(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function digest(parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/** Typed parameters in the client's form; TIMESTAMP values go through the client's own converter. */
function bind(params: Params): { values: Record<string, unknown>; types: Record<string, ClientParamType> } {
  const values: Record<string, unknown> = {};
  const types: Record<string, ClientParamType> = {};
  for (const [name, p] of Object.entries(params)) {
    values[name] = toValue(p.type, p.value);
    types[name] = toType(p.type);
  }
  return { values, types };
}

function toType(type: ParamType): ClientParamType {
  if (type === 'string[]') return ['STRING'];
  if (typeof type === 'object') return [Object.fromEntries(Object.entries(type.rows).map(([k, t]) => [k, SQL_TYPES[t]]))];
  return SQL_TYPES[type];
}

function toValue(type: ParamType, value: unknown): unknown {
  if (type === 'string[]') return value;
  if (typeof type === 'object') {
    return (value as readonly Record<string, unknown>[]).map((row) =>
      Object.fromEntries(Object.entries(type.rows).map(([k, t]) => [k, scalar(t, row[k] ?? null)])),
    );
  }
  return scalar(type, value);
}

function scalar(type: LogicalType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  return type === 'timestamp' ? BigQuery.timestamp(String(value)) : value;
}
