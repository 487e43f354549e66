/**
 * The chain audit's store in the warehouse (tables audit_results, audit_mismatches, audit_progress,
 * audit_chain_fills), through the shared statements of ./sql/audit-sql.ts.
 *
 * Resumption rests on one order of writes: a range's logs, then the progress that says they are
 * there. DuckDB commits the two together; BigQuery has no transactions here, and a stop between the
 * two leaves logs past the progress, which the next walk fetches again and the MERGE (keyed by
 * wallet, transaction and log index) does not insert twice. A result is written the same way: its
 * mismatches, then the row that counts them.
 */
import type { AuditedRange, WalletAuditReport } from '../chain/audit-wallet.js';
import type { FillMismatch, HeldTrade, MismatchKind } from '../chain/fill-match.js';
import { fromRaw } from '../chain/chain-facts.js';
import type { ChainFill, FillRole, FillSide, Undecodable, UndecodableReason } from '../chain/order-filled.js';
import { InvalidInputError } from '../lib/errors.js';
import type { WarehouseDriver } from './driver.js';
import {
  AUDIT_CHAIN_FILL_FIELDS,
  AUDIT_MISMATCH_FIELDS,
  AUDIT_RESULT_FIELDS,
  allAuditResultsSql,
  auditChainFillsSql,
  auditHeldTradesSql,
  auditMismatchesSql,
  auditProgressSql,
  auditResultsSql,
  auditSampleSql,
  clearAuditSql,
  insertAuditMismatchesSql,
  saveAuditChainFillsSql,
  saveAuditProgressSql,
  saveAuditResultSql,
} from './sql/audit-sql.js';
import { param } from './sql/dialect.js';
import { chunks, truncate } from './statement-params.js';
import type { AuditResultRow, AuditWarehouse } from './warehouse.js';

/** Buckets of the sample's hash order: far more than wallets in any sample, so ties are rare (and broken by address). */
const SAMPLE_BUCKETS = 1_000_003;

type Row = Record<string, unknown>;

const int = (value: unknown): number => Number(value);
const intOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
const textOrNull = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));
const text = (value: unknown): string => (value === null || value === undefined ? '' : String(value));

function bigintOf(value: unknown, what: string): bigint {
  const shown = text(value);
  if (!/^\d+$/.test(shown)) throw new InvalidInputError(`audit_chain_fills.${what} ${JSON.stringify(shown)} is not a decimal amount`, { hint: 'The row was not written by this tool; `backfill audit --restart` collects the wallet\'s logs again' });
  return BigInt(shown);
}

function chainRow(wallet: string, entry: ChainFill | Undecodable): Row {
  const common = { wallet, transaction_hash: entry.transactionHash, log_index: entry.logIndex, block_number: entry.blockNumber, kind: entry.kind };
  if (entry.kind === 'fill') {
    return {
      ...common,
      exchange: entry.exchange,
      version: entry.version,
      block_timestamp: entry.blockTimestamp ?? null,
      order_hash: entry.orderHash,
      maker: entry.maker,
      taker: entry.taker,
      role: entry.role,
      side: entry.side,
      token_id: entry.tokenId,
      usdc_raw: entry.usdcRaw.toString(),
      shares_raw: entry.sharesRaw.toString(),
      fee_raw: entry.feeRaw.toString(),
      reason: null,
      detail: null,
      topic0: null,
    };
  }
  return { ...common, exchange: entry.address, maker: entry.maker ?? null, reason: entry.reason, detail: truncate(entry.detail, 4_000), topic0: entry.topic0 ?? null };
}

function chainEntry(row: Row): ChainFill | Undecodable {
  const base = { transactionHash: text(row.transaction_hash), logIndex: int(row.log_index), blockNumber: int(row.block_number) };
  if (row.kind === 'undecodable') {
    return {
      kind: 'undecodable',
      reason: text(row.reason) as UndecodableReason,
      detail: text(row.detail),
      ...base,
      address: text(row.exchange),
      topic0: textOrNull(row.topic0) ?? undefined,
      maker: textOrNull(row.maker) ?? undefined,
    };
  }
  const usdcRaw = bigintOf(row.usdc_raw, 'usdc_raw');
  const sharesRaw = bigintOf(row.shares_raw, 'shares_raw');
  return {
    kind: 'fill',
    exchange: text(row.exchange),
    version: row.version === 'v1' ? 'v1' : 'v2',
    ...base,
    blockTimestamp: intOrNull(row.block_timestamp) ?? undefined,
    orderHash: text(row.order_hash),
    maker: text(row.maker),
    taker: text(row.taker),
    role: text(row.role) as FillRole,
    side: text(row.side) as FillSide,
    tokenId: text(row.token_id),
    usdcRaw,
    sharesRaw,
    feeRaw: bigintOf(row.fee_raw, 'fee_raw'),
    // As the decoder computes them (order-filled.ts), so a fill read back equals the fill decoded.
    shares: fromRaw(sharesRaw),
    usdc: fromRaw(usdcRaw),
    price: Number(usdcRaw) / Number(sharesRaw),
  };
}

