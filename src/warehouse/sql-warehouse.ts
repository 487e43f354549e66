import type { Wallet } from '../domain/wallet-address.js';
import { describeInvalidTrader } from '../domain/wallet-address.js';
import { BackfillError, ConfigError } from '../lib/errors.js';
import type { WarehouseDriver, SqlSession, StagedRelation } from './driver.js';
import {
  CHECKPOINT_ROW_FIELDS,
  checkpointMergeSql,
  clearInFlightSql,
  INTERRUPTED_ROW_FIELDS,
  noteInterruptedSql,
  crashSuspectsSql,
  markInFlightSql,
  refreshCheckpointSql,
  settleCrashedSql,
} from './sql/checkpoint-sql.js';
import type { CheckpointOutcome, RefreshOutcome } from './sql/checkpoint-sql.js';
import { fillLastTradeAtSql, missingLastTradeAtSql, refreshFailuresSql, refreshPlanSql, staleMarketsSql } from './sql/refresh-sql.js';
import { param } from './sql/dialect.js';
import type { Params } from './sql/dialect.js';
import { knownIdsSql } from './sql/known-ids-sql.js';
import { dueUnresolvedParams, dueUnresolvedSql, forgetUnresolvedSql, unresolvedMergeParams, unresolvedMergeSql } from './sql/unresolved-sql.js';
import { anyTradeOfWalletsSql, knownStagedKeysSql, mergeSql, monthRanges, repairDuplicateTradesSql, stagedTradesSql, timeRangeParams, walletTradeCountsSql } from './sql/merge-sql.js';
import { addTradersSql, invalidTradersSql, planSql } from './sql/plan-sql.js';
import { failedWalletsSql, missionQueries, statusFiguresSql } from './sql/status-sql.js';
import { RUN_ROW_FIELDS, recordRunSql } from './sql/runs-sql.js';
import { LOADED_TABLES, MIGRATIONS } from './table-schemas.js';
import type { LoadedTableSpec } from './table-schemas.js';
import { appliedMigrationsSql, recordMigrationSql } from './sql/migration-sql.js';
import type {
  CheckpointRow,
  CrashSettlement,
  DueUnresolved,
  RefreshItem,
  RefreshPlanOptions,
  FailedWallet,
  InvalidTrader,
  LoadResult,
  PlanOptions,
  RunRecord,
  StatusFigures,
  Warehouse,
  WarehouseCosts,
  WalletBundle,
} from './warehouse.js';

type Kind = keyof typeof LOADED_TABLES;

/** Per wallet of a batch: the trades the warehouse holds, and the newest one's time (ISO-8601 UTC, null for none). */
interface WalletTotals {
  counts: Record<string, number>;
  lastTradeAt: Record<string, string | null>;
}

/** Totals for every wallet of a batch: 0 and null for those without a row. */
function walletTotals(wallets: readonly string[], rows: readonly { wallet: unknown; count: unknown; newest: string | null | undefined }[]): WalletTotals {
  const totals: WalletTotals = { counts: Object.fromEntries(wallets.map((w) => [w, 0])), lastTradeAt: Object.fromEntries(wallets.map((w) => [w, null])) };
  for (const r of rows) {
    totals.counts[String(r.wallet)] = Number(r.count);
    totals.lastTradeAt[String(r.wallet)] = r.newest ?? null;
  }
  return totals;
}

/** Metadata first, trades last: a reader never sees a trade whose market row is still to come. */
const MERGE_ORDER: readonly Kind[] = ['markets', 'events', 'unresolved', 'trades'];

/**
 * The size of an upsert target from which asking for its known keys first is cheaper than the
 * upsert: the question and an insert-only MERGE bill about 3 × 10 MiB at least, an upsert the
 * whole table.
 */
const KNOWN_KEYS_CHECK_MIN_BYTES = 32 * 2 ** 20;

