/** A Polymarket proxy wallet as the Data API expects it: 0x + 40 hex digits, any case on input. */
const WALLET = /^0x[0-9a-f]{40}$/;

export type WalletParse = { ok: true; wallet: string } | { ok: false; reason: string };

/** Trims and lower-cases; anything else about the value must already be right. */
export function parseWalletAddress(value: unknown): WalletParse {
  if (typeof value !== 'string') return { ok: false, reason: `not a string: ${String(value)}` };
  const wallet = value.trim().toLowerCase();
  if (WALLET.test(wallet)) return { ok: true, wallet };
  const shown = JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  return { ok: false, reason: `invalid wallet address ${shown}: expected 0x followed by 40 hex digits` };
}
