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

/** A wallet's rows did not arrive newest first, so `fill_seq` could not be assigned safely. */
export class OutOfOrderError extends InvalidInputError {}

/**
 * Assigns `fill_seq` along one wallet's newest-first stream. Every row of a transaction carries the
 * same block timestamp, so identical twins always fall in the current timestamp's group: counters
 * are kept for that group only and memory stays flat however long the history. Identical twins are
 * indistinguishable, so whichever order the API serves them in, the set of ids is the same.
 */
export class FillSequencer {
  #timestamp: number | undefined;
  #counters = new Map<string, number>();
  #rows = 0;

  /** The `fill_seq` of `row`; throws OutOfOrderError when a row is newer than one already seen. */
  next(row: SequencedRow): number {
    if (this.#timestamp === undefined || row.timestamp < this.#timestamp) {
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
    const key = JSON.stringify([
      row.transaction_hash.toLowerCase(),
      row.asset,
      row.side,
      String(row.price),
      String(row.size),
    ]);
    const seq = this.#counters.get(key) ?? 0;
    this.#counters.set(key, seq + 1);
    return seq;
  }
}
