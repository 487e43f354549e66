/**
 * A wallet's activity besides its fills, from Data API v2:
 * - `/v2/activity?user=W&start=1&sort_direction=ASC&limit=1000&type=…&exclude_deposits_withdrawals=…`, oldest
 *   first (a public measurement of the older route found MERGE and SPLIT rows missing when sorted descending);
 * - `/v2/activity/combos?user=W&limit=1000`, the combo lifecycle rows, newest first by (block, log index).
 * Both follow `pagination.next_cursor` re-sending identical filters (the cursor carries only the anchor, the page
 * size and, on activity, the direction), and trust the server's paging no more than the trades walk does: the
 * same PageGuard, the same envelope check, the same stop on pages that add nothing yet keep minting cursors.
 */
import { ConfigError, InvalidInputError } from '../lib/errors.js';
import { abortReason } from '../lib/sleep.js';
import type { ActivityType } from './activity-rows.js';
import { ACTIVITY_TYPES, ActivityKeyer, DEFAULT_ACTIVITY_TYPES, normalizeActivityRow, normalizeComboActivityRow } from './activity-rows.js';
import { FULL_HISTORY_START, fetchV2Page } from './data-api.js';
import type { HttpClient } from './http-client.js';
import { PaginationError } from './http-errors.js';
import { linkedSignal } from './linked-signal.js';
import { PageGuard } from './page-guard.js';
import type { ActivityRecord, ComboActivityRecord } from './records.js';
import { DEFAULT_MAX_PAGES_PER_WALLET } from './source-limits.js';

/** Endpoint keys for rate limits and counters: activity has its own bucket, apart from `data:trades`. */
export const DATA_ACTIVITY_KEY = 'data:activity';
export const DATA_ACTIVITY_COMBOS_KEY = 'data:activity-combos';

/** The documented maximum page (`limit`, "past-cap rejected"). */
export const ACTIVITY_PAGE_SIZE = 1000;

const WALLET = /^0x[0-9a-fA-F]{40}$/;
const CASH_MOVES: readonly ActivityType[] = ['DEPOSIT', 'WITHDRAWAL'];

export interface ActivityWalkOptions {
  signal?: AbortSignal;
  /** Oldest block time asked for, epoch seconds (whole, >= 1); default 1, the full history. */
  startSeconds?: number;
  /**
   * Types to fetch; default DEFAULT_ACTIVITY_TYPES. TRADE is opt-in: fills come from `/v2/trades`, and a TRADE row
   * repeats one, but its `usdc_size` holds the fill's fee (the profit replay's only source of fees); naming DEPOSIT
   * or WITHDRAWAL turns `exclude_deposits_withdrawals` off, which otherwise hides them.
   */
  types?: readonly string[];
  /** Pages after which a walk that still has a next_cursor fails; default 20 000. */
  maxPages?: number;
  /** Our clock, for the check that no row is in the future; default the system clock. */
  now?: () => Date;
}

/** The checked type list, upper-cased and deduplicated; a ConfigError names a bad entry and the valid ones. */
export function checkActivityTypes(types: readonly string[] = DEFAULT_ACTIVITY_TYPES): ActivityType[] {
  const checked: ActivityType[] = [];
  for (const entry of types) {
    const type = entry.trim().toUpperCase();
    if (!(ACTIVITY_TYPES as readonly string[]).includes(type)) {
      throw new ConfigError(`activity type ${JSON.stringify(entry)} is not a documented activity type`, {
        hint: `Valid activity types: ${ACTIVITY_TYPES.join(', ')}`,
      });
    }
    if (!checked.includes(type as ActivityType)) checked.push(type as ActivityType);
  }
  if (checked.length === 0) throw new ConfigError('the activity type list is empty', { hint: `Default: ${DEFAULT_ACTIVITY_TYPES.join(',')}` });
  return checked;
}

/** The `/v2/activity` URL of a wallet walk; `cursor` absent on the first page. */
export function walletActivityUrl(dataApiUrl: string, wallet: string, types: readonly ActivityType[], cursor?: string, startSeconds = FULL_HISTORY_START): URL {
  const url = new URL(`${dataApiUrl.replace(/\/+$/, '')}/v2/activity`);
  url.searchParams.set('user', wallet);
  // Without `start` the window floors to the last three years; 1 asks for the full history.
  url.searchParams.set('start', String(startSeconds));
  url.searchParams.set('sort_direction', 'ASC');
  url.searchParams.set('limit', String(ACTIVITY_PAGE_SIZE));
  url.searchParams.set('type', types.join(','));
  url.searchParams.set('exclude_deposits_withdrawals', String(!types.some((type) => CASH_MOVES.includes(type))));
  if (cursor !== undefined) url.searchParams.set('cursor', cursor);
  return url;
}

/** The `/v2/activity/combos` URL of a wallet walk; `limit` shapes the first page only, the cursor the rest. */
export function walletComboActivityUrl(dataApiUrl: string, wallet: string, cursor?: string): URL {
  const url = new URL(`${dataApiUrl.replace(/\/+$/, '')}/v2/activity/combos`);
  url.searchParams.set('user', wallet);
  url.searchParams.set('limit', String(ACTIVITY_PAGE_SIZE));
  if (cursor !== undefined) url.searchParams.set('cursor', cursor);
  return url;
}

