/**
 * Where a wallet's normalised rows are written before any warehouse load. Files are kept after the
 * load, so a failed load can be redone without calling the API again.
 */

export type StageKind = 'trades' | 'markets' | 'events' | 'unresolved';

export interface StagedFile {
  /** Absolute local path or `gs://bucket/object`; this is what `backfill_checkpoint.gcs_file` records. */
  uri: string;
  rows: number;
  bytes: number;
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
 * marker that lets a later run load the wallet without fetching it again.
 */
export interface WalletManifest {
  version: 1;
  wallet: string;
  run_id: string;
  staged_at: string;
  trade_count: number;
  files: Partial<Record<StageKind, StagedFile>>;
}

export interface StageStore {
  /** Human-readable root, e.g. `/data/stage` or `gs://bucket/prefix`. */
  readonly location: string;
  createWriter(kind: StageKind, wallet: string): Promise<StageWriter>;
  writeManifest(manifest: WalletManifest): Promise<void>;
  readManifest(wallet: string): Promise<WalletManifest | undefined>;
  /** Removes temporary files left by writers that never committed (a killed run). Returns how many. */
  sweepTemporaryFiles(): Promise<number>;
}