export class WarehouseAudits implements AuditWarehouse {
  readonly #driver: WarehouseDriver;

  constructor(driver: WarehouseDriver) {
    this.#driver = driver;
  }

  async auditHeldTrades(wallet: string): Promise<HeldTrade[]> {
    const rows = await this.#driver.query<Row>('read held trades to audit', auditHeldTradesSql(this.#driver.dialect), { wallet: param.string(wallet) });
    return rows.map((r) => ({
      trade_id: text(r.trade_id),
      proxy_wallet: text(r.proxy_wallet),
      transaction_hash: text(r.transaction_hash),
      asset: text(r.asset),
      side: text(r.side),
      size: Number(r.size),
      price: Number(r.price),
      timestamp: text(r.ts),
    }));
  }

  async auditProgress(wallet: string): Promise<number | undefined> {
    const [row] = await this.#driver.query<{ last_block: unknown }>('read audit progress', auditProgressSql(this.#driver.dialect), { wallet: param.string(wallet) });
    return row?.last_block === null || row?.last_block === undefined ? undefined : Number(row.last_block);
  }

  async saveAuditRange(wallet: string, range: AuditedRange): Promise<void> {
    const d = this.#driver.dialect;
    const rows = [...range.fills, ...range.undecodable].map((entry) => chainRow(wallet, entry));
    await this.#driver.transaction(async (session) => {
      for (const chunk of chunks(rows, this.#driver.capabilities.maxRowsPerStatement)) {
        await session.execute('save audited logs', saveAuditChainFillsSql(d), { rows: param.rows(AUDIT_CHAIN_FILL_FIELDS, chunk) });
      }
      await session.execute('save audit progress', saveAuditProgressSql(d), { wallet: param.string(wallet), last_block: param.int(range.toBlock) });
    });
  }

  async auditChainFills(wallet: string): Promise<{ fills: ChainFill[]; undecodable: Undecodable[] }> {
    const rows = await this.#driver.query<Row>('read audited logs', auditChainFillsSql(this.#driver.dialect), { wallet: param.string(wallet) });
    const fills: ChainFill[] = [];
    const undecodable: Undecodable[] = [];
    for (const row of rows) {
      const entry = chainEntry(row);
      if (entry.kind === 'fill') fills.push(entry);
      else undecodable.push(entry);
    }
    return { fills, undecodable };
  }

  async saveAuditResult(wallet: string, report: WalletAuditReport, auditedAt: string): Promise<void> {
    const d = this.#driver.dialect;
    const mismatches = report.mismatches.map((m) => ({
      wallet,
      audited_at: auditedAt,
      kind: m.kind,
      transaction_hash: m.transactionHash,
      log_index: m.logIndex,
      block_number: m.blockNumber,
      exchange: m.exchange,
      role: m.role,
      token_id: m.tokenId,
      side: m.side,
      chain_shares: m.chainShares,
      chain_price: m.chainPrice,
      trade_id: m.tradeId,
      held_size: m.heldSize,
      held_price: m.heldPrice,
      detail: truncate(m.detail, 4_000),
    }));
    const result = {
      wallet,
      from_block: report.fromBlock,
      to_block: report.toBlock,
      from_time: new Date(report.fromSeconds * 1000).toISOString(),
      to_time: new Date(report.toSeconds * 1000).toISOString(),
      on_chain: report.onChain,
      held: report.held,
      matched: report.matched,
      missing_from_api: report.missingFromApi,
      held_not_on_chain: report.heldNotOnChain,
      under_minimum: report.underMinimum,
      held_outside_range: report.heldOutsideRange,
      held_unverifiable: report.heldUnverifiable,
      undecodable: report.undecodable,
      undecodable_by_reason: JSON.stringify(report.undecodableByReason),
      complete: report.complete,
      mismatches: mismatches.length,
      log_requests: report.logRequests,
      ranges: report.ranges,
      resumed_after: report.resumedAfter ?? null,
      audited_at: auditedAt,
    };
    await this.#driver.transaction(async (session) => {
      await session.execute('clear audit mismatches', clearAuditSql(d, 'audit_mismatches'), { wallet: param.string(wallet) });
      for (const chunk of chunks(mismatches, this.#driver.capabilities.maxRowsPerStatement)) {
        await session.execute('save audit mismatches', insertAuditMismatchesSql(d), { rows: param.rows(AUDIT_MISMATCH_FIELDS, chunk) });
      }
      await session.execute('save audit result', saveAuditResultSql(d), { rows: param.rows(AUDIT_RESULT_FIELDS, [result]) });
    });
  }

  async clearAudit(wallet: string): Promise<void> {
    const d = this.#driver.dialect;
    await this.#driver.transaction(async (session) => {
      // Progress first: a stop between the two leaves logs without progress, which the next walk overwrites.
      await session.execute('clear audit progress', clearAuditSql(d, 'audit_progress'), { wallet: param.string(wallet) });
      await session.execute('clear audited logs', clearAuditSql(d, 'audit_chain_fills'), { wallet: param.string(wallet) });
    });
  }

  async auditResults(wallets?: readonly string[]): Promise<AuditResultRow[]> {
    const d = this.#driver.dialect;
    const rows: Row[] = [];
    if (wallets === undefined) {
      rows.push(...(await this.#driver.query<Row>('read audit results', allAuditResultsSql(d))));
    } else {
      for (const chunk of chunks([...new Set(wallets)], 10_000)) {
        rows.push(...(await this.#driver.query<Row>('read audit results', auditResultsSql(d), { wallets: param.strings(chunk) })));
      }
    }
    return rows.map((r) => ({
      wallet: text(r.wallet),
      from_block: int(r.from_block),
      to_block: int(r.to_block),
      from_time: text(r.from_time),
      to_time: text(r.to_time),
      on_chain: int(r.on_chain),
      held: int(r.held),
      matched: int(r.matched),
      missing_from_api: int(r.missing_from_api),
      held_not_on_chain: int(r.held_not_on_chain),
      under_minimum: int(r.under_minimum),
      held_outside_range: int(r.held_outside_range),
      held_unverifiable: int(r.held_unverifiable),
      undecodable: int(r.undecodable),
      undecodable_by_reason: JSON.parse(text(r.undecodable_by_reason) || '{}') as Record<string, number>,
      complete: r.complete === true,
      mismatches: int(r.mismatches),
      log_requests: int(r.log_requests),
      ranges: int(r.ranges),
      resumed_after: intOrNull(r.resumed_after),
      audited_at: text(r.audited_at),
    }));
  }

  async auditMismatches(wallet: string): Promise<(FillMismatch & { auditedAt: string })[]> {
    const rows = await this.#driver.query<Row>('read audit mismatches', auditMismatchesSql(this.#driver.dialect), { wallet: param.string(wallet) });
    const number = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
    return rows.map((r) => ({
      kind: text(r.kind) as MismatchKind,
      transactionHash: text(r.transaction_hash),
      logIndex: intOrNull(r.log_index),
      blockNumber: intOrNull(r.block_number),
      exchange: textOrNull(r.exchange),
      role: textOrNull(r.role) as FillRole | null,
      tokenId: textOrNull(r.token_id),
      side: textOrNull(r.side),
      chainShares: number(r.chain_shares),
      chainPrice: number(r.chain_price),
      tradeId: textOrNull(r.trade_id),
      heldSize: number(r.held_size),
      heldPrice: number(r.held_price),
      detail: text(r.detail),
      auditedAt: text(r.audited_at),
    }));
  }

  async auditSample(limit: number): Promise<string[]> {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`an audit sample must hold at least 1 wallet, got ${String(limit)}`);
    const rows = await this.#driver.query<{ wallet: unknown }>('sample wallets to audit', auditSampleSql(this.#driver.dialect), {
      buckets: param.int(SAMPLE_BUCKETS),
      limit: param.int(limit),
    });
    return rows.map((r) => text(r.wallet));
  }
}
