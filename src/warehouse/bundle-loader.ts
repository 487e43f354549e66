/**
 * Staged bundles into the warehouse: every kind's staged files MERGEd into its table on its key,
 * metadata first, trades last, in one transaction where the backend has them; the staged files
 * checked against their manifests first; what each wallet then holds read back for its checkpoint.
 * Also the known-ids look-ups that let the engine skip markets and events already held.
 */
import { BackfillError } from '../lib/errors.js';
import type { WarehouseDriver, SqlSession, StagedRelation } from './driver.js';
import { param } from './sql/dialect.js';
import type { Params } from './sql/dialect.js';
import { knownIdsSql } from './sql/known-ids-sql.js';
import { anyTradeOfWalletsSql, knownStagedKeysSql, mergeSql, monthRanges, repairDuplicateTradesSql, stagedTradesSql, timeRangeParams, walletTradeCountsSql } from './sql/merge-sql.js';
import { resolvedWinningLabelsSql, stagedWalletRowsSql, walletActivityCountsSql } from './sql/activity-sql.js';
import { markHoldersStaleSql, markWalletsStaleSql } from './sql/pnl-sql.js';
import { unresolvedMergeParams, unresolvedMergeSql } from './sql/unresolved-sql.js';
import { chunks } from './statement-params.js';
import { LOADED_TABLES } from './table-schemas.js';
import type { LoadedTableSpec } from './table-schemas.js';
import type { LoadResult, WalletBundle } from './warehouse.js';

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

/** Metadata first, trades last: a reader never sees a trade or an activity row whose market row is still to come. */
const MERGE_ORDER: readonly Kind[] = ['markets', 'events', 'unresolved', 'resolutions', 'activity', 'combo_activity', 'trades'];

/** The per-wallet tables besides trades: checked against their files and merged restricted to the batch's wallets. */
const WALLET_KINDS: ReadonlySet<Kind> = new Set(['activity', 'combo_activity']);

/**
 * The size of an upsert target from which asking for its known keys first is cheaper than the
 * upsert: the question and an insert-only MERGE bill about 3 × 10 MiB at least, an upsert the
 * whole table.
 */
const KNOWN_KEYS_CHECK_MIN_BYTES = 32 * 2 ** 20;

/** A staged trades file that does not hold what its manifest promised; the wallet is fetched again. */
export class StagedDataMismatchError extends BackfillError {}

