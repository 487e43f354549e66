/**
 * Normalisation and keys of Data API v2 activity rows (`/v2/activity`, `/v2/activity/combos`), validated at fetch
 * like trade rows (trade-rows.ts, whose field schemas this reuses): a bad identifying field, a row of another
 * wallet, a type that was not asked for, a side outside its closed set, a number out of bounds or a timestamp in
 * milliseconds or in the future fails the wallet with a message naming the field, the value and the tx. The
 * descriptive fields (title, slug, outcome…) stay open strings.
 *
 * The list of types is the documented one (the OpenAPI `type` parameter and the reference notes); the simulator
 * keeps its own copy on purpose, so a mistake in one shows up against the other.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { InvalidInputError } from '../lib/errors.js';
import type { ActivityRecord, ComboActivityRecord } from './records.js';
import { TwinSequencer } from './trade-key.js';
import {
  assetSchema,
  hexIdSchema,
  MAX_CLOCK_SKEW_SECONDS,
  nonNegativeSchema,
  openString,
  optionalOutcomeIndexSchema,
  pick,
  preview,
  timestampSchema,
  walletSchema,
} from './trade-rows.js';

/** Every activity type `/v2/activity?type=` accepts (data-api-v2-observed.md: all are accepted). */
export const ACTIVITY_TYPES = [
  'TRADE',
  'SPLIT',
  'MERGE',
  'REDEEM',
  'CONVERSION',
  'MIGRATION',
  'REWARD',
  'YIELD',
  'MAKER_REBATE',
  'TAKER_REBATE',
  'REFERRAL_REWARD',
  'DEPOSIT',
  'WITHDRAWAL',
  'TIP',
] as const;
export type ActivityType = (typeof ACTIVITY_TYPES)[number];

/**
 * What a wallet walk asks for by default: everything that moves a position or pays the wallet, except fills
 * (they come from `/v2/trades`), deposits and withdrawals (cash moving in and out, not profit) and tips (opt-in
 * transfers between users).
 */
export const DEFAULT_ACTIVITY_TYPES: readonly ActivityType[] = ACTIVITY_TYPES.filter(
  (type) => type !== 'TRADE' && type !== 'DEPOSIT' && type !== 'WITHDRAWAL' && type !== 'TIP',
);

/** Types whose rows always belong to one market: a missing condition id there is a broken row, not a wallet-level one. */
const MARKET_TYPES: ReadonlySet<string> = new Set(['TRADE', 'SPLIT', 'MERGE', 'REDEEM', 'CONVERSION']);

/** Sides per the schema: BUY/SELL on trades, IN/OUT on tips, "" where no side applies. */
const SIDES: ReadonlySet<string> = new Set(['BUY', 'SELL', 'IN', 'OUT', '']);

/** Combo lifecycle verbs (the `ComboActivity.type` description). */
export const COMBO_ACTIVITY_TYPES = ['SPLIT', 'MERGE', 'CONVERT', 'COMPRESS', 'WRAP', 'UNWRAP', 'REDEEM'] as const;

/** Far above any real amount (a trillion shares or USDC), far below where doubles lose cents. */
export const MAX_AMOUNT = 1e12;

/** A row up to this far ahead of our clock is clock skew (the API's own default `end` is now + 1 day); beyond, it is broken. */
export const FUTURE_SLACK_SECONDS = MAX_CLOCK_SKEW_SECONDS;

const amountSchema = nonNegativeSchema.pipe(z.number().max(MAX_AMOUNT, `expected at most ${MAX_AMOUNT}`));
const priceSchema = nonNegativeSchema.pipe(z.number().max(1, 'expected a price per share from 0 to 1'));
const rowSchema = z.record(z.string(), z.unknown());
const COMBO_ID = /^(0x[0-9a-fA-F]+)-(\d+)$/;

export type NormalizedActivityRow = Omit<ActivityRecord, 'activity_id' | 'activity_seq'>;

export interface ActivityRowOptions {
  /** The wallet walked; a row of another wallet fails the walk. */
  wallet: string;
  /** The types asked for: a row of any other type means the filter was ignored. */
  types: ReadonlySet<string>;
  /** Our clock, epoch seconds, for the future check. */
  nowSeconds: number;
}

class RowFields {
  readonly #row: Record<string, unknown>;
  readonly #label: string;

  constructor(row: Record<string, unknown>, label: string) {
    this.#row = row;
    this.#label = label;
  }

