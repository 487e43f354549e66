import { toWallet } from '../src/domain/wallet-address.js';
import type { Wallet } from '../src/domain/wallet-address.js';

/** Test addresses parsed as the product parses them at its boundaries (throws on a malformed one). */
export function asWallets(values: readonly string[]): Wallet[] {
  return values.map((value) => toWallet(value, 'test wallet'));
}

export function asWallet(value: string): Wallet {
  return toWallet(value, 'test wallet');
}