export class BundleLoader {
  readonly #driver: WarehouseDriver;
  /** Metadata tables known to be over KNOWN_KEYS_CHECK_MIN_BYTES. */
  readonly #largeTables = new Set<string>();
  #known: Partial<Record<'market' | 'event', Promise<Set<string>>>> = {};
  /** Per kind, the look-up in flight (settled or not) and the ids gathered for the one after it. */
  readonly #lookups: Record<'market' | 'event', { running: Promise<unknown>; next?: { ids: Set<string>; answer: Promise<Set<string>> } }> = {
    market: { running: Promise.resolve() },
    event: { running: Promise.resolve() },
  };

  constructor(driver: WarehouseDriver) {
    this.#driver = driver;
  }

  /** A plan starts a run: id look-ups start again from the warehouse as it is now. */
  forgetKnownIds(): void {
    this.#known = {};
  }

  knownConditionIds(ids: readonly string[]): Promise<Set<string>> {
    return this.#knownAmong('market', ids);
  }

  knownEventIds(ids: readonly string[]): Promise<Set<string>> {
    return this.#knownAmong('event', ids);
  }

  /**
   * An embedded backend answers look-ups with queries (those asked meanwhile share one). A remote one answers from a snapshot
   * of all known ids read once per run: each BigQuery query bills at least 10 MB per table it
   * reads, so per-wallet look-ups over markets + unresolved_ids would bill ~20 MB × 2 × 100,000
   * wallets ≈ 4 TB and add a job's latency to every wallet. Ids merged by another runner after
   * the snapshot are merely fetched from Gamma again and upserted.
   */
  async #knownAmong(kind: 'market' | 'event', ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    if (this.#driver.capabilities.cheapLookups) {
      const known = await this.#askTogether(kind, ids);
      return new Set(ids.filter((id) => known.has(id)));
    }
    const snapshot = (this.#known[kind] ??= this.#readKnown(kind).catch((error: unknown) => {
      delete this.#known[kind];
      throw error;
    }));
    const known = await snapshot;
    return new Set(ids.filter((id) => known.has(id)));
  }

  /**
   * Every wallet of a run asks, and the embedded reads queue on one connection: a query per wallet made 100,000
   * wallets wait in line behind each other's look-ups. Ids asked while a look-up runs go together in the next one,
   * which answers every wallet that asked for them (so at most one runs per kind, and one waits).
   */
  #askTogether(kind: 'market' | 'event', ids: readonly string[]): Promise<Set<string>> {
    const lookups = this.#lookups[kind];
    let next = lookups.next;
    if (!next) {
      const gathered = new Set<string>();
      const answer = lookups.running.then(async () => {
        // From here on, ids asked wait for the look-up after this one.
        if (lookups.next?.ids === gathered) delete lookups.next;
        const known = new Set<string>();
        for (const chunk of chunks([...gathered], this.#driver.capabilities.maxRowsPerStatement)) {
          const rows = await this.#driver.query<{ id: string }>(`known ${kind} ids`, knownIdsSql(this.#driver.dialect, kind, { among: true }), { ids: param.strings(chunk) });
          for (const row of rows) known.add(String(row.id));
        }
        return known;
      });
      next = lookups.next = { ids: gathered, answer };
      lookups.running = answer.catch(() => undefined);
    }
    for (const id of ids) next.ids.add(id);
    return next.answer;
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
    // Per kind, each staged file once (by URI) with its version: its GCS generation, else its sha256.
    const uris = Object.fromEntries(MERGE_ORDER.map((kind) => [kind, new Map<string, string>()])) as Record<Kind, Map<string, string>>;
    for (const bundle of bundles) {
      for (const kind of MERGE_ORDER) {
        const file = bundle.files[kind];
        if (file && file.rows > 0) uris[kind].set(file.uri, file.generation ?? file.sha256 ?? `${file.bytes}`);
      }
    }
    const wallets = [...new Set(bundles.filter((b) => !b.metadataOnly).map((b) => b.wallet))].sort();
    const kinds = MERGE_ORDER.filter((k) => uris[k].size > 0);
    const staged: StagedRelation[] = [];
    const result = await this.#driver.transaction(async (session) => {
      const relations = await Promise.all(
        kinds.map((kind) => {
          const sorted = [...uris[kind].keys()].sort();
          return session.stageFiles(LOADED_TABLES[kind], sorted, sorted.map((uri) => uris[kind].get(uri)!));
        }),
      );
      staged.push(...relations);
      const byKind = new Map(kinds.map((kind, i) => [kind, relations[i]!]));
      const merged: LoadResult['merged'] = { trades: 0, markets: 0, events: 0, unresolved: 0, activity: 0, combo_activity: 0, resolutions: 0 };
      let timeRanges: { from: string; to: string }[] = [];
      let fresh: WalletTotals | undefined;
      // The wallets' figures (positions, wallet_stats) are stale from here until recomputed from what this load
      // brings; flagged before their rows merge, so a load that dies half-way (no transactions) still left the flag.
      if (wallets.length > 0) await session.execute('mark wallet stats stale', markWalletsStaleSql(this.#driver.dialect), { wallets: param.strings(wallets) });
      for (const kind of kinds) {
        const relation = byKind.get(kind)!;
        // A resolution that becomes final, a market found by a later look-up, or a neg-risk group completed by one,
        // changes the replay of every wallet holding it: those are flagged before the merge (which tells "new" apart).
        if (kind === 'resolutions' || ((kind === 'markets' || kind === 'events') && wallets.length === 0)) {
          await session.execute(`mark holders of ${kind} stale`, markHoldersStaleSql(this.#driver.dialect, relation.relation, kind), relation.params);
        }
        if (kind === 'trades') {
          ({ inserted: merged.trades, timeRanges, fresh } = await this.#mergeTrades(session, relation, bundles, wallets));
        } else if (WALLET_KINDS.has(kind)) {
          merged[kind] = await this.#mergeWalletRows(session, kind, relation, bundles, wallets);
        } else {
          merged[kind] = await this.#mergeMetadata(session, LOADED_TABLES[kind], relation);
          if (kind === 'resolutions') await session.execute('winning labels from payouts', resolvedWinningLabelsSql(this.#driver.dialect, relation.relation), relation.params);
        }
      }
      if (wallets.length === 0) return { merged, tradeCounts: {}, lastTradeAt: {}, duplicatesRemoved: 0, activityCounts: {}, lastActivityAt: {} };
      const activity = await this.#activityCounts(session, wallets);
      if (fresh) return { merged, tradeCounts: fresh.counts, lastTradeAt: fresh.lastTradeAt, duplicatesRemoved: 0, ...activity };
      // A refresh window's months do not hold the wallet's older trades (nor an activity-only bundle any): its count reads them all.
      const unpruned = bundles.some((b) => b.partial === true || b.activityOnly === true);
      const { counts, lastTradeAt, duplicates } = await this.#tradeCounts(session, wallets, unpruned ? [] : timeRanges);
      return { merged, tradeCounts: counts, lastTradeAt, duplicatesRemoved: duplicates, ...activity };
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

  /**
   * Activity or combo rows of the batch's wallets: every staged row belongs to a wallet of the batch, each wallet's
   * file holds what it recorded and no key twice (a twin the keyer numbered apart never repeats a key), then the
   * insert-only MERGE restricted to the batch's wallets (clustering prunes the target to their blocks).
   */
  async #mergeWalletRows(session: SqlSession, kind: Kind, relation: StagedRelation, bundles: readonly WalletBundle[], wallets: string[]): Promise<number> {
    const d = this.#driver.dialect;
    const spec = LOADED_TABLES[kind];
    const stats = await session.query<{ wallet: string; row_count: unknown; key_count: unknown }>(
      `check staged ${spec.table}`,
      stagedWalletRowsSql(d, relation.relation, spec.key[0]!),
      relation.params,
    );
    const byWallet = new Map(stats.map((s) => [String(s.wallet), s]));
    for (const s of stats) {
      if (!bundles.some((b) => b.wallet === String(s.wallet))) {
        throw new StagedDataMismatchError(`staged ${spec.table} of this batch hold ${Number(s.row_count)} row(s) of wallet ${JSON.stringify(String(s.wallet))}, which is not in the batch`, {
          hint: "A staged file holds another wallet's rows (a copied or foreign file); the wallet is fetched again",
          kind: 'permanent',
        });
      }
    }
    for (const bundle of bundles) {
      const file = bundle.files[kind];
      if (!file) continue;
      const s = byWallet.get(bundle.wallet);
      const rows = Number(s?.row_count ?? 0);
      if (rows !== file.rows) {
        throw new StagedDataMismatchError(`staged ${spec.table} file ${file.uri} of wallet ${bundle.wallet} holds ${rows} row(s) but was written with ${file.rows}`, {
          hint: 'The staged file is damaged or was replaced; the wallet is fetched again',
          kind: 'permanent',
        });
      }
      if (Number(s?.key_count ?? 0) !== rows) {
        throw new StagedDataMismatchError(`staged ${spec.table} file ${file.uri} of wallet ${bundle.wallet} holds ${rows} rows under only ${Number(s?.key_count ?? 0)} distinct ${spec.key[0]} values`, {
          hint: 'The Data API served rows the keyer could not tell apart; the next run fetches the wallet again, and if it repeats, report it',
          kind: 'permanent',
        });
      }
    }
    if (stats.length === 0) return 0;
    const source = { relation: relation.relation, unique: relation.unique };
    return session.execute(`merge ${spec.table}`, mergeSql(d, spec, source, { prune: { timeRange: false } }), { ...relation.params, wallets: param.strings(wallets) });
  }

  /** Activity rows the warehouse holds per wallet of the batch, and the newest one's time: the checkpoint's figures. */
  async #activityCounts(session: SqlSession, wallets: string[]): Promise<Pick<LoadResult, 'activityCounts' | 'lastActivityAt'>> {
    const rows = await session.query<{ wallet: string; row_count: unknown; newest: string | null }>('count activity', walletActivityCountsSql(this.#driver.dialect), {
      wallets: param.strings(wallets),
    });
    const totals = walletTotals(wallets, rows.map((r) => ({ wallet: r.wallet, count: r.row_count, newest: r.newest })));
    return { activityCounts: totals.counts, lastActivityAt: totals.lastTradeAt };
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

}