  get<T>(name: string, keys: readonly string[], schema: z.ZodType<T>): T {
    const value = pick(this.#row, keys);
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    const reason = value === undefined ? 'required field missing' : (result.error.issues[0]?.message ?? 'invalid');
    throw new InvalidInputError(`${this.#label}: field "${name}" is invalid (${reason}): got ${preview(value)}`, {
      hint: 'The wallet is failed and retried later; if it repeats, the Data API changed shape',
    });
  }

  /** A field that must hold one of `allowed`; the message lists them. */
  oneOf(name: string, keys: readonly string[], allowed: ReadonlySet<string>, transform: (value: string) => string = (v) => v): string {
    const value = pick(this.#row, keys);
    const text = typeof value === 'string' ? transform(value) : undefined;
    if (text !== undefined && allowed.has(text)) return text;
    const shown = [...allowed].map((v) => (v === '' ? '""' : v)).join(', ');
    throw new InvalidInputError(`${this.#label}: field "${name}" is ${preview(value)}, not one of ${shown}`, {
      hint: 'The wallet is failed and retried later; if it repeats, the Data API changed shape or ignored the filter',
    });
  }

  fail(message: string, hint: string): never {
    throw new InvalidInputError(`${this.#label}: ${message}`, { hint });
  }
}

function objectRow(raw: unknown, what: string): Record<string, unknown> {
  const parsed = rowSchema.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidInputError(`${what} row is not a JSON object: got ${preview(raw)}`, { hint: 'The Data API response changed shape; report it' });
  }
  return parsed.data;
}

function checkedTimestamp(fields: RowFields, nowSeconds: number): number {
  const seconds = fields.get('timestamp', ['timestamp'], timestampSchema);
  if (seconds > nowSeconds + FUTURE_SLACK_SECONDS) {
    fields.fail(
      `field "timestamp" is ${seconds} (${new Date(seconds * 1000).toISOString()}), after now (${new Date(nowSeconds * 1000).toISOString()}) plus the ${FUTURE_SLACK_SECONDS / 60}-minute clock-skew margin fills have too`,
      'A block time cannot be in the future; check this machine\'s clock, else the Data API sent a bad row',
    );
  }
  return seconds;
}

/** One `/v2/activity` row as ActivityRecord fields (without `activity_id`/`activity_seq`). */
export function normalizeActivityRow(raw: unknown, options: ActivityRowOptions): NormalizedActivityRow {
  const row = objectRow(raw, 'activity');
  const txRaw = pick(row, ['transaction_hash', 'transactionHash']);
  const fields = new RowFields(row, `activity row of tx ${typeof txRaw === 'string' && txRaw !== '' ? txRaw : '(no tx hash)'}`);

  const proxyWallet = fields.get('proxy_wallet', ['proxy_wallet', 'proxyWallet'], walletSchema);
  const expected = options.wallet.toLowerCase();
  if (proxyWallet !== expected) {
    fields.fail(`belongs to wallet ${proxyWallet}, not the requested ${expected}`, 'The API ignored the user filter; the wallet is failed rather than storing foreign activity');
  }
  const type = fields.oneOf('type', ['type'], options.types, (value) => value.toUpperCase());
  const transactionHash = fields.get('transaction_hash', ['transaction_hash', 'transactionHash'], hexIdSchema);
  const marketBound = MARKET_TYPES.has(type);
  const conditionText = openString(pick(row, ['condition_id', 'conditionId']));
  const conditionId = marketBound || conditionText !== '' ? fields.get('condition_id', ['condition_id', 'conditionId'], hexIdSchema) : null;
  const tokenText = openString(pick(row, ['token_id', 'asset']));
  const tokenId = type === 'TRADE' || tokenText !== '' ? fields.get('token_id', ['token_id', 'asset'], assetSchema) : null;
  const side = fields.oneOf('side', ['side'], SIDES, (value) => value.toUpperCase());
  const size = fields.get('size', ['size'], amountSchema);
  const usdcSize = fields.get('usdc_size', ['usdc_size', 'usdcSize'], amountSchema);
  const price = fields.get('price', ['price'], priceSchema);
  const seconds = checkedTimestamp(fields, options.nowSeconds);

  return {
    proxy_wallet: proxyWallet,
    type,
    condition_id: conditionId,
    token_id: tokenId,
    outcome_index: fields.get('outcome_index', ['outcome_index', 'outcomeIndex'], optionalOutcomeIndexSchema),
    outcome: openString(pick(row, ['outcome'])),
    side,
    size,
    usdc_size: usdcSize,
    price,
    timestamp: new Date(seconds * 1000).toISOString(),
    transaction_hash: transactionHash,
    title: openString(pick(row, ['title'])),
    slug: openString(pick(row, ['slug'])),
    event_slug: openString(pick(row, ['event_slug', 'eventSlug'])),
    raw: JSON.stringify(raw),
  };
}

/** The fields that make two activity rows twins (the transaction included), in key order. */
function identityOf(row: NormalizedActivityRow): unknown[] {
  return [
    row.transaction_hash,
    row.type,
    row.condition_id ?? '',
    row.token_id ?? '',
    row.outcome_index,
    row.side,
    String(row.size),
    String(row.usdc_size),
    String(row.price),
  ];
}

/**
 * sha256 over a JSON array of wallet, the identifying fields and `activity_seq`, hex, first 32 characters (128
 * bits), as `tradeId` does for fills. Descriptive fields (title, profile…) are left out: they change over time.
 */
export function activityId(row: NormalizedActivityRow & { activity_seq: number }): string {
  const encoded = JSON.stringify([row.proxy_wallet.toLowerCase(), ...identityOf(row), String(row.activity_seq)]);
  return createHash('sha256').update(encoded).digest('hex').slice(0, 32);
}

/** Keys rows along one wallet's oldest-first (`sort_direction=ASC`) activity walk. */
export class ActivityKeyer {
  readonly #twins = new TwinSequencer('oldest-first', 'activity rows');

