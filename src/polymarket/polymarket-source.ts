/**
 * The real PolymarketSource: Data API v2 for trades, Gamma for markets and events, over one shared
 * HTTP client (one rate limiter per endpoint key, one in-flight cap per host) for all workers.
 */
import { ConfigError } from '../lib/errors.js';
import { RETRY_BUDGETS } from '../lib/retry-budgets.js';
import { checkBaseUrl } from './base-url.js';
import { settingValue } from './checked-setting.js';
import type { Checked } from './checked-setting.js';
import { checkActivityTypes, walletActivityPages, walletComboActivityPages } from './activity-api.js';
import { walletTradePages } from './data-api.js';
import { createGammaListing, lookupEvents, lookupMarkets } from './gamma-api.js';
import { globalTradePages, type GlobalFeedCounters } from './global-feed.js';
import { HttpClient, type SourceLogger } from './http-client.js';
import { DATA_LEADERBOARD_KEY, LEADERBOARD_RATE_LIMIT, leaderboard } from './leaderboard.js';
import { PNL_CHECK_RATE_LIMITS, latestUserPnl, walletClosedPositions } from './pnl-api.js';
import { RateLimiter, type RateLimit } from './rate-limiter.js';
import { lookupResolutions } from './resolutions-api.js';
import { SmallFillsFilter } from './small-fills.js';
import {
  DEFAULT_MAX_PAGES_PER_WALLET,
  DEFAULT_MAX_RESPONSE_BYTES,
  checkMaxPagesPerWallet,
  checkMaxResponseBytes,
} from './source-limits.js';
import type { PolymarketSource, SourceStats } from './source.js';

import { DEFAULT_DATA_API_URL, DEFAULT_GAMMA_API_URL, DEFAULT_TIMEOUT_MS } from './source-defaults.js';

export { DEFAULT_DATA_API_URL, DEFAULT_GAMMA_API_URL, DEFAULT_TIMEOUT_MS };
export const DEFAULT_MAX_ATTEMPTS = RETRY_BUDGETS.httpRequest.attempts;
/** Enough parallel requests to use the data:trades budget (20/s) at ~1 s per 1000-row page. */
export const DEFAULT_MAX_IN_FLIGHT = 16;

export interface PolymarketSourceConfig {
  /** Default https://data-api.polymarket.com. No credentials, query or fragment (refused). Checked here unless already Checked. */
  dataApiUrl?: string | Checked<string>;
  /** Default https://gamma-api.polymarket.com. No credentials, query or fragment (refused). */
  gammaApiUrl?: string | Checked<string>;
  /** Cap on every response body, compressed and decoded alike; 1 MiB to 1 GiB, default 32 MiB. */
  maxResponseBytes?: number | Checked<number>;
  /** Pages after which a wallet walk that still has a cursor fails; 1 to 1 000 000, default 20 000. */
  maxPagesPerWallet?: number | Checked<number>;
  /** Per attempt; default 30 000. */
  timeoutMs?: number;
  /** Attempts per request, first included; default 8. */
  maxAttempts?: number;
  /** Overrides per endpoint key; defaults are the documented limits (DEFAULT_RATE_LIMITS). */
  rateLimits?: Partial<Record<string, RateLimit>>;
  /** Requests in flight per host; default 16. */
  maxInFlight?: number;
  /** Backoff base and cap when the server gives no Retry-After; defaults 500 ms and 30 s. */
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Longest Retry-After honoured; default 120 s. */
  maxRetryAfterMs?: number;
  /**
   * Activity types fetched per wallet (`/v2/activity?type=`); default every documented type but TRADE, deposits and
   * withdrawals excluded (naming DEPOSIT or WITHDRAWAL includes them; naming TRADE fetches the fills again as activity,
   * for their fees). Checked here: an unknown type is refused.
   */
  activityTypes?: readonly string[];
  /** Ids per Gamma request, at most 50 (the default). */
  gammaBatchSize?: number;
  logger?: SourceLogger;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /** Clock for `fetched_at`, HTTP-date Retry-After and the latest fill date accepted; default the system clock. */
  now?: () => Date;
  userAgent?: string;
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new ConfigError(`${name} must be a whole number >= 1, got ${String(value)}`);
  }
  return value;
}

