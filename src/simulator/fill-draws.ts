/** Draws shared by the generated history and the fills `advance` appends, so both look alike. */
import type { Rng } from './prng.js';

/** Row flags, one byte per fill. */
export const FLAG_TAKER = 1;
export const FLAG_OUTCOME_999 = 2;
export const FLAG_NO_EVENT_SLUG = 4;

/** Prices: mostly cents, some tenths of a cent, a few off-tick values like 0.0800000037. */
export function drawPrice(rng: Rng): number {
  const u = rng.next();
  if (u < 0.005) {
    const cents = rng.int(1, 99);
    return Number((cents / 100 + rng.int(1, 99) / 1e10).toFixed(10));
  }
  if (u < 0.25) return rng.int(1, 999) / 1000;
  return rng.int(1, 99) / 100;
}

/** Share sizes with up to 6 decimals; about 1% are dust under 0.01 shares (hidden by the API's default filter). */
export function drawSize(rng: Rng): number {
  const raw = rng.logUniform(1, 20_000);
  const u = rng.next();
  if (u < 0.01) return rng.int(1, 9) / 1000;
  if (u < 0.2) return Math.max(1, Math.round(raw));
  if (u < 0.6) return Math.max(1, Math.round(raw * 100)) / 100;
  return Math.max(1, Math.round(raw * 1e6)) / 1e6;
}

/** Taker flag plus the rarer row quirks: outcome_index 999 and an empty event_slug. */
export function drawFlags(rng: Rng, taker: boolean): number {
  return (taker ? FLAG_TAKER : 0) | (rng.chance(0.02) ? FLAG_OUTCOME_999 : 0) | (rng.chance(0.03) ? FLAG_NO_EVENT_SLUG : 0);
}
