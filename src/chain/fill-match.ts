/**
 * Reconciles a wallet's fills on the chain with the trade rows the warehouse holds for it.
 *
 * Which log is which row. A match of a taker order against N maker orders emits N maker legs
 * `OrderFilled(hash, makerOrder.maker, takerOrder.maker, …)` and one taker summary
 * `OrderFilled(hash, takerOrder.maker, <exchange>, …)`. The Data API row of wallet W is the log whose
 * order maker (topic 2) is W (notes: a fixture repository found decoded rows equal to the API's row
 * for the same tx and log index), so:
 * - W as maker: one row per maker leg of W's orders, at that leg's amounts;
 * - W as taker: one row per taker summary, at the summary's total amounts (not one per counterparty);
 * - the legs where W is topic 3 are the counterparties' rows, and the audit's filter (topic 2 = W)
 *   never fetches them.
 *
 * A chain fill and a held row are the same fill when they have the same transaction, token and side,
 * the same shares to the 6th decimal (the on-chain unit) and the same price within `priceTolerance`
 * USDC per share plus one unit of rounding. Fills equal in all of that (twins: one order filled twice
 * alike in one transaction) are matched as multisets: per (transaction, token, side), a maximum
 * bipartite matching, so no pairing order can leave a pair unmatched that another order would match.
 *
 * What is left over is classified, never guessed: chain fills under 0.01 shares (the Data API never
 * serves them by default) apart from the ones missing from the API; held rows whose transaction has an
 * undecodable log of the wallet (the combo exchange) apart as unverifiable; held rows dated outside the
 * audited blocks apart as outside the range (e.g. the AMM era, before the first exchange).
 */
import { InvalidInputError } from '../lib/errors.js';
import type { TradeRecord } from '../polymarket/records.js';
import type { ChainFill, Undecodable, UndecodableReason } from './order-filled.js';
import { AMOUNT_SCALE } from './chain-facts.js';

/** A held trade row: the `trades` table's columns the audit reads. `timestamp` is ISO-8601 UTC. */
export type HeldTrade = Pick<TradeRecord, 'trade_id' | 'proxy_wallet' | 'transaction_hash' | 'asset' | 'side' | 'size' | 'price' | 'timestamp'>;

/** The Data API's default `filter_amount`: it serves no fill smaller, unless asked for less. */
export const API_MIN_SHARES_RAW = 10_000n;

/** Default price tolerance in USDC per share, on top of one raw unit of rounding: a hundredth of a cent. */
export const DEFAULT_PRICE_TOLERANCE = 0.0001;

export type MismatchKind = 'missing-from-api' | 'under-minimum' | 'held-not-on-chain' | 'held-unverifiable' | 'undecodable';

/** One fill the audit could not match, flat enough for a table row. */
export interface FillMismatch {
  kind: MismatchKind;
  transactionHash: string;
  /** Chain side (null for a held row). */
  logIndex: number | null;
  blockNumber: number | null;
  exchange: string | null;
  role: ChainFill['role'] | null;
  /** Token id and side, of whichever side the entry is from (null for an undecodable log). */
  tokenId: string | null;
  side: string | null;
  chainShares: number | null;
  chainPrice: number | null;
  /** Held side (null for a chain fill). */
  tradeId: string | null;
  heldSize: number | null;
  heldPrice: number | null;
  /** What the audit saw, e.g. the unmatched counterpart of the same transaction, token and side. */
  detail: string;
}

export interface FillMatchReport {
  wallet: string;
  /** Decoded chain fills of the wallet in the audited blocks. */
  onChain: number;
  /** Held rows of the wallet (every one given, whatever its date). */
  held: number;
  matched: number;
  /** Chain fills of at least 0.01 shares with no held row. */
  missingFromApi: number;
  /** Chain fills under 0.01 shares with no held row. */
  underMinimum: number;
  /** Held rows dated inside the audited blocks with no chain fill, in a transaction with no undecodable log of the wallet. */
  heldNotOnChain: number;
  /** Held rows dated outside the audited blocks (not matched, not counted against the wallet). */
  heldOutsideRange: number;
  /** Unmatched held rows of a transaction where the wallet has undecodable logs: they may be those fills. */
  heldUnverifiable: number;
  undecodable: number;
  undecodableByReason: Partial<Record<UndecodableReason, number>>;
  /** Nothing missing from the API and nothing held but not on the chain (under-minimum, unverifiable, undecodable do not count). */
  complete: boolean;
  /** Every unmatched fill but the held rows outside the range: chain fills (by block, log index), held rows (as given), undecodable logs. */
  mismatches: FillMismatch[];
}

export interface MatchInput {
  /** Lower-cased wallet. */
  wallet: string;
  chainFills: readonly ChainFill[];
  undecodable: readonly Undecodable[];
  held: readonly HeldTrade[];
  /** Epoch seconds of the first and last audited blocks; held rows dated outside are `heldOutsideRange`. Omitted: every row is inside. */
  window?: { fromSeconds: number; toSeconds: number };
  priceTolerance?: number;
}