  /** The record of a normalised row; throws OutOfOrderError when it is older than a row already keyed. */
  key(row: NormalizedActivityRow): ActivityRecord {
    const seconds = Date.parse(row.timestamp) / 1000;
    const activitySeq = this.#twins.next(seconds, row.transaction_hash, JSON.stringify(identityOf(row)));
    return { activity_id: activityId({ ...row, activity_seq: activitySeq }), ...row, activity_seq: activitySeq };
  }
}

const nullableAmount = z.union([z.null(), amountSchema]);
const blockSchema = z.number('expected a block number').int('expected a whole block number').positive('expected a block number > 0');
const legsSchema = z.array(z.unknown(), 'expected an array of legs');
const comboTypes: ReadonlySet<string> = new Set(COMBO_ACTIVITY_TYPES);

/** One `/v2/activity/combos` row as a ComboActivityRecord. */
export function normalizeComboActivityRow(raw: unknown, options: Omit<ActivityRowOptions, 'types'>): ComboActivityRecord {
  const row = objectRow(raw, 'combo activity');
  const idRaw = pick(row, ['id']);
  const fields = new RowFields(row, `combo activity row ${typeof idRaw === 'string' && idRaw !== '' ? idRaw : '(no id)'}`);
  const id = fields.get('id', ['id'], z.string().regex(COMBO_ID, 'expected tx_hash-log_index'));
  const proxyWallet = fields.get('proxy_wallet', ['proxy_wallet', 'proxyWallet'], walletSchema);
  const expected = options.wallet.toLowerCase();
  if (proxyWallet !== expected) {
    fields.fail(`belongs to wallet ${proxyWallet}, not the requested ${expected}`, 'The API ignored the user filter; the wallet is failed rather than storing foreign activity');
  }
  const type = fields.oneOf('type', ['type'], comboTypes, (value) => value.toUpperCase());
  const transactionHash = fields.get('transaction_hash', ['transaction_hash', 'transactionHash'], hexIdSchema);
  if (COMBO_ID.exec(id)?.[1]?.toLowerCase() !== transactionHash) {
    fields.fail(`id ${JSON.stringify(id)} does not start with its transaction_hash ${transactionHash}`, 'The combo feed changed shape; report it');
  }
  const legs = fields.get('legs', ['legs'], legsSchema);
  return {
    combo_activity_id: id.toLowerCase(),
    proxy_wallet: proxyWallet,
    type,
    combo_condition_id: fields.get('combo_condition_id', ['combo_condition_id'], hexIdSchema),
    combo_position_id: fields.get('combo_position_id', ['combo_position_id'], assetSchema),
    block_number: fields.get('block_number', ['block_number'], blockSchema),
    timestamp: new Date(checkedTimestamp(fields, options.nowSeconds) * 1000).toISOString(),
    transaction_hash: transactionHash,
    amount_usdc: fields.get('amount_usdc', ['amount_usdc'], nullableAmount.optional()) ?? null,
    payout_usdc: fields.get('payout_usdc', ['payout_usdc'], nullableAmount.optional()) ?? null,
    legs: JSON.stringify(legs),
    raw: JSON.stringify(raw),
  };
}
