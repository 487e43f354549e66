/**
 * Our trade key. The Data API has no trade id, and one transaction can hold several rows of one
 * wallet that are identical in every field yet are separate on-chain fills. So the key is a digest
 * of the fill's identifying fields plus `fill_seq`, the row's position among its identical twins.
 *
 * One definition of "identical fill" serves the key and the numbering: the key's fields (wallet,
 * tx, asset, side, price, size), the timestamp not among them. Every row of a transaction carries
 * its block's time, so twins always share a timestamp, and `fill_seq` is counted within one
 * timestamp's rows: memory stays flat for a 20M-fill wallet and a refresh window (whole seconds)
 * numbers twins as the full walk does. A row identical to one under another timestamp is
 * therefore malformed data that no numbering could key correctly (both would get one key and one
 * would be lost), and it is refused, failing the wallet with both timestamps named:
 * - at fetch, by the sequencer, when the earlier row is among the last RECENT_FILLS_REMEMBERED fills
 *   (a bounded window of about 2 MB: a server that mis-stamps a row does so nearby);
 * - at load, for any distance: the warehouse counts a staged file's distinct keys (a sort that
 *   spills to disk) and refuses a file whose rows repeat one, before its MERGE.
 * Counting twins across timestamps instead would need every key of the wallet in memory, and would
 * still key malformed rows as two fills.
 */
import { createHash } from 'node:crypto';
import { InvalidInputError } from '../lib/errors.js';

/** The fields a trade id is computed from. */
export interface TradeKeyFields {
  proxy_wallet: string;
  transaction_hash: string;
  asset: string;
  side: string;
  price: number;
  size: number;
  fill_seq: number;
}

/**
 * sha256 over a JSON array of the key fields (wallet and tx hash lower-cased, numbers as
 * `String(number)`), hex, first 32 characters (128 bits). The JSON array makes the encoding
 * unambiguous: no separator inside a value can shift a field boundary.
 */
export function tradeId(fields: TradeKeyFields): string {
  const encoded = JSON.stringify([
    fields.proxy_wallet.toLowerCase(),
    fields.transaction_hash.toLowerCase(),
    fields.asset,
    fields.side,
    String(fields.price),
    String(fields.size),
    String(fields.fill_seq),
  ]);
  return createHash('sha256').update(encoded).digest('hex').slice(0, 32);
}

/** What the sequencer needs of a row. `timestamp` is epoch seconds. */
export interface SequencedRow {
  transaction_hash: string;
  asset: string;
  side: string;
  price: number;
  size: number;
  timestamp: number;
}

/** A wallet's rows did not arrive in the feed's order, so a twin sequence number could not be assigned safely. */
export class OutOfOrderError extends InvalidInputError {}

/** The order a feed is walked in: `/v2/trades` newest first, `/v2/activity?sort_direction=ASC` oldest first. */
export type FeedOrder = 'newest-first' | 'oldest-first';

/**
 * Numbers identical rows along one wallet's activity stream, in either order (the trades walk has
 * FillSequencer below, which also refuses a fill repeated under another timestamp). Every row of a transaction carries the same
 * block timestamp, so identical twins always fall in the current timestamp's group: counters are kept for that
 * group only and memory stays flat however long the history. Identical twins are indistinguishable, so whichever
 * order the API serves them in, the set of keys is the same.
 */
export class TwinSequencer {
  readonly #order: FeedOrder;
  readonly #rowsName: string;
  #timestamp: number | undefined;
  #counters = new Map<string, number>();
  #rows = 0;

  /** `rowsName` names the rows in the out-of-order message, e.g. `trade rows`. */
  constructor(order: FeedOrder, rowsName: string) {
    this.#order = order;
    this.#rowsName = rowsName;
  }

  /**
   * The sequence number of a row with this `identity` (the fields that make two rows twins, tx hash included);
   * throws OutOfOrderError when the row goes against the feed's order.
   */
  next(timestamp: number, transactionHash: string, identity: string): number {
    const forward = this.#order === 'newest-first' ? timestamp < (this.#timestamp ?? 0) : timestamp > (this.#timestamp ?? 0);
    if (this.#timestamp === undefined || forward) {
      this.#timestamp = timestamp;
      this.#counters = new Map();
    } else if (timestamp !== this.#timestamp) {
      // A row against the order means the transaction's twins may be split around it; numbering them now could
      // give two real rows the same key, so the wallet fails and is fetched again.
      const relation = this.#order === 'newest-first' ? 'newer' : 'older';
      const expected = this.#order === 'newest-first' ? 'newest first' : 'oldest first';
      throw new OutOfOrderError(
        `${this.#rowsName} out of order: row ${this.#rows + 1} (tx ${transactionHash}) has timestamp ${timestamp}, ` +
          `${relation} than ${this.#timestamp} already seen; the Data API should serve ${expected}`,
        { hint: 'The wallet is failed so it is fetched again from the start; report it if it repeats' },
      );
    }
    this.#rows += 1;
    const seq = this.#counters.get(identity) ?? 0;
    this.#counters.set(identity, seq + 1);
    return seq;
  }
}

/** A row identical to an earlier one (the key's fields) but under another timestamp: it cannot be keyed. */
export class TwinAcrossTimestampsError extends InvalidInputError {}

/** Distinct fills of earlier timestamps whose identity the sequencer remembers (about 200 bytes each, 2 MB in all). */
export const RECENT_FILLS_REMEMBERED = 10_000;

