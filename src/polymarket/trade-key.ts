/**
 * Our trade key. The Data API has no trade id, and one transaction can hold several rows of one
 * wallet that are identical in every field yet are separate on-chain fills. So the key is a digest
 * of the fill's identifying fields plus `fill_seq`, the row's position among its identical twins.
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
 * Numbers identical rows along one wallet's stream, in either order. Every row of a transaction carries the same
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

/** Assigns `fill_seq` along one wallet's newest-first `/v2/trades` stream (see TwinSequencer). */
export class FillSequencer {
  readonly #twins = new TwinSequencer('newest-first', 'trade rows');

  /** The `fill_seq` of `row`; throws OutOfOrderError when a row is newer than one already seen. */
  next(row: SequencedRow): number {
    const identity = JSON.stringify([
      row.transaction_hash.toLowerCase(),
      row.asset,
      row.side,
      String(row.price),
      String(row.size),
    ]);
    return this.#twins.next(row.timestamp, row.transaction_hash, identity);
  }
}
