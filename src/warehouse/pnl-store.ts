/**
 * `positions` and `wallet_stats`: what the profit replay of a batch of wallets reads (one query per table for the
 * whole batch, filtered by its wallets or the ids their rows name), how its results replace the wallets' rows, and
 * the reads of the `stats` command. The replay itself is not here (src/pnl, run by src/engine/wallet-stats.ts).
 *
 * A wallet's rows are replaced at once: inside one transaction where the backend has them (a delete and an insert),
 * otherwise by one MERGE per group of wallets that upserts their rows and deletes the ones they no longer have. A
 * wallet with more positions than one statement takes is written in parts (upserts, then a delete of the tokens it
 * no longer has); its `stale` flag stays set until the last part, so a run that died between parts leaves it for the
 * next run. The flag clears with the figures, in the statement that writes wallet_stats.
 */
import type { PnlResolution } from '../pnl/index.js';
import type { WarehouseDriver } from './driver.js';
import { param } from './sql/dialect.js';
import {
  POSITION_ROW_FIELDS,
  WALLET_STATS_ROW_FIELDS,
  clearStaleSql,
  deleteStaleTokensSql,
  deleteWalletRowsSql,
  eventCategoriesSql,
  insertRowsSql,
  pnlActivitySql,
  pnlFillsSql,
  pnlMarketsSql,
  pnlResolutionsSql,
  replacePositionsSql,
  statsCountsSql,
  statsFingerprintsSql,
  staleWalletsSql,
  upsertWalletStatsSql,
  walletPositionsSql,
  walletStatsSql,
} from './sql/pnl-sql.js';
import { chunks, shardParams } from './statement-params.js';
import type {
  PnlActivityRow,
  PnlBatchInputs,
  PnlFillRow,
  PnlMarketRow,
  PnlWriteResult,
  PositionRow,
  StatsCounts,
  StatsQuery,
  WalletPnlRows,
  WalletStatsRow,
} from './warehouse.js';

/**
 * Positions per MERGE where statements are not transactions (BigQuery), as a multiple of the driver's rows per
 * statement (500 by default): a position row is ~20 typed parameters of ~60 bytes each in the request, so 2,000 rows
 * stay near 2.5 MB, well under the 10 MB a request may carry.
 */
const POSITIONS_PER_ROW_BOUND = 4;

/** Ids per look-up statement (a strings parameter of 20,000 condition ids is ~1.4 MB). */
const IDS_PER_STATEMENT = 20_000;

const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));
const num = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
const int = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

function parseJson<T>(value: unknown, fallback: T): T {
  if (typeof value !== 'string') return fallback;
  try {
    return JSON.parse(value) as T;
  } catch {
    return fallback;
  }
}

export class PnlStore {
  readonly #driver: WarehouseDriver;

  constructor(driver: WarehouseDriver) {
    this.#driver = driver;
  }

