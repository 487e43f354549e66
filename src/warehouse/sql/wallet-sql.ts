import { WALLET_PATTERN, WALLET_TRIM_CHARS } from '../../domain/wallet-address.js';
import type { Dialect } from './dialect.js';

/** `traders.wallet_address` as the planner reads it: the SQL twin of `normalizeWallet`. */
export function normalizedWallet(d: Dialect, column: string): string {
  return `LOWER(${d.trim(column, WALLET_TRIM_CHARS)})`;
}

/** True for a value that normalises to a valid wallet: the SQL twin of `parseWalletAddress`. */
export function isValidWallet(d: Dialect, column: string): string {
  return d.matches(normalizedWallet(d, column), WALLET_PATTERN);
}

/** The distinct valid wallets of `traders`, normalised, in column `wallet`: what is to be done. */
export function validWalletsSql(d: Dialect): string {
  return `SELECT DISTINCT ${normalizedWallet(d, 'wallet_address')} AS wallet FROM ${d.table('traders')}
  WHERE wallet_address IS NOT NULL AND ${isValidWallet(d, 'wallet_address')}`;
}
