import { parseDuration } from '../lib/duration.js';
import { ConfigError } from '../lib/errors.js';
// The modules themselves, not the polymarket barrel: reading the configuration must not load the
// HTTP client and every schema (a `status` during a run needs neither).
import { checkActivityTypes } from '../polymarket/activity-api.js';
import { checkBaseUrl } from '../polymarket/base-url.js';
import { Checked } from '../polymarket/checked-setting.js';
import { DEFAULT_RATE_LIMITS } from '../polymarket/rate-limiter.js';
import { DEFAULT_DATA_API_URL, DEFAULT_GAMMA_API_URL, DEFAULT_TIMEOUT_MS } from '../polymarket/source-defaults.js';
import type { RateLimit } from '../polymarket/rate-limiter.js';
import { DEFAULT_MAX_PAGES_PER_WALLET, DEFAULT_MAX_RESPONSE_BYTES, parseMaxPagesPerWallet, parseMaxResponseBytes, parseRateLimitSpec } from '../polymarket/source-limits.js';
import { DEFAULT_MEMORY_LIMIT } from '../warehouse/duckdb/memory-limit.js';
import { RETRY_BUDGETS } from '../lib/retry-budgets.js';

/**
 * Every setting of the tool, resolved once: defaults < environment < flags. Each default lives in
 * DEFAULTS and nowhere else; the CLI only names flags, and `--help` prints these values.
 */
export const DEFAULTS = {
  warehouse: './data/backfill.duckdb',
  stage: './data/stage',
  duckdbMemoryLimit: DEFAULT_MEMORY_LIMIT,
  dataApiUrl: DEFAULT_DATA_API_URL,
  gammaApiUrl: DEFAULT_GAMMA_API_URL,
  timeout: `${DEFAULT_TIMEOUT_MS / 1000}s`,
  maxAttempts: RETRY_BUDGETS.httpRequest.attempts,
  commitEvery: 50,
  commitInterval: '2s',
  maxFailedAttempts: 5,
  leaseTtl: '60s',
  breakerWindow: 20,
  breakerThreshold: 0.8,
  logLevel: 'info',
  /** The mission's budgets: loads retried 3 times, checkpoint writes 5, with exponential backoff (lib/retry-budgets.ts). */
  loadAttempts: RETRY_BUDGETS.warehouseLoad.attempts,
  checkpointAttempts: RETRY_BUDGETS.checkpointWrite.attempts,
  retryBaseDelayMs: RETRY_BUDGETS.warehouseLoad.baseDelayMs,
  retryMaxDelayMs: RETRY_BUDGETS.warehouseLoad.maxDelayMs,
  retryDeadlineMs: RETRY_BUDGETS.warehouseLoad.deadlineMs,
  /** Under Cloud Run's 10 s between SIGTERM and SIGKILL. */
  shutdownDeadlineMs: 8_000,
  /** A refresh window starts this long before the newest fill held (CDN caching delays the first page up to 5 min). */
  refreshOverlap: '1h',
  /** Markets held as open are looked up again after this long (or once their end date passed). */
  marketRefreshAfter: '24h',
  /** Kept rows per staged chunk of a feed walk: one load and one committed resume point each. */
  feedChunkRows: 50_000,
  /** A run publishes its status beside an embedded warehouse this often. */
  statusInterval: '3s',
} as const;

/** Bounds of every numeric option; a value outside is a configuration error naming the range. */
export const BOUNDS = {
  concurrency: [1, 256],
  commitEvery: [1, 10_000],
  commitIntervalMs: [10, 3_600_000],
  maxFailedAttempts: [1, 1_000],
  timeoutMs: [100, 600_000],
  maxAttempts: [1, 50],
  leaseTtlMs: [1_000, 3_600_000],
  breakerWindow: [1, 100_000],
  maxRuntimeMs: [1_000, 7 * 86_400_000],
  refreshOverlapMs: [0, 7 * 86_400_000],
  olderThanMs: [1_000, 365 * 86_400_000],
  marketRefreshAfterMs: [0, 365 * 86_400_000],
  limit: [1, Number.MAX_SAFE_INTEGER],
  statusIntervalMs: [100, 600_000],
  feedChunkRows: [1, 10_000_000],
} as const satisfies Record<string, readonly [number, number]>;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty', 'gcp'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export const EXIT_CODE_MODES = ['strict', 'schedule'] as const;
export type ExitCodeMode = (typeof EXIT_CODE_MODES)[number];

