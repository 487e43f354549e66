import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

import type * as DuckDbApi from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBInstance, DuckDBType, DuckDBValue } from '@duckdb/node-api';

import type { DriverCapabilities, SqlSession, StagedRelation, WarehouseDriver } from '../driver.js';
import { param as typed } from '../sql/dialect.js';
import type { ParamType, Params } from '../sql/dialect.js';
import type { LoadedTableSpec, LogicalType } from '../table-schemas.js';
import { DUCKDB_TYPES, duckdbDialect } from './dialect.js';
import { BackfillError } from '../../lib/errors.js';
import { withRetry } from '../../lib/retry.js';
import { RETRY_BUDGETS } from '../../lib/retry-budgets.js';
import { duckDbError, isLockConflict, openError } from './errors.js';
import type { DuckDbLocation } from './location.js';
import { ensureTables } from './schema.js';

// Required, not imported: the package is CommonJS, and an ESM import has Node scan its whole
// source for export names first — two thirds of its load time, paid by every `status`.
const { BIGINT, BOOLEAN, DOUBLE, DuckDBInstance: Instance, LIST, STRUCT, TIMESTAMP, VARCHAR, listValue, structValue, timestampValue } = createRequire(import.meta.url)(
  '@duckdb/node-api',
) as typeof DuckDbApi;

const WAL_AUTOCHECKPOINT = '256MB';
/** How long an open waits, by default, for another process's brief hold on the file (a status read) to end. */
const LOCK_WAIT_MS = RETRY_BUDGETS.duckdbLock.waitMs;
const LOCK_POLL_MS = RETRY_BUDGETS.duckdbLock.pollMs;
/** The warehouse file is attached under this name (a catalog), with the storage options below. */
const CATALOG = 'backfill';
/**
 * Rows per row group of the rows this process writes (DuckDB's default is 122,880). Measured on a
 * 500,000-trade whale loaded alone (128 MB pool, one thread): peak RSS 440 MB with the default,
 * 280 MB with 16,384 and 263 MB with 8,192, since a row group is built and compressed in memory
 * before it is written. Smaller groups also make proxy_wallet's zone maps finer: a batch's
 * NOT EXISTS reads the groups its wallets fall in, 8,192 rows each instead of 122,880. The option
 * is not stored in the file, so it is given on every open (ATTACH … (ROW_GROUP_SIZE n)).
 */
const ROW_GROUP_SIZE = 8_192;
/**
 * DuckDB threads while a load's transaction runs: each thread of a JSON scan holds its own 32 MB
 * read buffer, and with two a 500,000-trade load ran out of a 128 MB pool (measured); the engine's
 * fetches use the other core. The setting is the instance's, so statements beside a load (a status
 * read, the plan) run on one thread too until the load's transaction ends and it is reset.
 */
const LOAD_THREADS = 1;

type Values = Record<string, DuckDBValue>;
type Types = Record<string, DuckDBType>;

const CAPABILITIES: DriverCapabilities = {
  transactions: true,
  cheapLookups: true,
  timePartitions: false,
  duplicateCheck: false,
  maxRowsPerStatement: 10_000,
};

/**
 * The embedded backend: one DuckDB file. Writes (loads, checkpoints, migrations) queue on one
 * connection, since DuckDB runs one statement per connection at a time; reads (look-ups, status)
 * use another, so they never wait behind a long MERGE; a plan streams on a connection of its own.
 */
export class DuckDbDriver implements WarehouseDriver {
  readonly dialect = duckdbDialect;
  readonly capabilities = CAPABILITIES;
  readonly description: string;
  readonly identity: string;
  readonly #instance: DuckDBInstance;
  readonly #writer: DuckDBConnection;
  readonly #reader: DuckDBConnection;
  readonly #aside: DuckDBConnection;
  #writes: Promise<unknown> = Promise.resolve();
  #reads: Promise<unknown> = Promise.resolve();
  #asides: Promise<unknown> = Promise.resolve();

  private constructor(location: DuckDbLocation, instance: DuckDBInstance, connections: { writer: DuckDBConnection; reader: DuckDBConnection; aside: DuckDBConnection }) {
    this.description = `duckdb:${location.path}`;
    this.identity = location.identity;
    this.#instance = instance;
    this.#writer = connections.writer;
    this.#reader = connections.reader;
    this.#aside = connections.aside;
  }

