/**
 * A Polymarket proxy wallet as the Data API expects it: 0x + 40 hex digits, lower-cased. This is
 * the one definition of a valid wallet: the parsers below — used at every boundary a wallet comes
 * in through (the CLI, a traders file, a library caller, an API row, the leaderboard) — and every
 * backend's SQL (src/warehouse/sql/wallet-sql.ts) are built from these constants, so they cannot
 * disagree. Only the simulator keeps its own check: it plays the API, and must not share our
 * assumptions.
 */
import { InvalidInputError } from '../lib/errors.js';

declare const WALLET_BRAND: unique symbol;

/** A wallet that went through parseWalletAddress: inner layers take it as given and check nothing. */
export type Wallet = string & { readonly [WALLET_BRAND]: true };

/** The normalised form, as a regular expression both JavaScript and RE2 (BigQuery) read alike. */
export const WALLET_PATTERN = '^0x[0-9a-f]{40}$';

/**
 * Characters stripped around a value before it is checked: spaces, tabs and line breaks, which
 * hand-edited lists and CSV exports carry. Nothing else is forgiven.
 */
export const WALLET_TRIM_CHARS = ' \t\n\r';

const WALLET = new RegExp(WALLET_PATTERN);
const TRIM = new RegExp(`^[${escapeClass(WALLET_TRIM_CHARS)}]+|[${escapeClass(WALLET_TRIM_CHARS)}]+$`, 'g');

export type WalletParse = { ok: true; wallet: Wallet } | { ok: false; reason: string };

/** Trimmed of WALLET_TRIM_CHARS and lower-cased; not validated. */
export function normalizeWallet(value: string): string {
  return value.replace(TRIM, '').toLowerCase();
}

export function isValidWallet(value: string): boolean {
  return WALLET.test(value);
}

/** Trims and lower-cases; anything else about the value must already be right. */
export function parseWalletAddress(value: unknown): WalletParse {
  if (typeof value !== 'string') return { ok: false, reason: `not a string: ${String(value)}` };
  const wallet = normalizeWallet(value);
  if (WALLET.test(wallet)) return { ok: true, wallet: wallet as Wallet };
  return { ok: false, reason: `invalid wallet address ${shown(value)}: expected 0x followed by 40 hex digits` };
}

/** The parsed wallet, or an InvalidInputError naming the value (and `what` it was, e.g. "trade row field proxy_wallet"). */
export function toWallet(value: unknown, what = 'wallet'): Wallet {
  const parsed = parseWalletAddress(value);
  if (parsed.ok) return parsed.wallet;
  throw new InvalidInputError(`${what}: ${parsed.reason}`, { hint: 'Pass the proxy wallet shown on the Polymarket profile, not a name' });
}

/** The error recorded for a malformed `traders.wallet_address` value (the same text on every backend). */
export function describeInvalidTrader(value: string): string {
  return `invalid wallet address ${shown(value)} in traders: expected 0x followed by 40 hex digits; fix or delete the row, it is not sent to the API`;
}

function shown(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

function escapeClass(chars: string): string {
  return chars.replace(/[\\\]^-]/g, '\\$&');
}
