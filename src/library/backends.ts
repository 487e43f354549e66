import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';

import type { LeaseStore, RunLock } from '../lease/lease.js';
import { LocalLeaseStore } from '../lease/local-file-lease.js';
import { ConfigError } from '../lib/errors.js';
import { checkBucketFitsDataset } from './location-fit.js';
import { gcsUri, parseGcsLocation } from '../staging/gcs/gcs-location.js';
import type { GcsLocation } from '../staging/gcs/gcs-location.js';
import { LocalStageStore } from '../staging/local/local-stage-store.js';
import type { GcsStageStore } from '../staging/gcs/index.js';
import type { FileCheck, StageKind, StageStore, StageWriter, StagedFile, WalletManifest, WriterOptions } from '../staging/stage-store.js';
import { parseBigQueryLocation } from '../warehouse/bigquery/location.js';
import { parseDuckDbLocation } from '../warehouse/duckdb/location.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import type { BackfillConfig } from './config.js';

/**
 * Where the backends are wired, and the only place that knows which stage goes with which
 * warehouse: DuckDB reads staged files from local disk, BigQuery loads them from GCS. Vendor SDKs
 * are imported only when their URI is used, so the embedded default never loads them, and DuckDB
 * only when a warehouse is opened.
 */
export interface Backends {
  kind: 'duckdb' | 'bigquery';
  stage: StageStore;
  /** The run leases of this warehouse, whatever the stage. */
  leases: LeaseStore;
  /** Which data is written (the lease is keyed on it). */
  warehouseIdentity: string;
  /**
   * Where a run publishes its status every few seconds, for `status` and the dashboard while the
   * run holds an embedded warehouse no other process can open; none for a remote one.
   */
  statusSnapshotPath?: string;
  /** `lockWaitMs`: how long an embedded file held by another process is waited for (default 5 s). */
  openWarehouse(options?: { lockWaitMs?: number }): Promise<Warehouse>;
  /**
   * What the configuration alone cannot tell, checked before a run or reload touches data (one
   * metadata read): on BigQuery, that the stage bucket lies inside the dataset's location.
   */
  preflight(): Promise<void>;
}

type Target = { kind: 'duckdb'; path: string } | { kind: 'bigquery'; uri: string };