/** A wallet parameter of a v2 route, checked and lower-cased; InvalidInputError names a value that is not an address. */
export function checkWallet(walletInput: string): string {
  const wallet = walletInput.trim();
  if (!WALLET.test(wallet)) {
    throw new InvalidInputError(`wallet ${JSON.stringify(walletInput)} is not an address (0x followed by 40 hex digits)`, {
      hint: 'Pass the proxy wallet shown on the Polymarket profile, not a name',
    });
  }
  return wallet.toLowerCase();
}

function checkStart(startSeconds: number, wallet: string): number {
  if (!Number.isSafeInteger(startSeconds) || startSeconds < FULL_HISTORY_START) {
    throw new InvalidInputError(
      `startSeconds ${String(startSeconds)} for wallet ${wallet} is not a whole number of epoch seconds >= ${FULL_HISTORY_START}`,
      { hint: 'Pass whole seconds (not milliseconds, not a fraction); 1 asks for the full history, and 0 would mean the last three years only' },
    );
  }
  return startSeconds;
}

/**
 * Pages of a wallet's activity (the types asked for), normalised and keyed, oldest first; never yields an empty
 * page and never holds more than one. Throws like the trades walk on a broken envelope or paging, and
 * InvalidInputError on a row that fails validation (naming field, value and tx).
 */
export async function* walletActivityPages(
  http: HttpClient,
  dataApiUrl: string,
  walletInput: string,
  options: ActivityWalkOptions = {},
): AsyncGenerator<ActivityRecord[], void, undefined> {
  const wallet = checkWallet(walletInput);
  const startSeconds = checkStart(options.startSeconds ?? FULL_HISTORY_START, wallet);
  const types = checkActivityTypes(options.types);
  const typeSet = new Set<string>(types);
  const now = options.now ?? (() => new Date());
  const keyer = new ActivityKeyer();
  yield* walkPages(http, DATA_ACTIVITY_KEY, options, (cursor) => walletActivityUrl(dataApiUrl, wallet, types, cursor, startSeconds), (rows) => {
    const nowSeconds = Math.floor(now().getTime() / 1000);
    return rows.map((raw) => keyer.key(normalizeActivityRow(raw, { wallet, types: typeSet, nowSeconds })));
  });
}

/** Pages of a wallet's combo activity, newest first, each row keyed by the API's own `tx_hash-log_index`. */
export async function* walletComboActivityPages(
  http: HttpClient,
  dataApiUrl: string,
  walletInput: string,
  options: Omit<ActivityWalkOptions, 'types' | 'startSeconds'> = {},
): AsyncGenerator<ComboActivityRecord[], void, undefined> {
  const wallet = checkWallet(walletInput);
  const now = options.now ?? (() => new Date());
  const seen = new Set<string>();
  yield* walkPages(http, DATA_ACTIVITY_COMBOS_KEY, options, (cursor) => walletComboActivityUrl(dataApiUrl, wallet, cursor), (rows, shown) => {
    const nowSeconds = Math.floor(now().getTime() / 1000);
    return rows.map((raw) => {
      const record = normalizeComboActivityRow(raw, { wallet, nowSeconds });
      // The id is unique on chain, so a second sighting is a paging fault, never a twin.
      if (seen.has(record.combo_activity_id)) {
        throw new PaginationError(`GET ${shown} served combo activity ${record.combo_activity_id} a second time in one walk`, {
          kind: 'permanent',
          hint: 'The wallet is failed rather than stored with a row twice; report it if it repeats',
        });
      }
      seen.add(record.combo_activity_id);
      return record;
    });
  });
}

/** The cursor walk both feeds share: envelope, and the PageGuard of every walk. */
async function* walkPages<T>(
  http: HttpClient,
  endpointKey: string,
  options: Pick<ActivityWalkOptions, 'signal' | 'maxPages'>,
  urlOf: (cursor: string | undefined) => URL,
  toRecords: (rows: unknown[], shown: string) => T[],
): AsyncGenerator<T[], void, undefined> {
  const link = linkedSignal(options.signal);
  const signal = link.signal;
  try {
    // Any row is progress: identical rows are twins, and a repeated page is caught as such.
    const guard = new PageGuard({ limit: ACTIVITY_PAGE_SIZE, maxPages: options.maxPages ?? DEFAULT_MAX_PAGES_PER_WALLET, repeatedPages: true });
    let cursor: string | undefined;
    for (let page = 1; ; page += 1) {
      if (signal.aborted) throw abortReason(signal);
      const { rows, hasMore, nextCursor, shown } = await fetchV2Page(http, urlOf(cursor), endpointKey, signal, guard, page);
      const records = toRecords(rows, shown);
      if (records.length > 0) yield records;

      // The one guard of every walk: has_more without a cursor, and pages that add nothing while still
      // handing out a cursor, stop it with an error naming what was seen.
      const next = guard.next(page, shown, { nextCursor, hasMore, added: rows.length });
      if (next === undefined) return;
      cursor = next;
    }
  } finally {
    link.dispose();
  }
}