  get #positionsPerMerge(): number {
    return this.#driver.capabilities.maxRowsPerStatement * POSITIONS_PER_ROW_BOUND;
  }

  async readInputs(wallets: readonly string[]): Promise<PnlBatchInputs> {
    const d = this.#driver.dialect;
    if (wallets.length === 0) return { fills: [], activity: [], markets: [], resolutions: [], events: [] };
    const byWallets = { wallets: param.strings(wallets) };
    const [fillRows, activityRows] = await Promise.all([
      this.#driver.query<Record<string, unknown>>('read fills for profit', pnlFillsSql(d), byWallets),
      this.#driver.query<Record<string, unknown>>('read activity for profit', pnlActivitySql(d), byWallets),
    ]);
    const fills: PnlFillRow[] = fillRows.map((r) => ({
      wallet: String(r.wallet),
      asset: String(r.asset ?? ''),
      condition_id: String(r.condition_id ?? '').toLowerCase(),
      outcome_index: int(r.outcome_index),
      side: String(r.side ?? ''),
      size: Number(r.size ?? 0),
      price: Number(r.price ?? 0),
      transaction_hash: String(r.transaction_hash ?? ''),
      timestamp: String(r.ts),
      ...(r.fill_seq === null || r.fill_seq === undefined ? {} : { fill_seq: Number(r.fill_seq) }),
    }));
    const activity: PnlActivityRow[] = activityRows.map((r) => ({
      wallet: String(r.wallet),
      type: String(r.type),
      // An empty id is no id: the replay treats both as "no market".
      condition_id: text(r.condition_id) || null,
      token_id: text(r.token_id) || null,
      outcome_index: int(r.outcome_index),
      size: Number(r.size ?? 0),
      usdc_size: Number(r.usdc_size ?? 0),
      transaction_hash: String(r.transaction_hash ?? ''),
      timestamp: String(r.ts),
      side: text(r.side),
      price: num(r.price),
      ...(r.activity_seq === null || r.activity_seq === undefined ? {} : { activity_seq: Number(r.activity_seq) }),
    }));

    const ids = new Set<string>();
    const converted = new Set<string>();
    for (const f of fills) if (f.condition_id) ids.add(f.condition_id);
    for (const a of activity) {
      if (!a.condition_id) continue;
      const id = a.condition_id.toLowerCase();
      ids.add(id);
      if (a.type.toUpperCase() === 'CONVERSION') converted.add(id);
    }
    const markets: PnlMarketRow[] = [];
    const seen = new Set<string>();
    for (const chunk of chunks([...ids].sort(), IDS_PER_STATEMENT)) {
      const inChunk = new Set(chunk);
      const rows = await this.#driver.query<Record<string, unknown>>('read markets for profit', pnlMarketsSql(d), {
        ids: param.strings(chunk),
        converted: param.strings([...converted].filter((id) => inChunk.has(id))),
      });
      for (const r of rows) {
        const id = String(r.condition_id).toLowerCase();
        if (seen.has(id)) continue;
        seen.add(id);
        markets.push({
          condition_id: id,
          clob_token_ids: text(r.clob_token_ids),
          neg_risk: r.neg_risk === null || r.neg_risk === undefined ? null : Boolean(r.neg_risk),
          neg_risk_market_id: text(r.neg_risk_market_id),
          raw: text(r.raw) ?? '{}',
          event_ids: text(r.event_ids),
        });
      }
    }
    const resolutionIds = [...new Set([...ids, ...seen])].sort();
    const resolutions: PnlResolution[] = [];
    for (const chunk of chunks(resolutionIds, IDS_PER_STATEMENT)) {
      const rows = await this.#driver.query<Record<string, unknown>>('read resolutions for profit', pnlResolutionsSql(d), { ids: param.strings(chunk) });
      for (const r of rows) {
        const payouts = parseJson<unknown>(r.payouts, null);
        resolutions.push({
          condition_id: String(r.condition_id).toLowerCase(),
          status: String(r.status),
          payouts: Array.isArray(payouts) && payouts.every((p) => typeof p === 'number') ? payouts : null,
        });
      }
    }
    const eventIds = [...new Set(markets.flatMap((m) => parseJson<unknown[]>(m.event_ids, []).map(String)))].sort();
    const events: PnlBatchInputs['events'] = [];
    for (const chunk of chunks(eventIds, IDS_PER_STATEMENT)) {
      const rows = await this.#driver.query<Record<string, unknown>>('read event categories', eventCategoriesSql(d), { ids: param.strings(chunk) });
      for (const r of rows) events.push({ event_id: String(r.event_id), category: text(r.category), tags: text(r.tags) });
    }
    return { fills, activity, markets, resolutions, events };
  }

  /**
   * Writes the wallets whose figures changed (by fingerprint) and clears the flag of the others. Wallets are written
   * in the order given; each one's rows are replaced whole (see the file's comment).
   */
  async write(results: readonly WalletPnlRows[]): Promise<PnlWriteResult> {
    if (results.length === 0) return { written: 0, unchanged: 0, positions: 0 };
    const d = this.#driver.dialect;
    const held = new Map<string, { fingerprint: string | null; computed: boolean }>();
    for (const chunk of chunks(results.map((r) => r.wallet), IDS_PER_STATEMENT)) {
      const rows = await this.#driver.query<{ wallet: string; fingerprint: string | null; computed: unknown }>('read stats fingerprints', statsFingerprintsSql(d), {
        wallets: param.strings(chunk),
      });
      for (const r of rows) held.set(String(r.wallet), { fingerprint: text(r.fingerprint), computed: r.computed === true });
    }
    const unchanged = results.filter((r) => {
      const h = held.get(r.wallet);
      return h !== undefined && h.computed && h.fingerprint === r.fingerprint;
    });
    const changed = results.filter((r) => !unchanged.includes(r));
    if (unchanged.length > 0) {
      for (const chunk of chunks(unchanged.map((r) => r.wallet), IDS_PER_STATEMENT)) {
        await this.#driver.execute('clear stale stats', clearStaleSql(d), { wallets: param.strings(chunk) });
      }
    }
    if (changed.length > 0) {
      if (this.#driver.capabilities.transactions) await this.#replaceInTransaction(changed);
      else await this.#replaceByMerge(changed);
    }
    return { written: changed.length, unchanged: unchanged.length, positions: changed.reduce((n, r) => n + r.positions.length, 0) };
  }

  /** Delete and insert, positions and stats, all in one transaction: a reader sees the old rows or the new ones. */
  async #replaceInTransaction(results: readonly WalletPnlRows[]): Promise<void> {
    const d = this.#driver.dialect;
    const rowsPerStatement = this.#driver.capabilities.maxRowsPerStatement;
    await this.#driver.transaction(async (session) => {
      for (const chunk of chunks(results.map((r) => r.wallet), IDS_PER_STATEMENT)) {
        await session.execute('delete replaced positions', deleteWalletRowsSql(d, 'positions'), { wallets: param.strings(chunk) });
        await session.execute('delete replaced wallet stats', deleteWalletRowsSql(d, 'wallet_stats'), { wallets: param.strings(chunk) });
      }
      for (const chunk of chunks(results.flatMap((r) => r.positions), rowsPerStatement)) {
        await session.execute('insert positions', insertRowsSql(d, 'positions'), { rows: param.rows(POSITION_ROW_FIELDS, chunk) });
      }
      for (const chunk of chunks(results.map((r) => r.stats), rowsPerStatement)) {
        await session.execute('insert wallet stats', insertRowsSql(d, 'wallet_stats'), { rows: param.rows(WALLET_STATS_ROW_FIELDS, chunk) });
      }
    });
  }

  /**
   * One MERGE per group of whole wallets (each statement commits alone, so no wallet is split between two), then one
   * MERGE of their stats, which clears their flags. A wallet larger than one statement is written in parts first.
   */
  async #replaceByMerge(results: readonly WalletPnlRows[]): Promise<void> {
    const d = this.#driver.dialect;
    const perMerge = this.#positionsPerMerge;
    const groups: WalletPnlRows[][] = [];
    let group: WalletPnlRows[] = [];
    let size = 0;
    for (const result of results) {
      if (result.positions.length > perMerge) {
        await this.#writeLargeWallet(result);
        continue;
      }
      if (size + result.positions.length > perMerge && group.length > 0) {
        groups.push(group);
        group = [];
        size = 0;
      }
      group.push(result);
      size += result.positions.length;
    }
    if (group.length > 0) groups.push(group);
    for (const g of groups) {
      await this.#driver.execute('replace positions', replacePositionsSql(d), {
        rows: param.rows(POSITION_ROW_FIELDS, g.flatMap((r) => r.positions)),
        wallets: param.strings(g.map((r) => r.wallet)),
      });
    }
    for (const chunk of chunks(results.map((r) => r.stats), this.#driver.capabilities.maxRowsPerStatement)) {
      await this.#driver.execute('write wallet stats', upsertWalletStatsSql(d), { rows: param.rows(WALLET_STATS_ROW_FIELDS, chunk) });
    }
  }

  /** A wallet with more positions than one MERGE takes: its rows upserted in parts, then the tokens it no longer has deleted. */
  async #writeLargeWallet(result: WalletPnlRows): Promise<void> {
    const d = this.#driver.dialect;
    for (const part of chunks(result.positions, this.#positionsPerMerge)) {
      await this.#driver.execute('replace positions (part)', replacePositionsSql(d), { rows: param.rows(POSITION_ROW_FIELDS, part), wallets: param.strings([]) });
    }
    await this.#driver.execute('delete positions no longer held', deleteStaleTokensSql(d), {
      wallet: param.string(result.wallet),
      tokens: param.strings(result.positions.map((p) => String(p.token_id))),
    });
  }

  async staleWallets(options: { limit: number; shard?: { index: number; count: number } }): Promise<string[]> {
    const rows = await this.#driver.query<{ wallet: string }>('wallets with stale stats', staleWalletsSql(this.#driver.dialect), {
      limit: param.int(options.limit),
      ...shardParams(options.shard),
    });
    return rows.map((r) => String(r.wallet));
  }

  async ranking(query: StatsQuery): Promise<WalletStatsRow[]> {
    const rows = await this.#driver.query<Record<string, unknown>>('rank wallets', walletStatsSql(this.#driver.dialect, query.by), {
      limit: param.int(query.limit),
      min_markets: param.int(query.minMarkets),
    });
    return rows.map(statsRow);
  }

  async statsOf(wallet: string): Promise<WalletStatsRow | undefined> {
    const rows = await this.#driver.query<Record<string, unknown>>('wallet stats', walletStatsSql(this.#driver.dialect, 'pnl', { onlyWallet: true }), {
      wallet: param.string(wallet),
      limit: param.int(1),
    });
    return rows[0] ? statsRow(rows[0]) : undefined;
  }

  async positions(wallet: string): Promise<PositionRow[]> {
    const rows = await this.#driver.query<Record<string, unknown>>('wallet positions', walletPositionsSql(this.#driver.dialect), { wallet: param.string(wallet) });
    return rows.map((r) => ({
      proxy_wallet: String(r.proxy_wallet),
      condition_id: String(r.condition_id),
      token_id: String(r.token_id),
      outcome_index: int(r.outcome_index),
      shares: Number(r.shares ?? 0),
      avg_price: Number(r.avg_price ?? 0),
      total_bought: Number(r.total_bought ?? 0),
      cost_bought_usdc: Number(r.cost_bought_usdc ?? 0),
      realized_pnl: Number(r.realized_pnl ?? 0),
      // NULL is an unknown fee, not a zero one.
      realized_pnl_after_fees: num(r.realized_pnl_after_fees),
      fees_usdc: num(r.fees_usdc),
      status: String(r.status ?? ''),
      payout_price: num(r.payout_price),
      settled_pnl: num(r.settled_pnl),
      fills: Number(r.fills ?? 0),
      first_entry_at: text(r.first_entry_at),
      last_event_at: text(r.last_event_at),
      computed_at: text(r.computed_at),
      question: text(r.question),
    }));
  }

  async counts(): Promise<StatsCounts> {
    const [row] = await this.#driver.query<Record<string, unknown>>('stats counts', statsCountsSql(this.#driver.dialect));
    return { wallets: Number(row?.wallets ?? 0), computed: Number(row?.computed ?? 0), stale: Number(row?.stale ?? 0) };
  }
}