/** Builds the HTTP-backed source. Call `close()` when done to release connections. */
export function createPolymarketSource(config: PolymarketSourceConfig = {}): PolymarketSource {
  // Settings the configuration checked come as Checked values and are taken as given; others are checked once, here.
  const dataApiUrl = settingValue(config.dataApiUrl, DEFAULT_DATA_API_URL, (v) => checkBaseUrl('dataApiUrl', v, DEFAULT_DATA_API_URL));
  const gammaApiUrl = settingValue(config.gammaApiUrl, DEFAULT_GAMMA_API_URL, (v) => checkBaseUrl('gammaApiUrl', v, DEFAULT_GAMMA_API_URL));
  const maxResponseBytes = settingValue(config.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES, (v) => checkMaxResponseBytes(v, 'maxResponseBytes'));
  const maxPages = settingValue(config.maxPagesPerWallet, DEFAULT_MAX_PAGES_PER_WALLET, (v) => checkMaxPagesPerWallet(v, 'maxPagesPerWallet'));
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new ConfigError(`timeoutMs must be a positive number of milliseconds, got ${String(timeoutMs)}`);
  }
  let rateLimiter: RateLimiter;
  try {
    // The board and the profit check are not among the documented per-route limits (neither runs during a
    // backfill), so their defaults live with their clients.
    rateLimiter = new RateLimiter({ [DATA_LEADERBOARD_KEY]: LEADERBOARD_RATE_LIMIT, ...PNL_CHECK_RATE_LIMITS, ...config.rateLimits });
  } catch (error) {
    throw new ConfigError((error as Error).message, { cause: error });
  }
  const now = config.now ?? (() => new Date());
  const http = new HttpClient({
    rateLimiter,
    timeoutMs,
    maxAttempts: positiveInt('maxAttempts', config.maxAttempts ?? DEFAULT_MAX_ATTEMPTS),
    maxInFlight: positiveInt('maxInFlight', config.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT),
    baseDelayMs: config.retryBaseDelayMs,
    maxDelayMs: config.retryMaxDelayMs,
    maxRetryAfterMs: config.maxRetryAfterMs,
    sleep: config.sleep,
    random: config.random,
    logger: config.logger,
    userAgent: config.userAgent,
    now: () => now().getTime(),
    maxResponseBytes,
  });
  const gammaOptions = { batchSize: config.gammaBatchSize, now, logger: config.logger };
  // One listing choice per kind for the source's lifetime: the keyset-or-legacy probe happens once per run.
  const listings = {
    markets: createGammaListing(http, gammaApiUrl, 'markets', config.logger),
    events: createGammaListing(http, gammaApiUrl, 'events', config.logger),
  };

  const activityTypes = checkActivityTypes(config.activityTypes);
  // Per source, not per module: a refusal of filter_amount changes this run's walks only.
  const smallFills = new SmallFillsFilter(config.logger);
  const feedCounters: GlobalFeedCounters = { walks: 0, pages: 0, rowsServed: 0, rowsKept: 0 };

  return {
    walletTrades: (wallet, options = {}) =>
      walletTradePages(http, dataApiUrl, wallet, { signal: options.signal, startSeconds: options.startSeconds, maxPages, smallFills, now: () => now().getTime() }),
    walletActivity: (wallet, options = {}) =>
      walletActivityPages(http, dataApiUrl, wallet, { signal: options.signal, startSeconds: options.startSeconds, types: activityTypes, maxPages, now }),
    walletComboActivity: (wallet, options = {}) => walletComboActivityPages(http, dataApiUrl, wallet, { signal: options.signal, maxPages, now }),
    resolutions: (conditionIds, signal) => lookupResolutions(http, dataApiUrl, conditionIds, { signal, now }),
    globalTrades: (options) =>
      globalTradePages(http, dataApiUrl, { ...options, smallFills, counters: feedCounters, now: () => now().getTime() }),
    markets: (conditionIds, signal) =>
      lookupMarkets(http, gammaApiUrl, conditionIds, { ...gammaOptions, signal, listing: listings.markets }),
    events: (eventIds, signal) => lookupEvents(http, gammaApiUrl, eventIds, { ...gammaOptions, signal, listing: listings.events }),
    leaderboard: (query) => leaderboard(http, dataApiUrl, query, config.logger),
    closedPositions: (wallet, options = {}) => walletClosedPositions(http, dataApiUrl, wallet, { maxPages, ...options }),
    latestUserPnl: (wallet, options = {}) => latestUserPnl(http, dataApiUrl, wallet, options),
    stats: () => {
      const gammaPaging: SourceStats['gammaPaging'] = {};
      if (listings.markets.paging) gammaPaging.markets = listings.markets.paging;
      if (listings.events.paging) gammaPaging.events = listings.events.paging;
      const stats: SourceStats = { requests: http.requestCounts(), retries: http.retryCounts(), retriesByEndpoint: http.retryCountsByEndpoint() };
      if (feedCounters.walks > 0) stats.globalFeed = { ...feedCounters };
      return Object.keys(gammaPaging).length > 0 ? { ...stats, gammaPaging } : stats;
    },
    close: () => http.close(),
  };
}
