/**
 * What a refresh costs in `/v2/trades` requests, tailing the global feed or walking each tracked wallet, so that
 * `refresh --via auto` can take the cheaper one and say why. Pure arithmetic, no I/O.
 *
 * - Per wallet: every tracked wallet costs at least one request, even when it did not trade; a wallet with more new
 *   fills than a page costs a page per `pageSize` of them. Without a figure for the tracked wallets' own activity
 *   the model counts one request each, the floor.
 * - Feed: every row of the window (all of Polymarket, maker rows included), a page per `pageSize`, at least one
 *   request; plus the overlap it re-reads. It cannot reach further back than the feed's window; wallets whose
 *   horizon lies beyond it are the caller's to refresh per wallet, and a window beyond it makes the feed impossible.
 * Both walk the same rate-limit bucket (`data:trades`), so requests are the cost, and the time at the bucket's rate
 * follows from them.
 */
import { DEFAULT_RATE_LIMITS } from './rate-limiter.js';

export type RefreshVia = 'feed' | 'wallets';

export interface RefreshCostInput {
  /** Wallets the refresh must bring up to date. */
  trackedWallets: number;
  /** Rows the global feed serves per hour with `taker_only=false` (maker rows included), as measured. */
  feedRowsPerHour: number;
  /** How far back the refresh must reach, seconds: now minus the oldest horizon among the wallets it refreshes. */
  windowSeconds: number;
  /** Rows per page; default 1000, the v2 maximum. */
  pageSize?: number;
  /** Seconds the feed walk re-reads below its anchor; default 0. */
  overlapSeconds?: number;
  /** The tracked wallets' own new rows per hour, when known; default unknown (one request per wallet, the floor). */
  trackedRowsPerHour?: number;
  /** How far back the feed serves, seconds; default the documented minimum, one whole previous month (28 days). */
  feedWindowSeconds?: number;
  /** Requests per second the trades bucket allows; default the documented 200 per 10 s. */
  requestsPerSecond?: number;
}

export interface RefreshCost {
  /** Requests the feed walk needs; Infinity when the window lies beyond the feed's. */
  feedRequests: number;
  /** Requests the per-wallet refresh needs (a lower bound without `trackedRowsPerHour`). */
  walletRequests: number;
  /** Rows the feed walk would transfer, every wallet's. */
  feedRows: number;
  choice: RefreshVia;
  /** How many times fewer requests the choice needs than the other (Infinity when the other is impossible). */
  ratio: number;
  /** Seconds each needs at the bucket's rate. */
  feedSeconds: number;
  walletSeconds: number;
  /** One sentence for the log: the choice, both costs and what they come from. */
  reason: string;
}

/** 28 days: the documented "current plus previous month" always reaches at least a whole previous month back. */
export const MIN_FEED_WINDOW_SECONDS = 28 * 86_400;

const TRADES_REQUESTS_PER_SECOND = (DEFAULT_RATE_LIMITS['data:trades']!.requests * 1000) / DEFAULT_RATE_LIMITS['data:trades']!.perMs;

function nonNegative(name: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`${name} must be a finite number >= 0, got ${String(value)}`);
  return value;
}

// Without toLocaleString: loading ICU's locale data costs ~30 ms (see source-limits.ts).
const thousands = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const count = (n: number): string => (Number.isFinite(n) ? thousands(Math.round(n)) : 'unbounded');

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'never';
  if (seconds < 120) return `${Math.ceil(seconds)} s`;
  if (seconds < 7_200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3_600).toFixed(1)} h`;
}

/** The requests of a feed walk and of a per-wallet refresh over the same window, and which is cheaper. */
export function refreshCost(input: RefreshCostInput): RefreshCost {
  const tracked = nonNegative('trackedWallets', input.trackedWallets);
  const rowsPerHour = nonNegative('feedRowsPerHour', input.feedRowsPerHour);
  const window = nonNegative('windowSeconds', input.windowSeconds);
  const pageSize = input.pageSize ?? 1000;
  if (!(Number.isInteger(pageSize) && pageSize >= 1)) throw new RangeError(`pageSize must be a whole number >= 1, got ${String(pageSize)}`);
  const overlap = nonNegative('overlapSeconds', input.overlapSeconds ?? 0);
  const feedWindow = nonNegative('feedWindowSeconds', input.feedWindowSeconds ?? MIN_FEED_WINDOW_SECONDS);
  const rate = input.requestsPerSecond ?? TRADES_REQUESTS_PER_SECOND;
  if (!(rate > 0)) throw new RangeError(`requestsPerSecond must be > 0, got ${String(rate)}`);

  const walked = window + overlap;
  const feedRows = (rowsPerHour * walked) / 3_600;
  const feedRequests = walked > feedWindow ? Infinity : Math.max(1, Math.ceil(feedRows / pageSize));
  const trackedRows = input.trackedRowsPerHour === undefined ? 0 : (nonNegative('trackedRowsPerHour', input.trackedRowsPerHour) * window) / 3_600;
  // A wallet costs one request for up to a page of new fills; the fills beyond add pages.
  const walletRequests = tracked + Math.max(0, Math.ceil((trackedRows - tracked * pageSize) / pageSize));

  const choice: RefreshVia = feedRequests < walletRequests ? 'feed' : 'wallets';
  const [chosen, other] = choice === 'feed' ? [feedRequests, walletRequests] : [walletRequests, feedRequests];
  const ratio = chosen === 0 ? (other === 0 ? 1 : Infinity) : other / chosen;
  const feedSeconds = feedRequests / rate;
  const walletSeconds = walletRequests / rate;

  const hours = (walked / 3_600).toFixed(1);
  const feedText =
    feedRequests === Infinity
      ? `the feed cannot reach ${hours} h back (it serves ${(feedWindow / 86_400).toFixed(0)} days)`
      : `the feed needs ${count(feedRequests)} requests (${count(feedRows)} rows of all wallets in ${hours} h at ${count(rowsPerHour)} rows/h, ${pageSize} a page, ~${duration(feedSeconds)})`;
  const walletText =
    `per-wallet refresh needs ${input.trackedRowsPerHour === undefined ? 'at least ' : ''}${count(walletRequests)} requests ` +
    `(one per tracked wallet${trackedRows > tracked * pageSize ? ', plus pages for the busiest' : ''}, ~${duration(walletSeconds)})`;
  const factor = Number.isFinite(ratio) ? `${ratio >= 10 ? thousands(Math.round(ratio)) : ratio.toFixed(1)}× fewer requests` : 'the only way';
  const reason =
    choice === 'feed'
      ? `refresh via feed: ${feedText}; ${walletText}; the feed is ${factor}`
      : `refresh via wallets: ${walletText}; ${feedText}; per wallet is ${factor === 'the only way' ? factor : `${factor}${ratio === 1 ? ' (a tie goes to per wallet, the proven path)' : ''}`}`;
  return { feedRequests, walletRequests, feedRows, choice, ratio, feedSeconds, walletSeconds, reason };
}