/** `--warehouse`: a DuckDB path, or `bigquery://…` in any letter case; any other scheme is refused. */
export function parseWarehouseTarget(location: string): Target {
  const scheme = schemeOf(location);
  if (scheme === 'bigquery') {
    if (!/^bigquery:\/\//i.test(location)) throw new ConfigError(`--warehouse ${location}: a BigQuery URI starts with bigquery://`, { hint: 'e.g. bigquery://PROJECT/DATASET?location=US' });
    return { kind: 'bigquery', uri: `bigquery://${location.slice('bigquery://'.length)}` };
  }
  if (scheme !== undefined) {
    throw new ConfigError(`--warehouse ${location}: unsupported warehouse URI scheme "${scheme}:"`, {
      hint: 'Give a DuckDB file path such as ./data/backfill.duckdb, or bigquery://PROJECT/DATASET?location=US',
    });
  }
  return { kind: 'duckdb', path: location };
}

/** `--stage`: a local directory, or `gs://…` in any letter case; any other scheme is refused. */
export function parseStageTarget(location: string): { kind: 'local'; path: string } | { kind: 'gcs'; uri: string } {
  const scheme = schemeOf(location);
  if (scheme === 'gs') {
    if (!/^gs:\/\//i.test(location)) throw new ConfigError(`--stage ${location}: a GCS URI starts with gs://`, { hint: 'e.g. gs://BUCKET/PREFIX' });
    return { kind: 'gcs', uri: `gs://${location.slice('gs://'.length)}` };
  }
  if (scheme !== undefined) {
    throw new ConfigError(`--stage ${location}: unsupported stage URI scheme "${scheme}:"`, { hint: 'Give a local directory or gs://BUCKET/PREFIX' });
  }
  // DuckDB reads staged files by path and would expand these as a glob, loading other directories' files.
  if (/[*?[\]{}]/.test(location)) {
    throw new ConfigError(`--stage ${JSON.stringify(location)} contains a glob character (* ? [ ] { })`, {
      hint: 'Staged files are read by exact path; choose a directory name without these characters',
    });
  }
  return { kind: 'local', path: location };
}

/** A URI scheme, lower-cased; undefined for a plain path (a one-letter "scheme" is a Windows drive). */
function schemeOf(location: string): string | undefined {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(location.trim());
  if (!match || match[1]!.length === 1) return undefined;
  return match[1]!.toLowerCase();
}

export function resolveBackends(config: Pick<BackfillConfig, 'warehouse' | 'stage' | 'duckdbMemoryLimit' | 'endpoints' | 'skipLocationCheck'>): Backends {
  const target = parseWarehouseTarget(config.warehouse);
  const stageTarget = parseStageTarget(config.stage);
  if (target.kind === 'duckdb') {
    if (stageTarget.kind !== 'local') {
      throw new ConfigError(`--warehouse ${config.warehouse} (DuckDB) cannot load from --stage ${config.stage}`, {
        hint: 'DuckDB reads staged files from local disk: use a local --stage directory, or --warehouse bigquery://PROJECT/DATASET with a gs:// stage',
      });
    }
    const location = parseDuckDbLocation(target.path);
    const stage = new LocalStageStore(stageTarget.path);
    // Beside the database file, so every runner of this file finds it whatever its --stage.
    const leases = new LocalLeaseStore(location.path === ':memory:' ? join(stage.location, 'leases') : `${location.path}.leases`);
    return {
      kind: 'duckdb',
      stage,
      leases,
      warehouseIdentity: location.identity,
      ...(location.path === ':memory:' ? {} : { statusSnapshotPath: `${location.path}.status.json` }),
      // Loaded on first use: `status` during a run reads the snapshot and never needs DuckDB's
      // native module, a third of a second of start-up.
      openWarehouse: async (options = {}) =>
        (await import('../warehouse/duckdb/index.js')).DuckDbWarehouse.open({ path: location, memoryLimit: config.duckdbMemoryLimit, ...options }),
      preflight: async () => undefined,
    };
  }
  const where = parseBigQueryLocation(target.uri);
  if (stageTarget.kind !== 'gcs') {
    throw new ConfigError(`--warehouse ${config.warehouse} needs a GCS stage; --stage is ${resolve(stageTarget.path)}`, {
      hint: 'BigQuery load jobs read staged files from GCS: use --stage gs://BUCKET/PREFIX',
    });
  }
  const identity = `bigquery://${where.projectId}/${where.datasetId}`;
  // Parsed once here; the stage, its leases and the location check take the parsed value.
  const stageWhere = parseGcsLocation(stageTarget.uri);
  const stage = new LazyGcsStage(stageWhere, config.endpoints.gcs);
  return {
    kind: 'bigquery',
    stage,
    // At the bucket root, not under the stage prefix: runners of one dataset with different prefixes share it.
    leases: new LazyGcsLeases(stage, `leases/${createHash('sha256').update(identity).digest('hex').slice(0, 16)}`),
    warehouseIdentity: identity,
    openWarehouse: async () => {
      const { openBigQueryWarehouse } = await import('../warehouse/bigquery/index.js');
      return openBigQueryWarehouse(where, config.endpoints.bigquery ? { apiEndpoint: config.endpoints.bigquery } : {});
    },
    // The dataset's own location is checked against the URI when the warehouse opens; this is the bucket's.
    preflight: async () => {
      if (config.skipLocationCheck) return;
      const placement = await (await stage.open()).bucketPlacement();
      checkBucketFitsDataset(where.location, `${where.projectId}:${where.datasetId}`, `gs://${stageWhere.bucket}`, placement);
    },
  };
}

/** A gs:// stage that loads the GCS SDK on first use. */
class LazyGcsStage implements StageStore {
  readonly location: string;
  readonly where: GcsLocation;
  readonly #endpoint: string | undefined;
  #store: Promise<GcsStageStore> | undefined;

  constructor(where: GcsLocation, endpoint: string | undefined) {
    this.location = gcsUri(where);
    this.where = where;
    this.#endpoint = endpoint;
  }

  open(): Promise<GcsStageStore> {
    this.#store ??= import('../staging/gcs/index.js').then(({ openGcsStage }) => openGcsStage(this.where, this.#endpoint ? { apiEndpoint: this.#endpoint } : {}));
    return this.#store;
  }

  async createWriter(kind: StageKind, name: string, options?: WriterOptions): Promise<StageWriter> {
    return (await this.open()).createWriter(kind, name, options);
  }

  async writeManifest(manifest: WalletManifest): Promise<void> {
    return (await this.open()).writeManifest(manifest);
  }

  async readManifest(wallet: string): Promise<WalletManifest | undefined> {
    return (await this.open()).readManifest(wallet);
  }

  async verify(file: StagedFile): Promise<FileCheck> {
    return (await this.open()).verify(file);
  }

  async sweepTemporaryFiles(): Promise<number> {
    return (await this.open()).sweepTemporaryFiles();
  }
}

/** The run leases in the stage's bucket, opened with the stage's client on first use. */
class LazyGcsLeases implements LeaseStore {
  readonly location: string;
  readonly #stage: LazyGcsStage;
  readonly #prefix: string;

  constructor(stage: LazyGcsStage, prefix: string) {
    this.#stage = stage;
    this.#prefix = prefix;
    this.location = `gs://${stage.where.bucket}/${prefix}/`;
  }

  async #open(): Promise<LeaseStore> {
    const store = await this.#stage.open();
    const { GcsLeaseStore } = await import('../lease/gcs-lease.js');
    return new GcsLeaseStore(store.bucket, this.#prefix);
  }

  lock(scope: string): RunLock {
    return {
      location: `${this.location}${scope}.lease`,
      acquire: async (holder, ttlMs, process) => (await this.#open()).lock(scope).acquire(holder, ttlMs, process),
      read: async () => (await this.#open()).lock(scope).read(),
    };
  }

  async scopes(): Promise<string[]> {
    return (await this.#open()).scopes();
  }
}