/** Same shares to the on-chain unit: the API's decimal size against the raw amount. */
export function sharesAgree(size: number, sharesRaw: bigint): boolean {
  const raw = Number(sharesRaw);
  // Half a unit of rounding, plus float noise of the product (relative 1e-12: exact up to 10^9 shares).
  return Math.abs(size * AMOUNT_SCALE - raw) <= 0.5 + raw * 1e-12;
}

/** The API's price against USDC / shares, compared in USDC so that a tiny fill's rounding is allowed for. */
export function pricesAgree(price: number, fill: Pick<ChainFill, 'usdcRaw' | 'sharesRaw'>, tolerance = DEFAULT_PRICE_TOLERANCE): boolean {
  const shares = Number(fill.sharesRaw);
  return Math.abs(Number(fill.usdcRaw) - price * shares) <= 1 + tolerance * shares + shares * 1e-12;
}

function groupKey(transactionHash: string, tokenId: string, side: string): string {
  return `${transactionHash.toLowerCase()}|${tokenId}|${side.toUpperCase()}`;
}

/**
 * Maximum bipartite matching (Kuhn's augmenting paths) of a group's fills to its rows. Returns, per
 * fill index, the matched row index or -1.
 */
function maximumMatching(fills: readonly ChainFill[], rows: readonly HeldTrade[], compatible: (f: ChainFill, r: HeldTrade) => boolean): number[] {
  const adjacency = fills.map((fill) => rows.flatMap((row, r) => (compatible(fill, row) ? [r] : [])));
  const rowOwner = new Array<number>(rows.length).fill(-1);
  const fillMatch = new Array<number>(fills.length).fill(-1);
  const augment = (f: number, seen: boolean[]): boolean => {
    for (const r of adjacency[f] ?? []) {
      if (seen[r]) continue;
      seen[r] = true;
      const owner = rowOwner[r] ?? -1;
      if (owner === -1 || augment(owner, seen)) {
        rowOwner[r] = f;
        fillMatch[f] = r;
        return true;
      }
    }
    return false;
  };
  for (let f = 0; f < fills.length; f += 1) {
    // Fast path for twins and the common one-to-one case: a free compatible row needs no search.
    const free = (adjacency[f] ?? []).find((r) => rowOwner[r] === -1);
    if (free !== undefined) {
      rowOwner[free] = f;
      fillMatch[f] = free;
      continue;
    }
    augment(f, new Array<boolean>(rows.length).fill(false));
  }
  return fillMatch;
}

function epochSeconds(timestamp: string): number {
  const ms = Date.parse(timestamp);
  if (Number.isNaN(ms)) {
    throw new InvalidInputError(`held trade row timestamp ${JSON.stringify(timestamp)} is not an ISO-8601 date`, {
      hint: 'Pass the trades table timestamp column as ISO-8601 text',
    });
  }
  return Math.floor(ms / 1000);
}

const describeRow = (row: HeldTrade): string => `held row ${row.trade_id} (${row.side} ${row.size} at ${row.price})`;
const describeFill = (fill: ChainFill): string => `chain log ${fill.logIndex} (${fill.side} ${fill.shares} at ${fill.price})`;