function statsRow(r: Record<string, unknown>): WalletStatsRow {
  const categories = parseJson<unknown>(r.top_categories, []);
  return {
    proxy_wallet: String(r.proxy_wallet),
    stale: r.stale === true,
    realized_pnl: num(r.realized_pnl),
    realized_pnl_after_fees: num(r.realized_pnl_after_fees),
    fees_usdc: num(r.fees_usdc),
    volume_usdc: num(r.volume_usdc),
    fills: int(r.fills),
    markets_traded: int(r.markets_traded),
    resolved_markets_traded: int(r.resolved_markets_traded),
    wins: int(r.wins),
    losses: int(r.losses),
    win_rate: num(r.win_rate),
    win_rate_sample: int(r.win_rate_sample),
    cost_bought_usdc: num(r.cost_bought_usdc),
    return_on_cost: num(r.return_on_cost),
    first_trade_at: text(r.first_trade_at),
    last_trade_at: text(r.last_trade_at),
    maker_share: num(r.maker_share),
    maker_share_sample: int(r.maker_share_sample),
    top_categories: Array.isArray(categories) ? (categories as WalletStatsRow['top_categories']) : [],
    skipped: parseJson<Record<string, unknown> | null>(r.skipped, null),
    computed_at: text(r.computed_at),
  };
}
