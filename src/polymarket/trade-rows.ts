/**
 * Normalisation of Data API trade rows into TradeRecord fields. Accepts the three shapes a trade
 * arrives in: v2 snake_case (`/v2/trades`, `/v2/activity`), v1 camelCase `/trades`, and v1 `/activity`
 * rows of type TRADE. Identifying fields are validated strictly (a bad one fails the wallet with a
 * message naming field, value and tx hash); descriptive fields are open strings, because the API keeps
 * adding values and an unexpected label must never stop a backfill.
 */
import { z } from 'zod';
import { InvalidInputError } from '../lib/errors.js';
import type { TradeRecord } from './records.js';

/** A trade row's fields before keying: everything but `trade_id` and `fill_seq`. */
export type NormalizedTradeRow = Omit<TradeRecord, 'trade_id' | 'fill_seq'>;

/** An activity row that is not a trade (REDEEM, SPLIT, MERGE, REWARD…): never loaded as a fill. */
export class NonTradeRowError extends InvalidInputError {
  constructor(
    message: string,
    readonly activityType: string,
  ) {
    super(message, { hint: 'Only TRADE rows are fills; fetch /v2/trades, or /activity with type=TRADE' });
  }
}

/** Epoch seconds above this are milliseconds (1e11 s is the year 5138). */
export const MAX_EPOCH_SECONDS = 1e11;

const rowSchema = z.record(z.string(), z.unknown());

export const walletSchema = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'expected 0x followed by 40 hex digits')
  .transform((value) => value.toLowerCase());

// Any length: combo condition ids are 62 hex digits, and documented examples are truncated.
export const hexIdSchema = z
  .string()
  .regex(/^0x[0-9a-fA-F]+$/, 'expected 0x followed by hex digits')
  .transform((value) => value.toLowerCase());

// A number here would already have lost precision (token ids are uint256), so only strings are accepted.
export const assetSchema = z.string('expected a string token id').regex(/^\S+$/, 'expected a non-empty token id');

const numericString = z
  .string()
  .regex(/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/, 'expected a number')
  .transform(Number);

export const nonNegativeSchema = z.union([z.number(), numericString], 'expected a number').pipe(
  z.number().nonnegative('expected a number >= 0'),
);

export const timestampSchema = z
  .union([z.number(), numericString], 'expected epoch seconds')
  .pipe(
    z
      .number()
      .int('expected whole epoch seconds')
      .positive('expected epoch seconds > 0')
      .max(MAX_EPOCH_SECONDS, 'looks like epoch milliseconds; the Data API sends epoch seconds'),
  );

export function pick(row: Record<string, unknown>, keys: readonly string[]): unknown {
  for (const key of keys) {
    const value = row[key];
    if (value !== undefined && value !== null) return value;
  }
  return undefined;
}

export function preview(value: unknown): string {
  if (value === undefined) return 'nothing (field missing)';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 90 ? `${text.slice(0, 90)}…` : text;
}

export function openString(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function optionalInt(value: unknown): number | null {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isInteger(number) ? number : null;
}

/**
 * One Data API trade row as TradeRecord fields (without `trade_id`/`fill_seq`).
 * Throws InvalidInputError for a missing or invalid identifying field, a row of another wallet,
 * or millisecond timestamps, and NonTradeRowError for activity rows that are not trades.
 */
export function normalizeTradeRow(raw: unknown, expectedWallet: string): NormalizedTradeRow {
  const parsedRow = rowSchema.safeParse(raw);
  if (!parsedRow.success) {
    throw new InvalidInputError(`trade row is not a JSON object: got ${preview(raw)}`, {
      hint: 'The Data API response changed shape; report it',
    });
  }
  const row = parsedRow.data;
  const txRaw = pick(row, ['transaction_hash', 'transactionHash']);
  const txLabel = typeof txRaw === 'string' && txRaw !== '' ? txRaw : '(no tx hash)';

  const type = pick(row, ['type']);
  if (type !== undefined && String(type).toUpperCase() !== 'TRADE') {
    throw new NonTradeRowError(
      `activity row of type ${preview(type)} in tx ${txLabel} is not a trade and cannot be stored as a fill`,
      String(type),
    );
  }

  const field = <T>(name: string, keys: readonly string[], schema: z.ZodType<T>): T => {
    const value = pick(row, keys);
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    const reason = value === undefined ? 'required field missing' : (result.error.issues[0]?.message ?? 'invalid');
    throw new InvalidInputError(
      `trade row of tx ${txLabel}: field "${name}" is invalid (${reason}): got ${preview(value)}`,
      { hint: 'The wallet is failed and retried later; if it repeats, the Data API changed shape' },
    );
  };

  const proxyWallet = field('proxy_wallet', ['proxy_wallet', 'proxyWallet'], walletSchema);
  const expected = expectedWallet.toLowerCase();
  if (proxyWallet !== expected) {
    throw new InvalidInputError(
      `trade row of tx ${txLabel} belongs to wallet ${proxyWallet}, not the requested ${expected}`,
      { hint: 'The API ignored the user filter; the wallet is failed rather than storing foreign trades' },
    );
  }
  const transactionHash = field('transaction_hash', ['transaction_hash', 'transactionHash'], hexIdSchema);
  const asset = field('asset', ['token_id', 'asset'], assetSchema);
  const conditionId = field('condition_id', ['condition_id', 'conditionId'], hexIdSchema);
  const price = field('price', ['price'], nonNegativeSchema);
  const size = field('size', ['size'], nonNegativeSchema);
  const epochSeconds = field('timestamp', ['timestamp'], timestampSchema);

  return {
    proxy_wallet: proxyWallet,
    side: openString(pick(row, ['side'])),
    asset,
    condition_id: conditionId,
    size,
    price,
    timestamp: new Date(epochSeconds * 1000).toISOString(),
    title: openString(pick(row, ['title'])),
    slug: openString(pick(row, ['slug'])),
    event_slug: openString(pick(row, ['event_slug', 'eventSlug'])),
    outcome: openString(pick(row, ['outcome'])),
    outcome_index: optionalInt(pick(row, ['outcome_index', 'outcomeIndex'])),
    transaction_hash: transactionHash,
    raw: JSON.stringify(raw),
  };
}

/** Epoch seconds of a normalised row (its ISO timestamp has whole seconds). */
export function epochSecondsOf(row: Pick<NormalizedTradeRow, 'timestamp'>): number {
  return Date.parse(row.timestamp) / 1000;
}