/** Matches and classifies; pure. Throws InvalidInputError for a fill or row of another wallet. */
export function matchFills(input: MatchInput): FillMatchReport {
  const wallet = input.wallet.toLowerCase();
  const tolerance = input.priceTolerance ?? DEFAULT_PRICE_TOLERANCE;
  for (const fill of input.chainFills) {
    if (fill.maker !== wallet) {
      throw new InvalidInputError(`chain fill ${fill.transactionHash}#${fill.logIndex} is of order maker ${fill.maker}, not the audited wallet ${wallet}`, {
        hint: 'The logs were not fetched with the wallet filter (topic 2 = wallet); the provider ignored it',
      });
    }
  }
  for (const row of input.held) {
    if (row.proxy_wallet.toLowerCase() !== wallet) {
      throw new InvalidInputError(`held trade row ${row.trade_id} belongs to wallet ${row.proxy_wallet}, not the audited wallet ${wallet}`);
    }
  }

  const groups = new Map<string, { fills: ChainFill[]; rows: HeldTrade[] }>();
  const groupOf = (key: string) => {
    let group = groups.get(key);
    if (!group) {
      group = { fills: [], rows: [] };
      groups.set(key, group);
    }
    return group;
  };
  const fills = [...input.chainFills].sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
  for (const fill of fills) groupOf(groupKey(fill.transactionHash, fill.tokenId, fill.side)).fills.push(fill);
  for (const row of input.held) groupOf(groupKey(row.transaction_hash, row.asset, row.side)).rows.push(row);

  const compatible = (fill: ChainFill, row: HeldTrade): boolean => sharesAgree(row.size, fill.sharesRaw) && pricesAgree(row.price, fill, tolerance);
  const unmatchedFills: { fill: ChainFill; others: HeldTrade[] }[] = [];
  const unmatchedRows: { row: HeldTrade; others: ChainFill[] }[] = [];
  let matched = 0;
  for (const group of groups.values()) {
    const pairing = maximumMatching(group.fills, group.rows, compatible);
    const usedRows = new Set<number>();
    pairing.forEach((r) => {
      if (r >= 0) usedRows.add(r);
    });
    matched += usedRows.size;
    const leftRows = group.rows.filter((_, r) => !usedRows.has(r));
    const leftFills = group.fills.filter((_, f) => (pairing[f] ?? -1) < 0);
    for (const fill of leftFills) unmatchedFills.push({ fill, others: leftRows });
    for (const row of leftRows) unmatchedRows.push({ row, others: leftFills });
  }

  const undecodableTxs = new Map<string, Undecodable[]>();
  const byReason: Partial<Record<UndecodableReason, number>> = {};
  for (const log of input.undecodable) {
    byReason[log.reason] = (byReason[log.reason] ?? 0) + 1;
    const list = undecodableTxs.get(log.transactionHash) ?? [];
    list.push(log);
    undecodableTxs.set(log.transactionHash, list);
  }

  const mismatches: FillMismatch[] = [];
  let missingFromApi = 0;
  let underMinimum = 0;
  unmatchedFills.sort((a, b) => a.fill.blockNumber - b.fill.blockNumber || a.fill.logIndex - b.fill.logIndex);
  for (const { fill, others } of unmatchedFills) {
    const small = fill.sharesRaw < API_MIN_SHARES_RAW;
    if (small) underMinimum += 1;
    else missingFromApi += 1;
    const near = others.length > 0 ? `; same transaction, token and side as unmatched ${others.slice(0, 3).map(describeRow).join(', ')}` : '';
    mismatches.push({
      kind: small ? 'under-minimum' : 'missing-from-api',
      transactionHash: fill.transactionHash,
      logIndex: fill.logIndex,
      blockNumber: fill.blockNumber,
      exchange: fill.exchange,
      role: fill.role,
      tokenId: fill.tokenId,
      side: fill.side,
      chainShares: fill.shares,
      chainPrice: fill.price,
      tradeId: null,
      heldSize: null,
      heldPrice: null,
      detail: `${describeFill(fill)} as ${fill.role}${small ? ', under the 0.01 shares the Data API serves by default' : ''} has no held row${near}`,
    });
  }

  const position = new Map(input.held.map((row, index) => [row, index]));
  unmatchedRows.sort((a, b) => (position.get(a.row) ?? 0) - (position.get(b.row) ?? 0));
  let heldNotOnChain = 0;
  let heldOutsideRange = 0;
  let heldUnverifiable = 0;
  for (const { row, others } of unmatchedRows) {
    const seconds = epochSeconds(row.timestamp);
    const window = input.window;
    if (window && (seconds < window.fromSeconds || seconds > window.toSeconds)) {
      heldOutsideRange += 1;
      continue;
    }
    const undecoded = undecodableTxs.get(row.transaction_hash.toLowerCase());
    const rowFields = {
      transactionHash: row.transaction_hash.toLowerCase(),
      logIndex: null,
      blockNumber: null,
      exchange: null,
      role: null,
      tokenId: row.asset,
      side: row.side,
      chainShares: null,
      chainPrice: null,
      tradeId: row.trade_id,
      heldSize: row.size,
      heldPrice: row.price,
    };
    if (undecoded) {
      heldUnverifiable += 1;
      const reasons = [...new Set(undecoded.map((log) => log.reason))].join(', ');
      mismatches.push({ ...rowFields, kind: 'held-unverifiable', detail: `${describeRow(row)}: its transaction has ${undecoded.length} undecodable log(s) of the wallet (${reasons})` });
      continue;
    }
    heldNotOnChain += 1;
    const near = others.length > 0 ? `; same transaction, token and side as unmatched ${others.slice(0, 3).map(describeFill).join(', ')}` : '';
    mismatches.push({ ...rowFields, kind: 'held-not-on-chain', detail: `${describeRow(row)} has no OrderFilled log of the wallet${near}` });
  }

  for (const log of input.undecodable) {
    mismatches.push({
      kind: 'undecodable',
      transactionHash: log.transactionHash,
      logIndex: log.logIndex,
      blockNumber: log.blockNumber,
      exchange: log.address,
      role: null,
      tokenId: null,
      side: null,
      chainShares: null,
      chainPrice: null,
      tradeId: null,
      heldSize: null,
      heldPrice: null,
      detail: `${log.reason}: ${log.detail}`,
    });
  }

  return {
    wallet,
    onChain: input.chainFills.length,
    held: input.held.length,
    matched,
    missingFromApi,
    underMinimum,
    heldNotOnChain,
    heldOutsideRange,
    heldUnverifiable,
    undecodable: input.undecodable.length,
    undecodableByReason: byReason,
    complete: missingFromApi === 0 && heldNotOnChain === 0,
    mismatches,
  };
}
