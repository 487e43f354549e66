/**
 * Normalisation of Data API trade rows into TradeRecord fields. Accepts the three shapes a trade
 * arrives in: v2 snake_case (`/v2/trades`, `/v2/activity`), v1 camelCase `/trades`, and v1 `/activity`
 * rows of type TRADE. Identifying and numeric fields are validated strictly (a bad one fails the wallet
 * with a message naming field, value and tx hash): a value no fill can have (a price outside [0, 1], a
 * size of 0 or of more shares than exist, a fill dated after now, an outcome index outside int32)
 * would otherwise load as a wrong row, or fail the load of the whole batch. Descriptive fields are open
 * strings, because the API keeps adding values and an unexpected label must never stop a backfill.
 */
import { z } from 'zod';
import { isValidWallet } from '../domain/wallet-address.js';
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
const MAX_EPOCH_SECONDS = 1e11;

/**
 * How far past our clock a fill may be dated. A block's time is set by its producer, and neither its
 * clock nor ours is exact (NTP keeps both within seconds); 10 minutes absorbs any sane skew, while a
 * fill dated later cannot have happened yet. Accepting one would also move the wallet's refresh
 * window into the future.
 */
export const MAX_CLOCK_SKEW_SECONDS = 600;

/** The on-chain unit of an outcome token (and of USDC): 6 decimals. No fill is smaller. */
export const MIN_FILL_SHARES = 0.000001;

/**
 * More shares than one fill can hold: every share is backed by 1 USDC of collateral, and all the
 * USDC in existence (under 10^11) could not back more.
 */
export const MAX_FILL_SHARES = 1e11;

/** The smallest non-zero price a fill can have: one USDC unit (10^-6) paid for the largest fill (10^11 shares). */
export const MIN_NONZERO_PRICE = 1e-17;

/** The range of `outcome_index` the API declares (int32); the column is INT64, so every such value fits. */
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

const rowSchema = z.record(z.string(), z.unknown());

// The one wallet rule (domain/wallet-address.ts), kept strict here: an API row's wallet carries no whitespace.
export const walletSchema = z
  .string()
  .refine((value) => value.trim() === value && isValidWallet(value.toLowerCase()), 'expected 0x followed by 40 hex digits')
  .transform((value) => value.toLowerCase());

// Any length: combo condition ids are 62 hex digits, and documented examples are truncated.
export const hexIdSchema = z
  .string()
  .regex(/^0x[0-9a-fA-F]+$/, 'expected 0x followed by hex digits')
  .transform((value) => value.toLowerCase());

// A number here would already have lost precision (token ids are uint256), so only strings are accepted.
export const assetSchema = z.string('expected a string token id').regex(/^\S+$/, 'expected a non-empty token id');

// "Infinity" is accepted here only to be refused by the range checks under its own name.
const NUMERIC_STRING = /^[-+]?\d+(\.\d+)?([eE][-+]?\d+)?$|^[-+]?Infinity$/;

/** A number, or a numeric string (the API sends some numbers quoted); undefined for anything else. */
function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isNaN(value) ? undefined : value;
  if (typeof value === 'string' && NUMERIC_STRING.test(value)) return Number(value);
  return undefined;
}

/** A parsed number as a message shows it: `Infinity` and `1e+308` by name, never JSON's `null`. */
const shown = (n: number): string => String(n);

/**
 * A numeric field: `expected` when the value is not a number, else the first problem `check` finds
 * with the parsed number (a message naming it), else the number.
 */
function numberSchema(expected: string, check: (n: number) => string | undefined): z.ZodType<number> {
  return z.unknown().transform((value, ctx) => {
    const n = asNumber(value);
    const problem = n === undefined ? expected : check(n);
    if (problem === undefined) return n!;
    ctx.issues.push({ code: 'custom', message: problem, input: value });
    return z.NEVER;
  });
}

const priceSchema = numberSchema('expected a number', (n) => {
  if (!(n >= 0 && n <= 1)) return `${shown(n)} is not a price: a price lies in [0, 1] USDC per share`;
  if (n > 0 && n < MIN_NONZERO_PRICE) {
    return `${shown(n)} is below the smallest possible non-zero price ${shown(MIN_NONZERO_PRICE)} (one USDC unit for ${shown(MAX_FILL_SHARES)} shares)`;
  }
  return undefined;
});

// A zero-size row is not a fill (the v1 /activity REDEEM rows have size 0; they are not trades).
const sizeSchema = numberSchema('expected a number', (n) => {
  if (!(n >= MIN_FILL_SHARES)) return `${shown(n)} is not a fill size: a fill has at least ${shown(MIN_FILL_SHARES)} shares (one on-chain unit)`;
  if (!(n <= MAX_FILL_SHARES)) return `${shown(n)} shares is more than one fill can hold (at most ${shown(MAX_FILL_SHARES)}, more than all USDC could back)`;
  return undefined;
});