  static async open(location: DuckDbLocation, options: { memoryLimit: string; lockWaitMs?: number }): Promise<DuckDbDriver> {
    if (location.path !== ':memory:') await mkdir(dirname(location.path), { recursive: true });
    // A `status` or dashboard read holds the file for a moment; a run starting then waits it out.
    const attached = await withRetry(() => attach(location), {
      attempts: Math.floor((options.lockWaitMs ?? LOCK_WAIT_MS) / LOCK_POLL_MS) + 1,
      baseDelayMs: LOCK_POLL_MS,
      maxDelayMs: LOCK_POLL_MS,
      classify: (error) => ({ retry: isLockConflict(error), delayMs: LOCK_POLL_MS }),
    }).catch((error: unknown) => {
      throw openError(location.path, error);
    });
    const connect = () => connectTo(attached);
    const writer = await connect();
    // The default (16 MB) rewrites the database file every few batches once raw JSON columns fill
    // the WAL; a larger WAL checkpoints an order of magnitude less often (measured: commit time 11 s → 2 s
    // for 1,000 simulated wallets).
    await writer.run(`SET wal_autocheckpoint = '${WAL_AUTOCHECKPOINT}'`);
    // DuckDB's default buffer pool is 80 % of RAM; a laptop backfill should not take that. A load
    // fills the pool with the blocks it writes before evicting any, so the pool is most of a
    // load's memory: 512 MB made a 500,000-trade whale peak at 1 GB. Every step of a load spills
    // (the staged-id check sorts; the insert streams), so 128 MB is enough for any wallet.
    await writer.run(`SET memory_limit = '${options.memoryLimit}'`);
    // Loads never rely on row order, and keeping it costs memory on large inserts.
    await writer.run('SET preserve_insertion_order = false');
    return new DuckDbDriver(location, attached, { writer, reader: await connect(), aside: await connect() });
  }

  migrate(): Promise<void> {
    return this.transaction((session) => ensureTables(session));
  }

  query<T = Record<string, unknown>>(what: string, sql: string, params?: Params): Promise<T[]> {
    return this.#queue('read', () => readAll<T>(this.#reader, what, sql, params));
  }

  execute(what: string, sql: string, params?: Params): Promise<number> {
    return this.#queue('write', () => run(this.#writer, what, sql, params));
  }

  /**
   * In-flight marks touch only rows of wallets about to start, never rows a running load writes, so
   * DuckDB's optimistic concurrency lets them commit beside a long MERGE instead of queueing behind it.
   */
  executeAside(what: string, sql: string, params?: Params): Promise<number> {
    return this.#queue('aside', () => run(this.#aside, what, sql, params));
  }

