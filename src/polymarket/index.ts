/** Polymarket source: the real HTTP implementation of PolymarketSource and its building blocks. */
export type {
  ActivityRecord,
  ComboActivityRecord,
  EventRecord,
  MarketRecord,
  ResolutionRecord,
  TradeRecord,
  UnresolvedRecord,
} from './records.js';
export type { EventLookup, MarketLookup, PolymarketSource, SourceStats, WalletTradesOptions } from './source.js';
export {
  createPolymarketSource,
  DEFAULT_DATA_API_URL,
  DEFAULT_GAMMA_API_URL,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_TIMEOUT_MS,
  type PolymarketSourceConfig,
} from './polymarket-source.js';
export { DEFAULT_RATE_LIMITS, RateLimiter, type RateLimit } from './rate-limiter.js';
export { HttpClient, parseRetryAfter, type HttpClientOptions, type SourceLogger } from './http-client.js';
export {
  HttpBodyError,
  HttpError,
  HttpNetworkError,
  HttpStatusError,
  PaginationError,
  ResponseTooLargeError,
  UnexpectedResponseError,
  bodySnippet,
  describeReceived,
  type ApiErrorBody,
  type RetryClass,
} from './http-errors.js';
export {
  DEFAULT_MAX_FEED_PAGES,
  cursorSequenceId,
  feedWindowStart,
  globalTradePages,
  globalTradesUrl,
  type FeedAnchor,
  type FeedResumePoint,
  type FeedWalkOptions,
  type GlobalFeedCounters,
  type GlobalFeedOutcome,
  type GlobalFeedPage,
  type GlobalFeedWalk,
  type GlobalTradesOptions,
} from './global-feed.js';
export {
  FeedFillSequencer,
  FillSequencer,
  OutOfOrderError,
  TwinAcrossTimestampsError,
  TwinSequencer,
  tradeId,
  type FeedOrder,
  type SequencedRow,
  type TradeKeyFields,
} from './trade-key.js';
export {
  ACTIVITY_TYPES,
  ActivityKeyer,
  COMBO_ACTIVITY_TYPES,
  DEFAULT_ACTIVITY_TYPES,
  activityId,
  normalizeActivityRow,
  normalizeComboActivityRow,
  type ActivityType,
  type NormalizedActivityRow,
} from './activity-rows.js';
export {
  ACTIVITY_PAGE_SIZE,
  DATA_ACTIVITY_COMBOS_KEY,
  DATA_ACTIVITY_KEY,
  checkActivityTypes,
  walletActivityPages,
  walletActivityUrl,
  walletComboActivityPages,
  walletComboActivityUrl,
  type ActivityWalkOptions,
} from './activity-api.js';
export {
  DATA_RESOLUTIONS_KEY,
  RESOLUTIONS_MAX_BATCH,
  UNRESOLVED_NOT_A_MARKET,
  UNRESOLVED_NO_RESOLUTION,
  lookupResolutions,
  payoutWinner,
  type ResolutionLookup,
  type ResolutionLookupOptions,
} from './resolutions-api.js';
export { NonTradeRowError, epochSecondsOf, normalizeTradeRow, type NormalizedTradeRow } from './trade-rows.js';
export {
  DATA_TRADES_KEY,
  FULL_HISTORY_START,
  KEEP_ALL_FILLS_FILTER_AMOUNT,
  TRADES_PAGE_SIZE,
  walletTradePages,
  walletTradesUrl,
  type TradeWalk,
  type WalletWalkOptions,
} from './data-api.js';
export { DEFAULT_MAX_IDLE_PAGES, PageGuard, PagingStalledError, pageDigest } from './page-guard.js';
export { SmallFillsFilter, refusesFilterAmount } from './small-fills.js';
export { redactUrl } from './redact-url.js';
export { checkBaseUrl } from './base-url.js';
export {
  DEFAULT_MAX_PAGES_PER_WALLET,
  DEFAULT_MAX_RESPONSE_BYTES,
  MAX_MAX_PAGES_PER_WALLET,
  MAX_MAX_RESPONSE_BYTES,
  MIN_MAX_PAGES_PER_WALLET,
  MIN_MAX_RESPONSE_BYTES,
  formatBytes,
  parseByteSize,
  parseMaxPagesPerWallet,
  parseMaxResponseBytes,
  parseRateLimitSpec,
} from './source-limits.js';
export {
  GAMMA_EVENTS_KEY,
  GAMMA_MARKETS_KEY,
  GAMMA_MAX_BATCH,
  UNRESOLVED_BAD_EVENT_ID,
  UNRESOLVED_COMBO,
  UNRESOLVED_UNKNOWN,
  createGammaListing,
  eventsUrl,
  lookupEvents,
  lookupMarkets,
  marketsUrl,
  type GammaLookupOptions,
} from './gamma-api.js';
export { KEYSET_PAGE_LIMIT, keysetRows, keysetUrl, type GammaKind } from './gamma-keyset.js';
export { GammaListing, type GammaPaging } from './gamma-listing.js';
export {
  DATA_LEADERBOARD_KEY,
  LEADERBOARD_MAX_PAGE,
  LEADERBOARD_ORDERS,
  LEADERBOARD_PERIODS,
  LEADERBOARD_RATE_LIMIT,
  checkLeaderboardQuery,
  leaderboard,
  leaderboardUrl,
  type LeaderboardEntry,
  type LeaderboardResult,
  type LeaderboardOrder,
  type LeaderboardPeriod,
  type LeaderboardQuery,
} from './leaderboard.js';
export { marketConditionId, normalizeMarket, winningOutcome } from './market-rows.js';
export { eventIdOf, normalizeEvent } from './event-rows.js';
export { parseJsonArray, toIsoTimestamp, toNumber } from './gamma-values.js';
export {
  DATA_POSITIONS_KEY,
  DATA_USER_PNL_KEY,
  PNL_CHECK_RATE_LIMITS,
  POSITIONS_PAGE_SIZE,
  closedPositionsUrl,
  latestUserPnl,
  userPnlUrl,
  walletClosedPositions,
  type ClosedPosition,
  type PnlCheckOptions,
  type UserPnlLatest,
} from './pnl-api.js';
