/**
 * The chain facts the rest of the product reads without decoding anything: where an audit starts, how deep a block
 * must be, how raw amounts scale. Kept apart from exchanges.ts and order-filled.ts, which build their event ABIs
 * with viem when loaded: every command imports these, and viem's ~400 modules cost each CLI start about half a
 * second that only `backfill audit` needs.
 */

/** CTF Exchange v1 deployment: the first block any OrderFilled can be in, hence where a full audit starts. */
export const CTF_EXCHANGE_V1_START_BLOCK = 33_605_403;

/** CTFExchangeV2 deployment (2026-03-31; trading moved to V2 at the cutover of 2026-04-28 11:00 UTC). */
export const CTF_EXCHANGE_V2_START_BLOCK = 84_902_353;

/** Where a full audit starts: the first exchange's deployment. */
export const AUDIT_START_BLOCK = CTF_EXCHANGE_V1_START_BLOCK;

/** Blocks below the head an audit leaves alone, as a reorg margin. */
export const DEFAULT_CONFIRMATIONS = 64;

/** Raw amounts per whole unit: outcome tokens and USDC both have 6 decimals. */
export const AMOUNT_SCALE = 1_000_000;

/** `raw` / 10^6 as a number; exact to the last digit for any amount under 9 × 10^9 units. */
export function fromRaw(raw: bigint): number {
  return Number(raw) / AMOUNT_SCALE;
}
