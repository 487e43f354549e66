import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

import { parseWalletAddress } from '../domain/wallet-address.js';

export interface TradersFileResult {
  wallets: string[];
  rejected: { line: number; value: string; reason: string }[];
}

/**
 * One address per line, or a CSV whose header has a `wallet_address` column. Blank lines and `#`
 * comments are skipped; every other line either yields a wallet or a rejection with its line number.
 */
export async function readTradersFile(path: string): Promise<TradersFileResult> {
  const result: TradersFileResult = { wallets: [], rejected: [] };
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let lineNumber = 0;
  let csvColumn: number | undefined;
  for await (const rawLine of lines) {
    lineNumber += 1;
    const line = rawLine.replace(/^\uFEFF/, '');
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    if (lineNumber === 1 && line.includes(',') || (lineNumber === 1 && /wallet_address/i.test(line))) {
      const header = line.split(',').map((h) => h.trim().replace(/^"|"$/g, '').toLowerCase());
      const index = header.indexOf('wallet_address');
      if (index >= 0) {
        csvColumn = index;
        continue;
      }
    }
    const value = csvColumn === undefined ? line : (line.split(',')[csvColumn] ?? '').replace(/^\s*"|"\s*$/g, '');
    const parsed = parseWalletAddress(value);
    if (parsed.ok) result.wallets.push(parsed.wallet);
    else result.rejected.push({ line: lineNumber, value, reason: parsed.reason });
  }
  return result;
}
