import type { TradeWalk } from './data-api.js';
import type { GammaPaging } from './gamma-listing.js';
import type { GlobalFeedCounters, GlobalFeedWalk, GlobalTradesOptions } from './global-feed.js';
import type { LeaderboardQuery, LeaderboardResult } from './leaderboard.js';
import type { ClosedPosition, PnlCheckOptions, UserPnlLatest } from './pnl-api.js';
import type { ActivityRecord, ComboActivityRecord, EventRecord, MarketRecord } from './records.js';
import type { ResolutionLookup } from './resolutions-api.js';

/** Counters the source keeps, for progress and benchmarks. */
export interface SourceStats {
  /**
   * Requests sent per endpoint key (`data:trades`, `data:leaderboard`, `gamma:markets`, `gamma:events`; keyset
   * and legacy listings share their kind's key), retries included.
   */
  requests: Record<string, number>;
  /** Retried attempts per error class (`429`, `503`, `5xx`, `network`, `html`, `truncated`, `timeout`). */
  retries: Record<string, number>;
  /** Retried attempts per endpoint key. */
  retriesByEndpoint: Record<string, number>;
  /** The Gamma listing that answered each kind of look-up, once one has. */
  gammaPaging?: Partial<Record<'markets' | 'events', GammaPaging>>;
  /** Global feed walks, once one has started: walks, pages read, rows served and rows kept (their requests are in `data:trades`). */
  globalFeed?: GlobalFeedCounters;
}

export interface MarketLookup {
  markets: MarketRecord[];
  /** Condition ids Gamma does not know, or that must never be sent to it (combo ids), with the reason. */
  unresolved: { id: string; reason: string }[];
}

export interface EventLookup {
  events: EventRecord[];
  unresolved: { id: string; reason: string }[];
}

export interface WalletTradesOptions {
  signal?: AbortSignal;
  /**
   * Only fills at or after this block time (epoch seconds, inclusive; a whole number >= 1, else the
   * walk fails with InvalidInputError); default 1, the full history. Sent as `start`, with the same
   * other filters as the full walk.
   * All fills of one transaction share its block time, so a window starting at a whole second
   * holds whole transactions and `fill_seq` comes out as in the full walk.
   */
  startSeconds?: number;
}

/**
 * What the backfill engine needs from Polymarket. The engine depends on this interface only;
 * `createPolymarketSource` builds the real HTTP implementation. Errors carry a failure kind
 * (src/lib/errors.ts): an API that is down or throttling (after the source's own retries) is
 * transient, which the engine's circuit breaker counts; anything about one wallet's data is permanent.
 */
export interface PolymarketSource {
  /**
   * A wallet's complete trade history (maker and taker fills, full history), one API page at a time,
   * newest first, already normalised and keyed. Never buffers more than one page. Once it has ended,
   * the walk says whether fills under 0.01 shares were left out (the API refused `filter_amount`).
   */
  walletTrades(wallet: string, options?: WalletTradesOptions): TradeWalk;
  /**
   * A wallet's activity besides its fills (`/v2/activity`, the configured types, oldest first), one page at a time,
   * validated and keyed; from `startSeconds` on (inclusive) when given, else the full history. Its own rate bucket.
   */
  walletActivity(wallet: string, options?: WalletTradesOptions): AsyncIterable<ActivityRecord[]>;
  /** A wallet's combo lifecycle rows (`/v2/activity/combos`), newest first, keyed by the API's own id. */
  walletComboActivity(wallet: string, options?: { signal?: AbortSignal }): AsyncIterable<ComboActivityRecord[]>;
  /** Resolutions of these markets (`/v2/resolutions`, at most 20 per request); ids with no row come back unresolved. */
  resolutions(conditionIds: readonly string[], signal?: AbortSignal): Promise<ResolutionLookup>;
  /**
   * The global trade feed (`/v2/trades` without `user`, `taker_only=false`), newest first, from the newest row (or
   * `resumeFrom`) down to `downToSeconds` inclusive, one page at a time, each page with its anchor and the point a
   * walk resumes from once it is committed; rows validated and keyed exactly as `walletTrades` keys the same fills.
   * Rate-limited under the trades bucket (`data:trades`). See global-feed.ts.
   */
  globalTrades(options: GlobalTradesOptions): GlobalFeedWalk;
  /** Gamma markets for these condition ids, closed and open alike, in batches of at most 50. */
  markets(conditionIds: readonly string[], signal?: AbortSignal): Promise<MarketLookup>;
  /** Gamma events for these event ids. */
  events(eventIds: readonly string[], signal?: AbortSignal): Promise<EventLookup>;
  /**
   * Trader discovery: the first `limit` distinct wallets of a Data API v2 trader board (`/v2/leaderboard`),
   * best first, paged by cursor; a board that stops making progress ends early with the wallets collected
   * and `stopped` saying why.
   */
  leaderboard(query: LeaderboardQuery): Promise<LeaderboardResult>;
  /** Polymarket's closed positions of a wallet (`/v2/positions?status=CLOSED`, every page), to check our profit against. */
  closedPositions(wallet: string, options?: PnlCheckOptions): Promise<ClosedPosition[]>;
  /** The last point of a wallet's `/v2/user-pnl?interval=all` series; null when Polymarket has no figure (never zero). */
  latestUserPnl(wallet: string, options?: Pick<PnlCheckOptions, 'signal'>): Promise<UserPnlLatest | null>;
  stats(): SourceStats;
  close(): Promise<void>;
}