export interface SourceSettings {
  /** Checked here, with the flag's name in any message; the source takes them as given. */
  dataApiUrl: Checked<string>;
  gammaApiUrl: Checked<string>;
  timeoutMs: number;
  maxAttempts: number;
  rateLimits: Record<string, RateLimit>;
  /** Cap on one response body, compressed or not; a wallet whose response is over it fails. */
  maxResponseBytes: Checked<number>;
  /** Pages after which a wallet fails instead of paging on (a server handing out endless cursors). */
  maxPagesPerWallet: Checked<number>;
  /** Activity types fetched per wallet (`--activity-types`), checked: unknown types refused; TRADE only when named (fees). */
  activityTypes: readonly string[];
}

export interface RunSettings {
  concurrency: number;
  commitEvery: number;
  commitIntervalMs: number;
  maxFailedAttempts: number;
  retryParked: boolean;
  /** Reuse complete staged bundles of earlier runs instead of calling the API again. */
  reuseStaged: boolean;
  metadataCache: boolean;
  breaker: { window: number; threshold: number };
  shard?: { index: number; count: number };
  limit?: number;
  /** Counted from process start: the platform's task timeout counts from there too. */
  maxRuntimeMs?: number;
  maxRuntimeText?: string;
}

export interface RefreshSettings {
  overlapMs: number;
  /** Only wallets not refreshed for this long. */
  olderThanMs?: number;
  /** Only the wallets listed in this file (same formats as `traders import`). */
  walletsFile?: string;
  marketRefreshAfterMs: number;
  /** How fills are refreshed: by the global feed, per wallet, or whichever costs fewer requests (default). */
  via: (typeof REFRESH_VIAS)[number];
  /** Wallets seen in the feed above this volume (USDC) are added to `traders` (source `feed`). */
  discoverMinVolume?: number;
  /** Kept rows per staged chunk of a feed walk (one load and one committed resume point each). */
  feedChunkRows: number;
}

export const REFRESH_VIAS = ['auto', 'feed', 'wallets'] as const;

export interface BackfillConfig {
  warehouse: string;
  stage: string;
  duckdbMemoryLimit: string;
  source: SourceSettings;
  run: RunSettings;
  refresh: RefreshSettings;
  leaseTtlMs: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
  exitCodes: ExitCodeMode;
  /** The mission's retry budgets; fixed, listed here so there is one place to read them. */
  budgets: { loadAttempts: number; checkpointAttempts: number; retryBaseDelayMs: number; retryMaxDelayMs: number; retryDeadlineMs: number };
  shutdownDeadlineMs: number;
  /** How often a run publishes its status snapshot. */
  statusIntervalMs: number;
  /** Skip the start-up check that the GCS stage bucket lies inside the BigQuery dataset's location. */
  skipLocationCheck: boolean;
  /** Emulator endpoints (tests); unset in production, where the clients use Application Default Credentials. */
  endpoints: { gcs?: string; bigquery?: string };
}

/** Flag values as the CLI parser hands them over (strings, booleans, absent). */
export type Flags = Partial<Record<string, string | boolean | undefined>>;