/** A staged trades file that does not hold what its manifest promised; the wallet is fetched again. */
export class StagedDataMismatchError extends BackfillError {}

/**
 * The warehouse, written once for every backend: the domain rules (what is planned, how a
 * checkpoint counts attempts and parks, what status reports) are the shared SQL of ./sql run
 * through the backend's driver. A rule changed here changes on every backend at once.
 */
export class SqlWarehouse implements Warehouse {
  readonly #driver: WarehouseDriver;
  /** Metadata tables known to be over KNOWN_KEYS_CHECK_MIN_BYTES. */
  readonly #largeTables = new Set<string>();
  #known: Partial<Record<'market' | 'event', Promise<Set<string>>>> = {};

  constructor(driver: WarehouseDriver) {
    this.#driver = driver;
  }

  get description(): string {
    return this.#driver.description;
  }

  get identity(): string {
    return this.#driver.identity;
  }

  get driver(): WarehouseDriver {
    return this.#driver;
  }

  get embedded(): boolean {
    return this.#driver.capabilities.cheapLookups;
  }

  /** Creates what is missing (the driver's DDL), then records the versions not yet applied. */
  async migrate(): Promise<void> {
    await this.#driver.migrate();
    const d = this.#driver.dialect;
    const applied = new Set((await this.#driver.query<{ version: unknown }>('read migrations', appliedMigrationsSql(d))).map((r) => Number(r.version)));
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await this.#driver.execute('record migration', recordMigrationSql(d), {
        version: param.int(migration.version),
        description: param.string(migration.description),
      });
    }
  }

  async addTraders(wallets: readonly Wallet[], source: string): Promise<number> {
    let added = 0;
    // Chunked: a BigQuery request is limited to 10 MB, and 10,000 addresses are ~0.5 MB.
    for (const chunk of chunks(wallets, 10_000)) {
      added += await this.#driver.execute('add traders', addTradersSql(this.#driver.dialect), {
        wallets: param.strings(chunk),
        source: param.string(source),
      });
    }
    return added;
  }

  async *planWallets(options: PlanOptions): AsyncIterable<string[]> {
    // A plan starts a run: id look-ups start again from the warehouse as it is now.
    this.#known = {};
    const params: Params = { retry_parked: param.bool(options.retryParked), ...shardParams(options.shard) };
    for await (const rows of this.#driver.stream<{ wallet: string }>('plan wallets', planSql(this.#driver.dialect), params, options.chunkSize ?? 2048)) {
      yield rows.map((r) => String(r.wallet));
    }
  }

  async recordInvalidTraders(runId: string): Promise<InvalidTrader[]> {
    const found = await this.#driver.query<{ value: string }>('find invalid traders', invalidTradersSql(this.#driver.dialect));
    const invalid = found.map(({ value }) => ({ value, reason: describeInvalidTrader(value) }));
    const now = new Date().toISOString();
    await this.writeCheckpoints(
      invalid.map((i) => ({
        wallet_address: i.value,
        completed: true,
        upload_successful: false,
        trade_count: 0,
        gcs_file: null,
        processed_at: now,
        error: i.reason,
        run_id: runId,
        invalid: true,
      })),
      { maxFailedAttempts: 1 },
    );
    return invalid;
  }

  knownConditionIds(ids: readonly string[]): Promise<Set<string>> {
    return this.#knownAmong('market', ids);
  }

  knownEventIds(ids: readonly string[]): Promise<Set<string>> {
    return this.#knownAmong('event', ids);
  }

  /**
   * An embedded backend answers each look-up with a query. A remote one answers from a snapshot
   * of all known ids read once per run: each BigQuery query bills at least 10 MB per table it
   * reads, so per-wallet look-ups over markets + unresolved_ids would bill ~20 MB × 2 × 100,000
   * wallets ≈ 4 TB and add a job's latency to every wallet. Ids merged by another runner after
   * the snapshot are merely fetched from Gamma again and upserted.
   */
  async #knownAmong(kind: 'market' | 'event', ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const d = this.#driver.dialect;
    if (this.#driver.capabilities.cheapLookups) {
      const rows = await this.#driver.query<{ id: string }>(`known ${kind} ids`, knownIdsSql(d, kind, { among: true }), { ids: param.strings(ids) });
      return new Set(rows.map((r) => String(r.id)));
    }
    const snapshot = (this.#known[kind] ??= this.#readKnown(kind).catch((error: unknown) => {
      delete this.#known[kind];
      throw error;
    }));
    const known = await snapshot;
    return new Set(ids.filter((id) => known.has(id)));
  }

  async #readKnown(kind: 'market' | 'event'): Promise<Set<string>> {
    const known = new Set<string>();
    for await (const rows of this.#driver.stream<{ id: string }>(`read known ${kind} ids`, knownIdsSql(this.#driver.dialect, kind), {}, 100_000)) {
      for (const row of rows) known.add(String(row.id));
    }
    return known;
  }

  /**
   * Staged files → MERGE into every target, metadata first. On a backend with transactions the
   * whole batch commits at once; without, each MERGE commits alone and a retry of the batch merges
   * what is missing (MERGE is idempotent). Staging is disposed only after success, so a retry can
   * reuse it (BigQuery load jobs attach to their finished jobs).
   */
  async loadBundles(bundles: readonly WalletBundle[]): Promise<LoadResult> {
    const uris: Record<Kind, Set<string>> = { trades: new Set(), markets: new Set(), events: new Set(), unresolved: new Set() };
    for (const bundle of bundles) {
      for (const kind of MERGE_ORDER) {
        const file = bundle.files[kind];
        if (file && file.rows > 0) uris[kind].add(file.uri);
      }
    }
    const wallets = [...new Set(bundles.filter((b) => !b.metadataOnly).map((b) => b.wallet))].sort();
    const kinds = MERGE_ORDER.filter((k) => uris[k].size > 0);
    const staged: StagedRelation[] = [];
    const result = await this.#driver.transaction(async (session) => {
      const relations = await Promise.all(kinds.map((kind) => session.stageFiles(LOADED_TABLES[kind], [...uris[kind]].sort())));
      staged.push(...relations);
      const byKind = new Map(kinds.map((kind, i) => [kind, relations[i]!]));
      const merged: LoadResult['merged'] = { trades: 0, markets: 0, events: 0, unresolved: 0 };
      let timeRanges: { from: string; to: string }[] = [];
      let fresh: WalletTotals | undefined;
      for (const kind of kinds) {
        const relation = byKind.get(kind)!;
        if (kind === 'trades') {
          ({ inserted: merged.trades, timeRanges, fresh } = await this.#mergeTrades(session, relation, bundles, wallets));
        } else {
          merged[kind] = await this.#mergeMetadata(session, LOADED_TABLES[kind], relation);
        }
      }
      if (wallets.length === 0) return { merged, tradeCounts: {}, lastTradeAt: {}, duplicatesRemoved: 0 };
      if (fresh) return { merged, tradeCounts: fresh.counts, lastTradeAt: fresh.lastTradeAt, duplicatesRemoved: 0 };
      // A refresh window's months do not hold the wallet's older trades: its count reads them all.
      const partial = bundles.some((b) => b.partial === true);
      const { counts, lastTradeAt, duplicates } = await this.#tradeCounts(session, wallets, partial ? [] : timeRanges);
      return { merged, tradeCounts: counts, lastTradeAt, duplicatesRemoved: duplicates };
    });
    await Promise.all(staged.map((s) => s.dispose().catch(() => undefined)));
    return result;
  }

  async #mergeTrades(
    session: SqlSession,
    relation: StagedRelation,
    bundles: readonly WalletBundle[],
    wallets: string[],
  ): Promise<{ inserted: number; timeRanges: { from: string; to: string }[]; fresh?: WalletTotals }> {
    const d = this.#driver.dialect;
    const timePartitions = this.#driver.capabilities.timePartitions;
    const stats = await session.query<{ wallet: string; row_count: unknown; key_count: unknown; min_ts: string; max_ts: string; months?: string | null }>(
      'check staged trades',
      stagedTradesSql(d, relation.relation, { months: timePartitions }),
      relation.params,
    );
    const expected = new Map(bundles.map((b) => [b.wallet, b]));
    for (const s of stats) {
      const bundle = expected.get(String(s.wallet));
      if (!bundle) {
        throw new StagedDataMismatchError(
          `staged trades of this batch hold ${Number(s.row_count)} row(s) of wallet ${JSON.stringify(String(s.wallet))}, which is not in the batch (${wallets.length} wallet(s))`,
          { hint: 'A staged file holds another wallet\'s rows (a copied or foreign file); the wallet is fetched again', kind: 'permanent' },
        );
      }
      if (Number(s.row_count) !== bundle.tradeCount) {
        throw new StagedDataMismatchError(
          `staged trades file ${bundle.files.trades?.uri ?? '?'} of wallet ${bundle.wallet} holds ${Number(s.row_count)} row(s) but its manifest says ${bundle.tradeCount}`,
          { hint: 'The staged file is damaged or was replaced; the wallet is fetched again', kind: 'permanent' },
        );
      }
      // A repeated key is a fill repeated under another timestamp (see trade-key.ts): the MERGE would
      // keep one of the rows, so the wallet's checkpoint and the warehouse would disagree.
      if (Number(s.key_count) !== Number(s.row_count)) {
        throw new StagedDataMismatchError(
          `staged trades file ${bundle.files.trades?.uri ?? '?'} of wallet ${bundle.wallet} holds ${Number(s.row_count)} rows under only ` +
            `${Number(s.key_count)} distinct trade ids: a fill (tx, asset, side, price, size) repeated under another timestamp, which one transaction cannot have, so nothing of the wallet was loaded`,
          {
            hint: 'The Data API served malformed rows; the next run fetches the wallet again (its staged files are set aside), and if it repeats, report it',
            kind: 'permanent',
          },
        );
      }
    }
    for (const bundle of bundles) {
      if (bundle.tradeCount > 0 && !stats.some((s) => String(s.wallet) === bundle.wallet)) {
        throw new StagedDataMismatchError(
          `staged trades file ${bundle.files.trades?.uri ?? '?'} of wallet ${bundle.wallet} holds no row but its manifest says ${bundle.tradeCount}`,
          { hint: 'The staged file is damaged or was replaced; the wallet is fetched again', kind: 'permanent' },
        );
      }
    }
    if (stats.length === 0) return { inserted: 0, timeRanges: [] };
    const params: Params = { ...relation.params, wallets: param.strings(wallets) };
    // The months of every staged row: whichever of an id's repeated rows the MERGE keeps, its
    // month is in, so no existing row of the batch can fall outside and be inserted again.
    const timeRanges = timePartitions ? monthRanges(stats.flatMap((s) => String(s.months ?? '').split(',').filter(Boolean))) : [];
    Object.assign(params, timeRangeParams(timeRanges));
    if (timePartitions && timeRanges.length === 0) {
      params.min_ts = param.timestamp(stats.map((s) => s.min_ts).sort()[0]!);
      params.max_ts = param.timestamp(stats.map((s) => s.max_ts).sort().at(-1)!);
    }
    const source = { relation: relation.relation, unique: relation.unique };
    const prune = { timeRange: timePartitions, timeRanges: timeRanges.length };
    // A refresh's wallets (partial bundles) hold trades already: no use asking.
    if (d.insertOnly === 'not-exists' && this.#driver.capabilities.transactions && !bundles.some((b) => b.partial)) {
      // Most batches are wallets loaded for the first time. A read of proxy_wallet alone (zone
      // maps prune it to the batch's row groups) proves it; the insert then needs no anti-join,
      // and, in this transaction, what the warehouse holds per wallet is what was staged.
      const existing = await session.query('look for existing trades', anyTradeOfWalletsSql(d), { wallets: param.strings(wallets) });
      if (existing.length === 0) {
        const inserted = await session.execute('merge trades', mergeSql(d, LOADED_TABLES.trades, source, { prune, noExistingRows: true }), relation.params);
        return { inserted, timeRanges, fresh: walletTotals(wallets, stats.map((s) => ({ wallet: s.wallet, count: s.key_count, newest: s.max_ts }))) };
      }
    }
    const inserted = await session.execute('merge trades', mergeSql(d, LOADED_TABLES.trades, source, { prune }), params);
    return { inserted, timeRanges };
  }

  /**
   * A metadata upsert. Where queries bill bytes and the target is large, the staged keys the target
   * already holds are counted first (reading the key column alone): with none, the MERGE is
   * insert-only and bills the target's key column, where an upsert bills every column of the whole
   * unpartitioned table. Known ids are not fetched again, so most batches stage only new markets
   * and events. Below KNOWN_KEYS_CHECK_MIN_BYTES the check would cost more than it saves (every
   * query bills at least 10 MiB per table it reads).
   */
  async #mergeMetadata(session: SqlSession, spec: LoadedTableSpec, relation: StagedRelation): Promise<number> {
    const d = this.#driver.dialect;
    if (spec === LOADED_TABLES.unresolved) {
      return session.execute('merge unresolved_ids', unresolvedMergeSql(d, relation.relation), { ...relation.params, ...unresolvedMergeParams() });
    }
    let insertOnly = false;
    // Tables only grow: once over the threshold, no need to ask (a tables.get per batch) again.
    const large = async () => {
      if (this.#largeTables.has(spec.table)) return true;
      const isLarge = ((await this.#driver.tableBytes?.(spec.table)) ?? Infinity) >= KNOWN_KEYS_CHECK_MIN_BYTES;
      if (isLarge) this.#largeTables.add(spec.table);
      return isLarge;
    };
    if (spec.merge === 'upsert' && this.#driver.capabilities.billedByBytes && (await large())) {
      const [row] = await session.query<{ known: unknown }>(`known ${spec.table} keys`, knownStagedKeysSql(d, spec, relation.relation), relation.params);
      insertOnly = Number(row?.known ?? 0) === 0;
    }
    return session.execute(`merge ${spec.table}`, mergeSql(d, spec, relation, { insertOnly }), relation.params);
  }

  /** What the warehouse now holds per wallet; duplicates (overlapping runners) removed and counted. */
  async #tradeCounts(
    session: SqlSession,
    wallets: string[],
    timeRanges: readonly { from: string; to: string }[],
  ): Promise<WalletTotals & { duplicates: number }> {
    const d = this.#driver.dialect;
    const sql = walletTradeCountsSql(d, { keys: this.#driver.capabilities.duplicateCheck, timeRanges: timeRanges.length });
    const params: Params = { wallets: param.strings(wallets), ...timeRangeParams(timeRanges) };
    const read = () => session.query<{ wallet: string; row_count: unknown; key_count: unknown; newest: string | null }>('count trades', sql, params);
    let rows = await read();
    let duplicates = 0;
    const excess = () => rows.reduce((sum, r) => sum + Number(r.row_count) - Number(r.key_count), 0);
    if (this.#driver.capabilities.duplicateCheck && excess() > 0) {
      duplicates = excess();
      await session.execute('remove duplicate trades', repairDuplicateTradesSql(d), { wallets: param.strings(wallets) });
      rows = await read();
      if (excess() > 0) {
        throw new BackfillError(`${excess()} trade row(s) of this batch are stored twice and could not be removed (they share loaded_at)`, {
          hint: 'Two runners loaded the same wallets at once; stop all but one runner and run `backfill run` again',
          kind: 'permanent',
        });
      }
    }
    return { ...walletTotals(wallets, rows.map((r) => ({ wallet: r.wallet, count: r.key_count, newest: r.newest }))), duplicates };
  }

  async markInFlight(wallets: readonly string[], runId: string): Promise<void> {
    if (wallets.length === 0) return;
    const execute = this.#driver.executeAside?.bind(this.#driver) ?? this.#driver.execute.bind(this.#driver);
    await execute('mark wallets in flight', markInFlightSql(this.#driver.dialect), { wallets: param.strings(wallets), run_id: param.string(runId) });
  }

  async clearInFlight(runId: string): Promise<void> {
    await this.#driver.execute('clear in-flight marks', clearInFlightSql(this.#driver.dialect), { run_id: param.string(runId) });
  }

  async noteInterrupted(notes: readonly { wallet: string; note: string }[]): Promise<void> {
    if (notes.length === 0) return;
    const rows = notes.map(({ wallet, note }) => ({ wallet_address: wallet, note }));
    await this.#driver.execute('note interrupted wallets', noteInterruptedSql(this.#driver.dialect), { rows: param.rows(INTERRUPTED_ROW_FIELDS, rows) });
  }

  async settleCrashed(options: { shard?: { index: number; count: number }; maxFailedAttempts: number; runId?: string }): Promise<CrashSettlement> {
    const d = this.#driver.dialect;
    const scope = shardParams(options.shard);
    await this.#driver.execute('settle crashed attempts', settleCrashedSql(d), { ...scope, max_failed_attempts: param.int(options.maxFailedAttempts) });
    const rows = await this.#driver.query<{ wallet: string; parked: boolean; error: string | null; done: boolean; refresh_attempts: unknown; refresh_error: string | null }>(
      'crash suspects',
      crashSuspectsSql(d),
      scope,
    );
    const max = options.maxFailedAttempts;
    // Given up on: a backfill parked, or a refresh that died with the process too often.
    const givenUp = rows.filter((r) => (r.done ? Number(r.refresh_attempts) >= max : r.parked));
    if (givenUp.length > 0) {
      // No longer suspects, so the next run does not report them again; counts stay as they are.
      const now = new Date().toISOString();
      await this.writeCheckpoints(
        givenUp.map((r) => ({
          wallet_address: String(r.wallet),
          completed: true,
          upload_successful: false,
          trade_count: 0,
          gcs_file: null,
          processed_at: now,
          error: r.done ? r.refresh_error : r.error,
          run_id: options.runId ?? 'crash-settlement',
          transient: true,
          ...(r.done ? { refresh: true } : {}),
        })),
        { maxFailedAttempts: max },
      );
    }
    const open = rows.filter((r) => !givenUp.includes(r));
    return {
      suspects: open.filter((r) => !r.done).map((r) => String(r.wallet)),
      refreshSuspects: open.filter((r) => r.done).map((r) => String(r.wallet)),
      parked: givenUp.map((r) => ({ wallet: String(r.wallet), error: (r.done ? r.refresh_error : r.error) ?? '' })),
    };
  }

  async writeCheckpoints(rows: readonly CheckpointRow[], options: { maxFailedAttempts: number }): Promise<void> {
    if (rows.length === 0) return;
    const d = this.#driver.dialect;
    const chunkRows = this.#driver.capabilities.maxRowsPerStatement;
    const groups = [
      { sql: checkpointMergeSql(d), rows: rows.filter((r) => !r.refresh), what: 'write checkpoints' },
      { sql: refreshCheckpointSql(d), rows: rows.filter((r) => r.refresh), what: 'write refresh checkpoints' },
    ];
    await this.#driver.transaction(async (session) => {
      const held = await this.#heldByUnloaded(session, rows);
      for (const group of groups) {
        for (const chunk of chunks(group.rows, chunkRows)) {
          await session.execute(group.what, group.sql, {
            rows: param.rows(
              CHECKPOINT_ROW_FIELDS,
              chunk.map((r) => ({
                wallet_address: r.wallet_address,
                outcome: outcomeOf(r),
                trade_count: held.get(r.wallet_address) ?? r.trade_count,
                gcs_file: r.gcs_file,
                processed_at: r.processed_at,
                error: r.error === null ? null : truncate(r.error, 4_000),
                run_id: r.run_id,
                last_trade_at: r.last_trade_at ?? null,
                small_fills_excluded: r.small_fills_excluded ?? null,
              })),
            ),
            ...(group.rows === groups[0]!.rows ? { max_failed_attempts: param.int(options.maxFailedAttempts) } : {}),
          });
        }
      }
    });
  }

  /**
   * What the warehouse holds for each wallet of a row that is not a successful load (a failed
   * load, fetch, refresh or crash): the count its checkpoint records, in the checkpoint's own
   * transaction. Malformed `traders` values hold nothing and are not asked about. Read only when
   * there are such rows, so a batch of successes costs no extra query.
   */
  async #heldByUnloaded(session: SqlSession, rows: readonly CheckpointRow[]): Promise<Map<string, number>> {
    const wallets = [...new Set(rows.filter((r) => !r.upload_successful && !r.invalid).map((r) => r.wallet_address))].sort();
    const held = new Map<string, number>();
    const sql = walletTradeCountsSql(this.#driver.dialect, { keys: this.#driver.capabilities.duplicateCheck });
    for (const chunk of chunks(wallets, 10_000)) {
      const counts = await session.query<{ wallet: string; key_count: unknown }>('count held trades', sql, { wallets: param.strings(chunk) });
      for (const w of chunk) held.set(w, 0);
      for (const c of counts) held.set(String(c.wallet), Number(c.key_count));
    }
    return held;
  }

  async *planRefresh(options: RefreshPlanOptions): AsyncIterable<RefreshItem[]> {
    this.#known = {};
    const params: Params = {
      max_failed_attempts: param.int(options.maxFailedAttempts),
      stale_before: { type: 'timestamp', value: options.staleBefore ?? null },
      ...shardParams(options.shard),
      ...(options.wallets ? { wallets: param.strings(options.wallets) } : {}),
    };
    const sql = refreshPlanSql(this.#driver.dialect, { onlyListed: options.wallets !== undefined });
    for await (const rows of this.#driver.stream<{ wallet: string; since: string | null }>('plan refresh', sql, params, options.chunkSize ?? 2048)) {
      yield rows.map((r) => ({ wallet: String(r.wallet), since: r.since === null ? null : String(r.since) }));
    }
  }

  async fillLastTradeAt(): Promise<number> {
    const d = this.#driver.dialect;
    const missing = (await this.#driver.query<{ wallet: string }>('wallets without last_trade_at', missingLastTradeAtSql(d))).map((r) => String(r.wallet));
    let filled = 0;
    for (const chunk of chunks(missing, 10_000)) {
      filled += await this.#driver.execute('fill last_trade_at', fillLastTradeAtSql(d), { wallets: param.strings(chunk) });
    }
    return filled;
  }

  async staleMarkets(options: { now: string; staleBefore: string; limit: number }): Promise<string[]> {
    const rows = await this.#driver.query<{ id: string }>('stale markets', staleMarketsSql(this.#driver.dialect), {
      now: param.timestamp(options.now),
      // Ended markets awaiting resolution are asked at most once an hour (or per stale window, if shorter).
      recent_before: param.timestamp(new Date(Math.max(Date.parse(options.staleBefore), Date.parse(options.now) - 3_600_000)).toISOString()),
      stale_before: param.timestamp(options.staleBefore),
      limit: param.int(options.limit),
    });
    return rows.map((r) => String(r.id));
  }

  async dueUnresolved(options: { now: string; limit: number }): Promise<DueUnresolved[]> {
    const rows = await this.#driver.query<{ kind: string; id: string; attempts: unknown }>(
      'unresolved ids due',
      dueUnresolvedSql(this.#driver.dialect),
      dueUnresolvedParams(new Date(options.now), options.limit),
    );
    return rows.map((r) => ({ kind: r.kind === 'event' ? 'event' : 'market', id: String(r.id), attempts: Number(r.attempts) }));
  }

  async forgetUnresolved(kind: 'market' | 'event', ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.#driver.execute('forget found ids', forgetUnresolvedSql(this.#driver.dialect), { kind: param.string(kind), ids: param.strings(ids) });
  }

  async status(): Promise<StatusFigures> {
    await this.#driver.probe?.();
    const d = this.#driver.dialect;
    const [ours] = await this.#driver.query<Record<string, unknown>>('status figures', statusFiguresSql(d));
    const n = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
    let completed = n(ours?.completed);
    let total = n(ours?.total);
    let percent: number | null = null;
    // The mission's progress query divides by the trader count, which BigQuery rejects when it is 0.
    if (total > 0) {
      const [mission] = await this.#driver.query<{ completed: unknown; total: unknown; percent_complete: unknown }>('mission progress', missionQueries(d).progress);
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
      refresh: {
        refreshed_wallets: n(ours?.refreshed_wallets),
        failed: n(ours?.refresh_failed),
        last_refreshed_at: (ours?.last_refreshed_at as string | null | undefined) ?? null,
        oldest_at: (ours?.oldest_refresh_at as string | null | undefined) ?? null,
      },
      billed: this.#driver.capabilities.billedByBytes
        ? { runs: n(ours?.runs), bytes_billed: n(ours?.runs_bytes_billed), bytes_processed: n(ours?.runs_bytes_processed) }
        : null,
    };
  }

  async recordRun(run: RunRecord): Promise<void> {
    await this.#driver.execute('record run', recordRunSql(this.#driver.dialect), { run: param.rows(RUN_ROW_FIELDS, [{ ...run, stop_reason: run.stop_reason === null ? null : truncate(run.stop_reason, 4_000) }]) });
  }

  async failedWallets(options: { limit?: number; kind?: 'backfill' | 'refresh' } = {}): Promise<FailedWallet[]> {
    const d = this.#driver.dialect;
    const sql = options.kind === 'refresh' ? refreshFailuresSql(d) : failedWalletsSql(d);
    const rows = await this.#driver.query<Record<string, unknown>>(`${options.kind ?? 'backfill'} failures`, sql, {
      limit: param.int(options.limit ?? 1_000_000),
    });
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

  costs(): WarehouseCosts | undefined {
    return this.#driver.costs?.();
  }

  close(): Promise<void> {
    return this.#driver.close();
  }
}

function outcomeOf(row: CheckpointRow): CheckpointOutcome | RefreshOutcome {
  if (row.refresh) return row.upload_successful ? 'refreshed' : row.transient ? 'refresh-transient' : 'refresh-failed';
  if (row.upload_successful) return 'loaded';
  if (row.invalid) return 'invalid';
  return row.transient ? 'transient' : 'failed';
}


function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The shard parameters of the plan queries (everything when unsharded); a bad shard is refused. */
function shardParams(shard: { index: number; count: number } = { index: 0, count: 1 }): Params {
  if (!Number.isInteger(shard.count) || shard.count < 1 || !Number.isInteger(shard.index) || shard.index < 0 || shard.index >= shard.count) {
    throw new ConfigError(`invalid shard ${shard.index}/${shard.count}`, { hint: 'The shard index runs from 0 to count-1' });
  }
  return { shard_count: param.int(shard.count), shard_index: param.int(shard.index) };
}
