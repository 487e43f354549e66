import type { Dialect, Params } from './sql/dialect.js';
import type { LoadedTableSpec } from './table-schemas.js';
import type { WarehouseCosts } from './warehouse.js';

/**
 * What a backend supplies beneath the shared warehouse (sql-warehouse.ts): a SQL dialect, a way to
 * run statements, and a way to expose staged files to SQL. Everything the warehouse *means* —
 * planning, checkpoints, parking, status — is written once above this line.
 *
 * Errors thrown here carry a failure kind (src/lib/errors.ts): transient when the backend or the
 * machine was unavailable (worth the engine's retry), permanent otherwise. Drivers do not retry
 * on their own beyond their client library's transport retries and DuckDB's wait for a file lock;
 * every layer's budget is in src/lib/retry-budgets.ts.
 */
export interface DriverCapabilities {
  /**
   * The statements of one load commit together. Without it (BigQuery) each statement commits on
   * its own and the MERGEs' idempotence carries a batch that failed half-way.
   */
  transactions: boolean;
  /** Id look-ups are cheap per call (embedded); otherwise known ids are read once per run. */
  cheapLookups: boolean;
  /** The trades table is partitioned by time, so the trades MERGE carries a time range to prune. */
  timePartitions: boolean;
  /**
   * Two runners can insert one trade_id twice (no transactions, and insert-only MERGEs of two
   * runners do not conflict): after each trades MERGE the batch's wallets are checked and repaired.
   */
  duplicateCheck: boolean;
  /** Rows per parameterised statement (bounds the request size). */
  maxRowsPerStatement: number;
  /**
   * Every query bills the bytes it reads (BigQuery on-demand): an upsert of metadata first asks
   * which staged keys the target already holds, so a batch of only new keys merges insert-only
   * and bills the key column instead of the whole table.
   */
  billedByBytes?: boolean;
}

/** Staged rows of one kind, readable by SQL until disposed. */
export interface StagedRelation {
  /** FROM-clause text: a staging table, or a table function over the staged files. */
  relation: string;
  /** Parameters the relation text refers to (e.g. the file list of a table function). */
  params: Params;
  /** Known unique on the target's key, so the MERGE may skip de-duplication. */
  unique: boolean;
  /** Drops whatever staging created; called only after the batch committed. */
  dispose(): Promise<void>;
}

export interface SqlSession {
  /** Rows of a query. `what` names the statement in errors and job labels. */
  query<T = Record<string, unknown>>(what: string, sql: string, params?: Params): Promise<T[]>;
  /** A DML statement; returns the rows it changed. */
  execute(what: string, sql: string, params?: Params): Promise<number>;
  /**
   * Staged files (local paths or gs:// URIs) of one kind, exposed to SQL. `versions` (same order) tell a file's
   * contents apart from an earlier file of the same name (its GCS generation or sha256): a backend that names its
   * staging after the files, so a retry finds it, must name a rewritten file's staging apart.
   */
  stageFiles(spec: LoadedTableSpec, uris: readonly string[], versions?: readonly string[]): Promise<StagedRelation>;
}

export interface WarehouseDriver extends SqlSession {
  readonly dialect: Dialect;
  /** For messages, e.g. `duckdb:/abs/backfill.duckdb`. */
  readonly description: string;
  /** Which data is written, whatever the URI options: one run lease per identity. */
  readonly identity: string;
  readonly capabilities: DriverCapabilities;
  /** Creates missing tables and columns of WAREHOUSE_TABLES, records MIGRATIONS; idempotent. */
  migrate(): Promise<void>;
  /** Rows of a query in chunks, fetched as the consumer asks for them. */
  stream<T = Record<string, unknown>>(what: string, sql: string, params: Params, chunkSize: number): AsyncIterable<T[]>;
  /**
   * A small write that must not wait behind a long load (in-flight marks): on a connection of its
   * own where the backend has connections; the plain `execute` otherwise.
   */
  executeAside?(what: string, sql: string, params?: Params): Promise<number>;
  /**
   * Reads a little of the stored data itself (not only counts kept in metadata), so `status` reports
   * a damaged warehouse instead of figures that look complete; throws what the backend found.
   */
  probe?(): Promise<void>;
  /** A table's stored size from its metadata (free: no query), where reads are billed by bytes. */
  tableBytes?(table: string): Promise<number | undefined>;
  /** Bytes billed and processed by this driver's jobs so far; absent where statements cost nothing. */
  costs?(): WarehouseCosts;
  /** Runs `work` in one transaction where the backend has them; otherwise statement by statement. */
  transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