/** Environment variables read, each documented in `backfill --help` and README. */
export const ENV = {
  warehouse: 'BACKFILL_WAREHOUSE',
  stage: 'BACKFILL_STAGE',
  logLevel: 'BACKFILL_LOG_LEVEL',
  logFormat: 'BACKFILL_LOG_FORMAT',
  exitCodes: 'BACKFILL_EXIT_CODES',
  rateLimits: 'BACKFILL_RATE_LIMITS',
  activityTypes: 'BACKFILL_ACTIVITY_TYPES',
  duckdbMemoryLimit: 'BACKFILL_DUCKDB_MEMORY_LIMIT',
  dataApiUrl: 'POLYMARKET_DATA_API_URL',
  gammaApiUrl: 'POLYMARKET_GAMMA_API_URL',
  gcsEndpoint: 'BACKFILL_GCS_API_ENDPOINT',
  bigqueryEndpoint: 'BACKFILL_BIGQUERY_API_ENDPOINT',
  statusInterval: 'BACKFILL_STATUS_INTERVAL',
  skipLocationCheck: 'BACKFILL_SKIP_LOCATION_CHECK',
} as const;

/** Cloud Logging's format on Cloud Run, readable lines on a terminal, JSON lines otherwise. */
export function defaultLogFormat(env: NodeJS.ProcessEnv, stderrIsTty: boolean): LogFormat {
  return onCloudRun(env) ? 'gcp' : stderrIsTty ? 'pretty' : 'json';
}

/** True on Cloud Run (a job or a service), where logs go to Cloud Logging and exits are judged by the console. */
export function onCloudRun(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.CLOUD_RUN_JOB || env.K_SERVICE);
}