export const timestampSchema = numberSchema('expected epoch seconds', (n) => {
  if (!Number.isInteger(n)) return Number.isFinite(n) ? 'expected whole epoch seconds' : `${shown(n)} is not epoch seconds`;
  if (n <= 0) return 'expected epoch seconds > 0';
  if (n > MAX_EPOCH_SECONDS) return 'looks like epoch milliseconds; the Data API sends epoch seconds';
  return undefined;
});

const outcomeIndexSchema = numberSchema('expected a whole number', (n) =>
  Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX ? undefined : `${shown(n)} is not a whole number in the int32 range the API declares`,
);

/** A non-negative amount (activity sizes and USDC amounts), refused by name when it is not one. */
export const nonNegativeSchema = numberSchema('expected a number', (n) => (n >= 0 && Number.isFinite(n) ? undefined : `${shown(n)} is not a non-negative finite number`));

/** An outcome index that may be absent (null, missing or ""), else a whole number in int32. */
export const optionalOutcomeIndexSchema: z.ZodType<number | null> = z.union([z.null(), z.undefined(), z.literal('')]).transform(() => null).or(outcomeIndexSchema);

export interface NormalizeOptions {
  /** The clock, epoch milliseconds: rows dated after it plus MAX_CLOCK_SKEW_SECONDS are refused. Default: now. */
  nowMs?: number;
}

export function pick(row: Record<string, unknown>, keys: readonly string[]): unknown {
  for (const key of keys) {
    const value = row[key];
    if (value !== undefined && value !== null) return value;
  }
  return undefined;
}

export function preview(value: unknown): string {
  if (value === undefined) return 'nothing (field missing)';
  // JSON.stringify writes Infinity and NaN as null, which would name the wrong value.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 90 ? `${text.slice(0, 90)}…` : text;
}

export function openString(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * One Data API trade row as TradeRecord fields (without `trade_id`/`fill_seq`).
 * Throws InvalidInputError for a missing or invalid identifying field, a value no fill can have, a
 * row of another wallet, millisecond timestamps or a fill dated in the future, and NonTradeRowError
 * for activity rows that are not trades.
 */
export function normalizeTradeRow(raw: unknown, expectedWallet: string, options: NormalizeOptions = {}): NormalizedTradeRow {
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

  const invalid = (name: string, reason: string, value: unknown): InvalidInputError =>
    new InvalidInputError(`trade row of tx ${txLabel}: field "${name}" is invalid (${reason}): got ${preview(value)}`, {
      hint: 'The wallet is failed and retried later; if it repeats, the Data API changed shape or serves a corrupt row: report it with the tx hash',
    });
  const field = <T>(name: string, keys: readonly string[], schema: z.ZodType<T>): T => {
    const value = pick(row, keys);
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    throw invalid(name, value === undefined ? 'required field missing' : (result.error.issues[0]?.message ?? 'invalid'), value);
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
  const price = field('price', ['price'], priceSchema);
  const size = field('size', ['size'], sizeSchema);
  const epochSeconds = field('timestamp', ['timestamp'], timestampSchema);
  const nowSeconds = Math.floor((options.nowMs ?? Date.now()) / 1000);
  if (epochSeconds > nowSeconds + MAX_CLOCK_SKEW_SECONDS) {
    throw invalid(
      'timestamp',
      `dated ${isoSeconds(epochSeconds)}, after now (${isoSeconds(nowSeconds)}) plus the ${MAX_CLOCK_SKEW_SECONDS / 60}-minute clock-skew margin: no fill can be dated in the future`,
      pick(row, ['timestamp']),
    );
  }
  // Absent, null or "" is no index (null); anything else must be one.
  const outcomeIndexRaw = pick(row, ['outcome_index', 'outcomeIndex']);
  const outcomeIndex = outcomeIndexRaw === undefined || outcomeIndexRaw === '' ? null : field('outcome_index', ['outcome_index', 'outcomeIndex'], outcomeIndexSchema);

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
    outcome_index: outcomeIndex,
    transaction_hash: transactionHash,
    raw: JSON.stringify(raw),
  };
}

function isoSeconds(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z');
}

/** Epoch seconds of a normalised row (its ISO timestamp has whole seconds). */
export function epochSecondsOf(row: Pick<NormalizedTradeRow, 'timestamp'>): number {
  return Date.parse(row.timestamp) / 1000;
}