/** A row's identity for numbering: the key's fields but the wallet (one sequencer walks one wallet). */
function identityOf(row: SequencedRow): string {
  return JSON.stringify([row.transaction_hash.toLowerCase(), row.asset, row.side, String(row.price), String(row.size)]);
}

/**
 * Assigns `fill_seq` along one wallet's newest-first stream: counters are kept for the current
 * timestamp's rows only (see the module comment), and the identities of the last
 * RECENT_FILLS_REMEMBERED distinct fills before it are kept to refuse a twin under another timestamp.
 * Identical twins are indistinguishable, so whichever order the API serves them in, the set of ids
 * is the same.
 */
export class FillSequencer {
  #timestamp: number | undefined;
  #counters = new Map<string, number>();
  /** Identity → timestamp of rows of earlier timestamps, oldest first. */
  #recent = new Map<string, number>();
  #rows = 0;

  constructor(private readonly remembered = RECENT_FILLS_REMEMBERED) {}

  /**
   * The `fill_seq` of `row`; throws OutOfOrderError when a row is newer than one already seen and
   * TwinAcrossTimestampsError when a remembered row of another timestamp is identical to it.
   */
  next(row: SequencedRow): number {
    if (this.#timestamp === undefined || row.timestamp < this.#timestamp) {
      this.#remember();
      this.#timestamp = row.timestamp;
      this.#counters = new Map();
    } else if (row.timestamp > this.#timestamp) {
      // A newer row after older ones means the transaction's twins may be split around it; numbering
      // them now could give two real fills the same key, so the wallet fails and is fetched again.
      throw new OutOfOrderError(
        `trade rows out of order: row ${this.#rows + 1} (tx ${row.transaction_hash}) has timestamp ${row.timestamp}, ` +
          `newer than ${this.#timestamp} already seen; the Data API should serve newest first`,
        { hint: 'The wallet is failed so it is fetched again from the start; report it if it repeats' },
      );
    }
    this.#rows += 1;
    const key = identityOf(row);
    const earlier = this.#recent.get(key);
    if (earlier !== undefined) {
      throw new TwinAcrossTimestampsError(
        `trade row ${this.#rows} (tx ${row.transaction_hash}, asset ${row.asset}, ${row.side || '(no side)'} ${row.size} at ${row.price}) ` +
          `has timestamp ${row.timestamp}, but an identical row came with timestamp ${earlier}; every row of one transaction ` +
          'carries its block time, so one of them is wrong and the two cannot be keyed as distinct fills',
        { hint: 'The wallet is failed and retried by the next run; if it repeats, the Data API serves malformed rows: report it with the tx hash' },
      );
    }
    const seq = this.#counters.get(key) ?? 0;
    this.#counters.set(key, seq + 1);
    return seq;
  }

  /** Moves the finished timestamp's identities into the window, dropping the oldest beyond its size. */
  #remember(): void {
    if (this.#timestamp === undefined) return;
    for (const key of this.#counters.keys()) this.#recent.set(key, this.#timestamp);
    for (const key of this.#recent.keys()) {
      if (this.#recent.size <= this.remembered) break;
      this.#recent.delete(key);
    }
  }
}

/**
 * Assigns `fill_seq` along the global feed (`/v2/trades` without `user`), where every wallet's rows come merged in
 * one newest-first stream. `fill_seq` is a row's position among its identical twins of one wallet within one
 * timestamp, so counting per (wallet, identity) inside the current timestamp gives each row the number the
 * wallet's own walk gives it: the feed serves the wallet's rows of a timestamp in the same (sequence) order, and
 * twins are indistinguishable anyway, so only their count matters. Two conditions make the keys equal, and the
 * feed walk (global-feed.ts) keeps both: the walk must see each timestamp's rows whole (it stops only below its
 * anchor time, and resumes from the start of a timestamp, never inside one), and it must ask with the same
 * filters as the wallet walk (`taker_only=false`, the same `filter_amount`). Memory is one timestamp's rows.
 *
 * Unlike FillSequencer it does not refuse a twin under another timestamp: that takes a window of identities per
 * wallet, which a million wallets cannot afford; the warehouse's distinct-key check on every staged file still does.
 */
export class FeedFillSequencer {
  #timestamp: number | undefined;
  #counters = new Map<string, number>();
  #rows = 0;

  /** The `fill_seq` of `row` of `wallet` (lower-case); throws OutOfOrderError when the row is newer than one already seen. */
  next(wallet: string, row: SequencedRow): number {
    if (this.#timestamp === undefined || row.timestamp < this.#timestamp) {
      this.#timestamp = row.timestamp;
      this.#counters = new Map();
    } else if (row.timestamp > this.#timestamp) {
      throw new OutOfOrderError(
        `global feed rows out of order: row ${this.#rows + 1} (wallet ${wallet}, tx ${row.transaction_hash}) has timestamp ${row.timestamp}, ` +
          `newer than ${this.#timestamp} already seen; the Data API should serve newest first`,
        { hint: 'The feed walk stops; its committed pages stand, and the next walk resumes from the last checkpoint. Report it if it repeats' },
      );
    }
    this.#rows += 1;
    const key = `${wallet}\n${identityOf(row)}`;
    const seq = this.#counters.get(key) ?? 0;
    this.#counters.set(key, seq + 1);
    return seq;
  }
}