export function resolveConfig(flags: Flags = {}, env: NodeJS.ProcessEnv = process.env, options: { stderrIsTty?: boolean } = {}): BackfillConfig {
  const text = (flag: string, envName?: string): string | undefined => {
    const value = flags[flag];
    if (typeof value === 'string') return value;
    return envName ? env[envName] : undefined;
  };
  const rateLimitSpec = text('rateLimit', ENV.rateLimits);
  const rateLimits = { ...DEFAULT_RATE_LIMITS, ...(rateLimitSpec ? parseRateLimitSpec(rateLimitSpec) : {}) };
  const concurrencyText = text('concurrency');
  const maxRuntimeText = text('maxRuntime');
  const limitText = text('limit');
  const shard = parseShard(text('shard'), env);
  const cloud = onCloudRun(env);
  return {
    warehouse: nonEmpty(text('warehouse', ENV.warehouse) ?? DEFAULTS.warehouse, '--warehouse'),
    stage: nonEmpty(text('stage', ENV.stage) ?? DEFAULTS.stage, '--stage'),
    duckdbMemoryLimit: env[ENV.duckdbMemoryLimit] ?? DEFAULTS.duckdbMemoryLimit,
    source: {
      // Refused here, before a lease or warehouse is touched, and never echoed with its secret.
      dataApiUrl: Checked.after(() => checkBaseUrl('--data-api-url', text('dataApiUrl', ENV.dataApiUrl) ?? DEFAULTS.dataApiUrl, DEFAULTS.dataApiUrl)),
      gammaApiUrl: Checked.after(() => checkBaseUrl('--gamma-api-url', text('gammaApiUrl', ENV.gammaApiUrl) ?? DEFAULTS.gammaApiUrl, DEFAULTS.gammaApiUrl)),
      maxResponseBytes: Checked.after(() => parseMaxResponseBytes(text('maxResponseBytes') ?? String(DEFAULT_MAX_RESPONSE_BYTES), '--max-response-bytes')),
      maxPagesPerWallet: Checked.after(() => parseMaxPagesPerWallet(text('maxPagesPerWallet') ?? String(DEFAULT_MAX_PAGES_PER_WALLET), '--max-pages-per-wallet')),
      timeoutMs: durationIn(text('timeout') ?? DEFAULTS.timeout, '--timeout', BOUNDS.timeoutMs),
      maxAttempts: intIn(text('maxAttempts') ?? String(DEFAULTS.maxAttempts), '--max-attempts', BOUNDS.maxAttempts),
      rateLimits,
      activityTypes: checkActivityTypes(text('activityTypes', ENV.activityTypes)?.split(',') ?? undefined),
    },
    run: {
      concurrency: concurrencyText ? intIn(concurrencyText, '--concurrency', BOUNDS.concurrency) : defaultConcurrency(rateLimits['data:trades']),
      commitEvery: intIn(text('commitEvery') ?? String(DEFAULTS.commitEvery), '--commit-every', BOUNDS.commitEvery),
      commitIntervalMs: durationIn(text('commitInterval') ?? DEFAULTS.commitInterval, '--commit-interval', BOUNDS.commitIntervalMs),
      maxFailedAttempts: intIn(text('maxFailedAttempts') ?? String(DEFAULTS.maxFailedAttempts), '--max-failed-attempts', BOUNDS.maxFailedAttempts),
      retryParked: flags.retryParked === true,
      reuseStaged: flags.refetch !== true,
      metadataCache: flags.metadataCache !== false,
      breaker: {
        window: intIn(text('breakerWindow') ?? String(DEFAULTS.breakerWindow), '--breaker-window', BOUNDS.breakerWindow),
        threshold: fraction(text('breakerThreshold') ?? String(DEFAULTS.breakerThreshold), '--breaker-threshold'),
      },
      ...(shard ? { shard } : {}),
      ...(limitText ? { limit: intIn(limitText, '--limit', BOUNDS.limit) } : {}),
      ...(maxRuntimeText ? { maxRuntimeMs: durationIn(maxRuntimeText, '--max-runtime', BOUNDS.maxRuntimeMs), maxRuntimeText } : {}),
    },
    refresh: {
      overlapMs: durationIn(text('overlap') ?? DEFAULTS.refreshOverlap, '--overlap', BOUNDS.refreshOverlapMs),
      marketRefreshAfterMs: durationIn(text('marketRefreshAfter') ?? DEFAULTS.marketRefreshAfter, '--market-refresh-after', BOUNDS.marketRefreshAfterMs),
      ...(text('olderThan') ? { olderThanMs: durationIn(text('olderThan')!, '--older-than', BOUNDS.olderThanMs) } : {}),
      ...(text('wallets') ? { walletsFile: text('wallets')! } : {}),
      via: refreshVia(oneOf(text('via') ?? 'auto', '--via', REFRESH_VIAS), text('wallets') !== undefined || text('olderThan') !== undefined),
      ...(text('discoverMinVolume') !== undefined ? { discoverMinVolume: positiveUsdc(text('discoverMinVolume')!, '--discover-min-volume') } : {}),
      feedChunkRows: intIn(text('feedChunkRows') ?? String(DEFAULTS.feedChunkRows), '--feed-chunk-rows', BOUNDS.feedChunkRows),
    },
    leaseTtlMs: durationIn(text('leaseTtl') ?? DEFAULTS.leaseTtl, '--lease-ttl', BOUNDS.leaseTtlMs),
    logLevel: oneOf(text('logLevel', ENV.logLevel) ?? DEFAULTS.logLevel, '--log-level', LOG_LEVELS),
    logFormat: oneOf(text('logFormat', ENV.logFormat) ?? defaultLogFormat(env, options.stderrIsTty === true), '--log-format', LOG_FORMATS),
    exitCodes: oneOf(text('exitCodes', ENV.exitCodes) ?? (cloud ? 'schedule' : 'strict'), '--exit-codes', EXIT_CODE_MODES),
    budgets: {
      loadAttempts: DEFAULTS.loadAttempts,
      checkpointAttempts: DEFAULTS.checkpointAttempts,
      retryBaseDelayMs: DEFAULTS.retryBaseDelayMs,
      retryMaxDelayMs: DEFAULTS.retryMaxDelayMs,
      retryDeadlineMs: DEFAULTS.retryDeadlineMs,
    },
    shutdownDeadlineMs: DEFAULTS.shutdownDeadlineMs,
    statusIntervalMs: durationIn(env[ENV.statusInterval] ?? DEFAULTS.statusInterval, ENV.statusInterval, BOUNDS.statusIntervalMs),
    skipLocationCheck: env[ENV.skipLocationCheck] === '1',
    endpoints: {
      ...(env[ENV.gcsEndpoint] ? { gcs: env[ENV.gcsEndpoint] } : {}),
      ...(env[ENV.bigqueryEndpoint] ? { bigquery: env[ENV.bigqueryEndpoint] } : {}),
    },
  };
}

