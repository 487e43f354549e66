/**
 * Exact amounts for the profit replay. Polymarket's PnL subgraph keeps every amount as an integer of the
 * collateral's 6 decimals (COLLATERAL_SCALE = 10^6, pnl-subgraph/src/constants.ts) and divides with BigInt
 * truncation, so the replay does the same: shares and USDC in micro-units (bigint), prices in micro-USDC per share.
 * The API sends doubles; each is read back to the decimal it was printed from, never multiplied as a double,
 * so 0.07 × 1e6 cannot turn into 69_999.99….
 */
import { InvalidInputError } from '../lib/errors.js';

/** 10^6: one share, one USDC, or a price of 1 USDC per share, in micro-units. */
export const MICRO = 1_000_000n;

/** The subgraph's FIFTY_CENTS (COLLATERAL_SCALE / 2): the price of both halves of a split or a merge. */
export const FIFTY_CENTS = MICRO / 2n;

/** `value` exactly as the decimal its shortest printing shows: `num / 10^scale`. */
export function exactDecimal(value: number): { num: bigint; scale: number } {
  if (!Number.isFinite(value)) {
    throw new InvalidInputError(`${String(value)} is not a finite amount`, { hint: 'Amounts come from validated rows; this one was not validated' });
  }
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:e([-+]\d+))?$/.exec(String(value));
  if (!match) throw new InvalidInputError(`cannot read ${String(value)} as a decimal`, { hint: 'Report this value: the replay expected a plain decimal' });
  const [, sign = '', whole = '0', fraction = '', exponentText = '0'] = match;
  const exponent = Number(exponentText);
  let num = BigInt(`${sign}${whole}${fraction}`);
  let scale = fraction.length - exponent;
  if (scale < 0) {
    num *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { num, scale };
}

/** a / b rounded half away from zero (b > 0). */
export function roundDiv(a: bigint, b: bigint): bigint {
  const half = b / 2n;
  return a >= 0n ? (a + half) / b : -((-a + half) / b);
}

/** `value` in micro-units, rounded half away from zero at the sixth decimal (the on-chain unit). */
export function toMicro(value: number): bigint {
  const { num, scale } = exactDecimal(value);
  return scale <= 6 ? num * 10n ** BigInt(6 - scale) : roundDiv(num, 10n ** BigInt(scale - 6));
}

/**
 * The micro-USDC a fill of `sharesMicro` at `price` moved: shares × price, rounded to the micro-USDC (the chain's
 * unit). The Data API sends the price, not the USDC amount of the `OrderFilled` log; this rebuilds that amount.
 */
export function fillUsdcMicro(sharesMicro: bigint, price: number): bigint {
  const { num, scale } = exactDecimal(price);
  return roundDiv(sharesMicro * num, 10n ** BigInt(scale));
}

/**
 * The price the subgraph gives a fill: `quoteAmount × COLLATERAL_SCALE / baseAmount`, truncated
 * (pnl-subgraph/src/ExchangeMapping.ts, handleOrderFilled).
 */
export function fillPriceMicro(sharesMicro: bigint, price: number): bigint {
  if (sharesMicro <= 0n) return 0n;
  return (fillUsdcMicro(sharesMicro, price) * MICRO) / sharesMicro;
}

/** Micro-units as a number of whole units; exact to the sixth decimal below 9 × 10^9 units. */
export function fromMicro(micro: bigint): number {
  return Number(micro) / 1e6;
}

/**
 * The fee inside a `/v2/activity` TRADE row's `usdc_size` (since mid-2026 the taker fee is part of it): the USDC a
 * BUY paid beyond size × price, or a SELL received short of it, in USDC; 0 when the row shows none. An inference
 * from the fee schedule, not a documented field: `/v2/trades` rows carry no fee at all.
 */
export function feeInsideUsdcSize(row: { side: string; size: number; price: number; usdc_size: number }): number {
  const notional = fillUsdcMicro(toMicro(row.size), row.price);
  const paid = toMicro(row.usdc_size);
  const fee = row.side.toUpperCase() === 'SELL' ? notional - paid : paid - notional;
  // One micro-USDC either way is the rounding of the two amounts, not a fee.
  return fee > 1n ? fromMicro(fee) : 0;
}
