/**
 * Where a wallet's normalised rows are written before any warehouse load. Files are kept after the
 * load, so a failed load can be redone without calling the API again.
 */

/** Every kind of staged file: also what a store's sweep of temporary files recognises as its own. */
export const STAGE_KINDS = ['trades', 'markets', 'events', 'unresolved', 'activity', 'combo_activity', 'resolutions'] as const;
export type StageKind = (typeof STAGE_KINDS)[number];

export interface StagedFile {
  /** Absolute local path or `gs://bucket/object`; this is what `backfill_checkpoint.gcs_file` records. */
  uri: string;
  rows: number;
  /** Size of the stored (compressed) file. */
  bytes: number;
  /** sha256 of the stored bytes, computed while they were written. */
  sha256?: string;
  /** GCS generation of the object: a later write of the same name has another one. */
  generation?: string;
}

/** Streams rows into a staged file; nothing is visible under the final name until `commit`. */
export interface StageWriter {
  write(row: object): Promise<void>;
  /** Flushes, makes the file durable and moves it to its final name atomically. */
  commit(): Promise<StagedFile>;
  /** Drops the temporary file; safe to call after a failed write. */
  abort(): Promise<void>;
  readonly rows: number;
}

/**
 * Written last, after every file of the wallet is committed: its presence is the completeness
 * marker that lets a later run load the wallet without fetching it again. Version 2 carries a
 * checksum of its own content, and each file's size, sha256 and row count.
 */
export interface WalletManifest {
  version: 1 | 2;
  wallet: string;
  run_id: string;
  staged_at: string;
  trade_count: number;
  files: Partial<Record<StageKind, StagedFile>>;
  /**
   * Set when a load of this bundle failed permanently: the warehouse refused what is in the files,
   * so a run fetches the wallet again instead of reusing them (`reload` still may, when asked).
   */
  load_failed?: LoadFailure;
  /** Present (true) when the staged trades leave out fills under 0.01 shares (the API refused `filter_amount`). */
  small_fills_excluded?: true;
  /** sha256 of the manifest without this field (version 2). */
  checksum?: string;
}

/** Why a staged bundle is no longer reused by a run. */
export interface LoadFailure {
  run_id: string;
  /** ISO-8601 UTC. */
  at: string;
  error: string;
}

export interface WriterOptions {
  area?: 'backfill' | 'refresh';
}

/** Names a staged file may have: wallets and batch names, never a path. */
const STAGED_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/**
 * Where a staged file lives under a store's root, as path segments — one layout for every store,
 * so a stage copied between disk and a bucket (or reloaded by the other backend) is found again:
 * `[refresh/]<kind>/<name>.ndjson.gz`, manifests as `manifests/<wallet>.json`.
 */
export function stagedPathSegments(kind: StageKind | 'manifests', name: string, area: WriterOptions['area'] = 'backfill'): string[] {
  if (!STAGED_NAME.test(name)) throw new Error(`invalid staged file name ${JSON.stringify(name)}`);
  const file = `${name}${kind === 'manifests' ? '.json' : '.ndjson.gz'}`;
  return area === 'refresh' ? ['refresh', kind, file] : [kind, file];
}

/** Whether a staged file is still exactly what was written. */
export type FileCheck = { ok: true } | { ok: false; reason: string };

export interface StageStore {
  /** Human-readable root, e.g. `/data/stage` or `gs://bucket/prefix`. */
  readonly location: string;
  /**
   * A writer for one staged file of `name` (a wallet, or a batch name such as `resolutions-<run>`).
   * The `refresh` area holds an incremental refresh's windows, so the backfill's full-history
   * files stay as they were loaded.
   */
  createWriter(kind: StageKind, name: string, options?: WriterOptions): Promise<StageWriter>;
  writeManifest(manifest: WalletManifest): Promise<void>;
  /**
   * The wallet's manifest, or undefined when there is none usable: absent, empty, damaged (its
   * checksum does not match), or naming a file that is gone. Never throws for a damaged manifest:
   * the wallet is simply fetched again.
   */
  readManifest(wallet: string): Promise<WalletManifest | undefined>;
  /** Checks a staged file against what its manifest recorded (size and sha256, or GCS generation). */
  verify(file: StagedFile): Promise<FileCheck>;
  /**
   * Removes temporary files this tool left behind (a killed writer), only ones older than
   * `olderThanMs`, so a writer still running elsewhere is never touched. Returns how many.
   */
  sweepTemporaryFiles(olderThanMs?: number): Promise<number>;
}

/** One wallet's staged files, ready to load. */
export interface WalletBundle {
  wallet: string;
  tradeCount: number;
  files: Partial<Record<StageKind, StagedFile>>;
  /** Markets and events of no wallet (a refresh's market resolutions): no trade counts are read for it. */
  metadataOnly?: boolean;
  /** The trades are a refresh window, not the wallet's whole history: its count is read unpruned. */
  partial?: boolean;
  /** The trades leave out fills under 0.01 shares: the API refused `filter_amount` (see SmallFillsFilter). */
  smallFillsExcluded?: boolean;
  /**
   * Only the wallet's activity (and the markets it touches): its fills were loaded by an earlier run, before
   * activity was collected. The checkpoint's trade count is read from the warehouse.
   */
  activityOnly?: boolean;
}