/** `--wallets` and `--older-than` narrow a per-wallet refresh: auto goes per wallet, and feed is refused with them. */
function refreshVia(via: RefreshSettings['via'], narrowed: boolean): RefreshSettings['via'] {
  if (!narrowed) return via;
  if (via === 'feed') {
    throw new ConfigError('--via feed refreshes every tracked wallet the feed saw; --wallets and --older-than narrow a per-wallet refresh', {
      hint: 'Drop --via feed (auto then refreshes those wallets per wallet), or drop --wallets/--older-than',
    });
  }
  return 'wallets';
}

function positiveUsdc(value: string, option: string): number {
  const usdc = Number(value);
  if (!Number.isFinite(usdc) || usdc <= 0 || value.trim() === '') {
    throw new ConfigError(`${option} must be a positive amount of USDC, got ${JSON.stringify(value)}`, { hint: `e.g. ${option} 10000` });
  }
  return usdc;
}

/**
 * Enough wallets in flight to keep the trades limiter busy through ~1 s of latency per page, and half as many again:
 * a wallet's fills, activity and combo walks run side by side, so it waits for the slowest of three answers.
 */
export function defaultConcurrency(limit: RateLimit | undefined): number {
  if (!limit) throw new ConfigError('no rate limit configured for data:trades');
  const perSecond = (limit.requests * 1000) / limit.perMs;
  return Math.max(2, Math.min(64, Math.ceil(perSecond * 1.5)));
}

/** `--shard 2/8`, else Cloud Run's task index and count, else no sharding. */
export function parseShard(spec: string | undefined, env: NodeJS.ProcessEnv = process.env): { index: number; count: number } | undefined {
  const text = spec ?? (env.CLOUD_RUN_TASK_COUNT ? `${env.CLOUD_RUN_TASK_INDEX ?? '0'}/${env.CLOUD_RUN_TASK_COUNT}` : undefined);
  if (text === undefined) return undefined;
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || count > 10_000 || index >= count) {
    throw new ConfigError(`--shard ${JSON.stringify(text)} is not a shard`, { hint: 'Use i/n with 0 <= i < n <= 10000, e.g. --shard 0/4' });
  }
  return count === 1 ? undefined : { index, count };
}

export function durationIn(value: string, option: string, [min, max]: readonly [number, number]): number {
  const ms = parseDuration(value, option);
  if (ms < min || ms > max) {
    throw new ConfigError(`${option} ${JSON.stringify(value)} is out of range`, { hint: `Allowed: ${formatMs(min)} to ${formatMs(max)}` });
  }
  return ms;
}

export function intIn(value: string, option: string, [min, max]: readonly [number, number]): number {
  const n = Number(value.trim());
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${option} ${JSON.stringify(value)} must be a whole number from ${min} to ${max === Number.MAX_SAFE_INTEGER ? 'any size' : max}`);
  }
  return n;
}

function fraction(value: string, option: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 1) throw new ConfigError(`${option} ${JSON.stringify(value)} must be a number in (0, 1]`);
  return n;
}

export function oneOf<T extends string>(value: string, option: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(`${option} ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
}

function nonEmpty(value: string, option: string): string {
  if (value.trim() === '') throw new ConfigError(`${option} is empty`);
  return value;
}

function formatMs(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