  /**
   * The first and last rows of `trades`, raw JSON included: a truncated file loses its end, and
   * count(*) alone is answered from metadata. Cheap at any size: each read is a constant row-id
   * range, which prunes to its row group (a range computed by a subquery in the same statement is
   * not pushed down, and read all of `raw`: 15 s on 20,000,000 trades).
   */
  async probe(): Promise<void> {
    try {
      await this.#queue('read', async () => {
        const last = (await this.#reader.runAndReadAll('SELECT max(rowid) FROM trades')).getRows()[0]?.[0];
        await this.#reader.runAndReadAll('SELECT count(*), max(length(raw)) FROM trades WHERE rowid < 2048');
        if (typeof last === 'bigint') {
          await this.#reader.runAndReadAll('SELECT count(*), max(length(raw)) FROM trades WHERE rowid BETWEEN $from AND $to', { from: last - 2047n, to: last });
        }
      });
    } catch (error) {
      throw new BackfillError(`the warehouse ${this.description} is damaged: reading trades failed: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
        hint: 'Restore the file from a copy; the staged files are kept, so `backfill reload` or `backfill run --refetch` can rebuild it',
      });
    }
  }

  stageFiles(spec: LoadedTableSpec, uris: readonly string[]): Promise<StagedRelation> {
    return Promise.resolve(stagedFiles(spec, uris));
  }

  async *stream<T = Record<string, unknown>>(what: string, sql: string, params: Params, chunkSize: number): AsyncIterable<T[]> {
    // A connection of its own: the plan streams while the writer commits batches.
    const connection = await connectTo(this.#instance);
    try {
      const { values, types } = bind(params);
      let result;
      try {
        result = await connection.stream(sql, values, types);
      } catch (error) {
        throw duckDbError(what, error);
      }
      const names = result.columnNames();
      let pending: T[] = [];
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        for (const row of chunk.getRows()) {
          pending.push(Object.fromEntries(names.map((name, i) => [name, row[i]])) as T);
          if (pending.length >= chunkSize) {
            yield pending;
            pending = [];
          }
        }
      }
      if (pending.length > 0) yield pending;
    } finally {
      connection.closeSync();
    }
  }

  transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.#queue('write', async () => {
      const connection = this.#writer;
      await connection.run('BEGIN TRANSACTION');
      // Statements of one transaction share the connection, so they run one after another even
      // when the caller starts several at once.
      let chain: Promise<unknown> = Promise.resolve();
      const serial = <R>(step: () => Promise<R>): Promise<R> => {
        const next = chain.then(step);
        chain = next.catch(() => undefined);
        return next;
      };
      const session: SqlSession = {
        query: <R>(what: string, sql: string, params?: Params) => serial(() => readAll<R>(connection, what, sql, params)),
        execute: (what, sql, params) => serial(() => run(connection, what, sql, params)),
        stageFiles: (spec, uris) =>
          serial(async () => {
            if (!loading) {
              loading = true;
              await connection.run(`SET threads = ${LOAD_THREADS}`);
            }
            return stagedFiles(spec, uris);
          }),
      };
      // A load (a transaction that stages files) runs on LOAD_THREADS; the default comes back after.
      let loading = false;
      try {
        const result = await work(session);
        await chain;
        await connection.run('COMMIT');
        return result;
      } catch (error) {
        await chain;
        await connection.run('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        if (loading) await connection.run('RESET threads').catch(() => undefined);
      }
    });
  }

  /** Plain DuckDB SQL with untyped values, for tests and diagnostics on the same file. */
  async sql<T = Record<string, unknown>>(text: string, values?: Values): Promise<T[]> {
    return this.#queue('write', async () => {
      const reader = await this.#writer.runAndReadAll(text, values);
      return reader.getRowObjectsJS() as T[];
    });
  }

  async close(): Promise<void> {
    await this.#writes;
    await this.#reads;
    await this.#asides;
    this.#aside.closeSync();
    this.#reader.closeSync();
    this.#writer.closeSync();
    this.#instance.closeSync();
  }

  #queue<T>(lane: 'read' | 'write' | 'aside', work: () => Promise<T>): Promise<T> {
    const previous = lane === 'read' ? this.#reads : lane === 'write' ? this.#writes : this.#asides;
    const next = previous.then(work);
    const settled = next.catch(() => undefined);
    if (lane === 'read') this.#reads = settled;
    else if (lane === 'write') this.#writes = settled;
    else this.#asides = settled;
    return next;
  }
}

/** A connection to the attached file, with the session settings every statement relies on. */
async function connectTo(instance: DuckDBInstance): Promise<DuckDBConnection> {
  const connection = await instance.connect();
  await connection.run(`USE ${CATALOG}`);
  // Naive TIMESTAMPs are UTC by convention; without this, now() casts to the machine's zone.
  await connection.run("SET TimeZone = 'UTC'");
  return connection;
}

/**
 * An in-memory instance with the warehouse file attached: only ATTACH takes a row group size.
 * Spilled data goes beside the file, as it would for a main database. Closed again on failure, so
 * a retry after a lock conflict starts clean.
 */
async function attach(location: DuckDbLocation): Promise<DuckDBInstance> {
  const instance = await Instance.create(':memory:');
  try {
    const boot = await instance.connect();
    try {
      if (location.path !== ':memory:') await boot.run('SET temp_directory = $dir', { dir: `${location.path}.tmp` });
      // The one statement that takes the path as text: DuckDB's ATTACH accepts no parameter. The
      // path is quoted, and one with control characters was refused by parseDuckDbLocation.
      await boot.run(`ATTACH ${duckdbDialect.literal(location.path)} AS ${CATALOG} (ROW_GROUP_SIZE ${ROW_GROUP_SIZE})`);
    } finally {
      boot.closeSync();
    }
    return instance;
  } catch (error) {
    instance.closeSync();
    throw error;
  }
}

/**
 * Staged gzip NDJSON read in place by `read_json`, typed by the table spec: no staging table, so
 * a 500,000-trade wallet is never materialised twice. The file list is a parameter, never text.
 * Trades are exposed as unique (their ids are unique per wallet and the warehouse checks it
 * before the MERGE); the small metadata kinds are always de-duplicated, since several wallets of
 * a batch stage the same market.
 */
function stagedFiles(spec: LoadedTableSpec, uris: readonly string[]): StagedRelation {
  const name = `files_${spec.table}`;
  const columns = spec.columns.map((c) => `"${c.name}": '${DUCKDB_TYPES[c.type]}'`).join(', ');
  return {
    relation: `read_json($${name}, format = 'newline_delimited', compression = 'gzip', columns = {${columns}})`,
    params: { [name]: typed.strings(uris) },
    unique: spec.table === 'trades',
    dispose: () => Promise.resolve(),
  };
}

async function readAll<T>(connection: DuckDBConnection, what: string, sql: string, params?: Params): Promise<T[]> {
  const { values, types } = bind(params);
  try {
    const reader = await connection.runAndReadAll(sql, values, types);
    return reader.getRowObjectsJS() as T[];
  } catch (error) {
    throw duckDbError(what, error);
  }
}

async function run(connection: DuckDBConnection, what: string, sql: string, params?: Params): Promise<number> {
  const { values, types } = bind(params);
  try {
    const result = await connection.run(sql, values, types);
    return Number(result.rowsChanged);
  } catch (error) {
    throw duckDbError(what, error);
  }
}

const SCALAR_TYPES: Record<LogicalType, DuckDBType> = {
  string: VARCHAR,
  json: VARCHAR,
  float: DOUBLE,
  int: BIGINT,
  bool: BOOLEAN,
  timestamp: TIMESTAMP,
};

function bind(params: Params | undefined): { values?: Values; types?: Types } {
  if (!params || Object.keys(params).length === 0) return {};
  const values: Values = {};
  const types: Types = {};
  for (const [name, p] of Object.entries(params)) {
    values[name] = toValue(p.type, p.value);
    types[name] = toType(p.type);
  }
  return { values, types };
}

function toType(type: ParamType): DuckDBType {
  if (type === 'string[]') return LIST(VARCHAR);
  if (typeof type === 'object') return LIST(STRUCT(Object.fromEntries(Object.entries(type.rows).map(([k, t]) => [k, SCALAR_TYPES[t]]))));
  return SCALAR_TYPES[type];
}

function toValue(type: ParamType, value: unknown): DuckDBValue {
  if (type === 'string[]') return listValue((value as readonly string[]).map((v) => v));
  if (typeof type === 'object') {
    return listValue(
      (value as readonly Record<string, unknown>[]).map((row) =>
        structValue(Object.fromEntries(Object.entries(type.rows).map(([k, t]) => [k, toValue(t, row[k] ?? null)]))),
      ),
    );
  }
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'int':
      return BigInt(value as number | bigint);
    case 'float':
      return Number(value);
    case 'bool':
      return Boolean(value);
    case 'timestamp':
      return timestampValue(isoToMicros(String(value)));
    default:
      return String(value);
  }
}

/** ISO-8601 UTC → epoch microseconds, keeping all six fractional digits (Date keeps three). */
export function isoToMicros(iso: string): bigint {
  const match = /^(.*?)(?:\.(\d{1,9}))?Z$/.exec(iso);
  const ms = Date.parse(match ? `${match[1]}Z` : iso);
  if (Number.isNaN(ms)) throw new Error(`not an ISO-8601 UTC timestamp: ${JSON.stringify(iso)}`);
  const fraction = (match?.[2] ?? '').padEnd(6, '0').slice(0, 6);
  return BigInt(ms) * 1000n + BigInt(fraction);
}
