import { createReadStream } from 'node:fs';

import { parse } from 'csv-parse';

import { parseWalletAddress } from '../domain/wallet-address.js';
import type { Wallet } from '../domain/wallet-address.js';
import { ConfigError } from '../lib/errors.js';

export interface RejectedLine {
  line: number;
  value: string;
  reason: string;
}

export interface TradersBatch {
  wallets: Wallet[];
  rejected: RejectedLine[];
}

const BATCH = 10_000;

/**
 * A wallet list, streamed in batches so a million lines never sit in memory: one address per line,
 * or an RFC 4180 CSV whose header has a `wallet_address` column (quoted fields, commas and line
 * breaks inside quotes, a BOM). Blank lines and lines starting with `#` are skipped; every other
 * record yields a wallet or a rejection with its line number.
 */
export async function* readTradersFile(path: string): AsyncGenerator<TradersBatch> {
  const parser = parse({
      bom: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      comment: '#',
      comment_no_infix: true,
      info: true,
  });
  // .pipe() does not forward a read error (a missing file) to the parser: hand it over explicitly.
  createReadStream(path)
    .on('error', (error) => parser.destroy(error))
    .pipe(parser);
  let column: number | undefined;
  let first = true;
  let batch: TradersBatch = { wallets: [], rejected: [] };
  try {
    for await (const entry of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const { record, info } = entry;
      if (first) {
        first = false;
        const header = record.map((h) => h.trim().toLowerCase());
        const index = header.indexOf('wallet_address');
        if (index >= 0) {
          column = index;
          continue;
        }
        if (record.length > 1) {
          throw new ConfigError(`${path}: the first line has ${record.length} columns but none is named wallet_address`, {
            hint: 'Give one address per line, or a CSV whose header names the wallet_address column; nothing was imported',
          });
        }
      }
      const value = record[column ?? 0] ?? '';
      if (value.trim() === '' && record.every((field) => field.trim() === '')) continue;
      const parsed = parseWalletAddress(value);
      if (parsed.ok) batch.wallets.push(parsed.wallet);
      else batch.rejected.push({ line: info.lines, value, reason: parsed.reason });
      if (batch.wallets.length + batch.rejected.length >= BATCH) {
        yield batch;
        batch = { wallets: [], rejected: [] };
      }
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const e = error as { code?: string; lines?: number; message?: string };
    if (e.code?.startsWith('CSV_')) {
      throw new ConfigError(`${path}:${e.lines ?? '?'}: not readable as CSV: ${e.message ?? String(error)}`, { cause: error, hint: 'Fix the line and import again; nothing after it was imported' });
    }
    throw new ConfigError(`cannot read ${path}: ${e.message ?? String(error)}`, { cause: error, hint: 'Check the path and its permissions' });
  }
  if (batch.wallets.length + batch.rejected.length > 0) yield batch;
}
