import { Command } from 'commander';

import { startBackfill } from '../../engine/backfill-run.js';
import type { BackfillOptions } from '../../engine/backfill-run.js';
import type { CommitPolicy } from '../../engine/commit-batcher.js';
import type { RunSummary } from '../../engine/run-summary.js';
import { parseDuration, parsePositiveInt } from '../../lib/duration.js';
import { ConfigError, describeError } from '../../lib/errors.js';
import {
  checkBaseUrl,
  createPolymarketSource,
  DEFAULT_DATA_API_URL,
  DEFAULT_GAMMA_API_URL,
  DEFAULT_RATE_LIMITS,
  parseMaxPagesPerWallet,
  parseMaxResponseBytes,
  parseRateLimitSpec,
} from '../../polymarket/index.js';
import type { PolymarketSourceConfig } from '../../polymarket/index.js';
import { EXIT } from '../exit-codes.js';
import { addGlobalOptions } from '../global-options.js';
import type { Backends, GlobalOptions } from '../global-options.js';
import type { Logger } from '../logger.js';
import { withRunLease } from '../run-lease.js';

/** Under Cloud Run's 10 s between SIGTERM and SIGKILL. */
const SHUTDOWN_DEADLINE_MS = 8_000;
import { attachProgress } from '../progress-display.js';

export interface RunCommandOptions extends GlobalOptions {
  concurrency?: string;
  commitEvery: string;
  commitInterval: string;
  maxFailedAttempts: string;
  retryParked?: boolean;
  refetch?: boolean;
  limit?: string;
  maxRuntime?: string;
  dataApiUrl: string;
  gammaApiUrl: string;
  rateLimit?: string;
  timeout: string;
  maxAttempts: string;
  maxResponseBytes: string;
  maxPagesPerWallet: string;
  json?: boolean;
  shard?: string;
  leaseTtl: string;
  breakerWindow: string;
  breakerThreshold: string;
  metadataCache: boolean;
}

/** Registers the options of `backfill run` (shared with `backfill demo`). */
export function addRunOptions(command: Command): Command {
  return addGlobalOptions(command)
    .option('--concurrency <n>', 'wallets fetched at once (default: sized from the trades rate limit)')
    .option('--commit-every <n>', 'commit (load + MERGE) once this many wallets are staged', '50')
    .option('--commit-interval <duration>', '…or this long after the first staged wallet', '2s')
    .option('--max-failed-attempts <n>', 'failed runs after which a wallet is parked', '5')
    .option('--retry-parked', 'also retry parked wallets')
    .option('--refetch', 'ignore complete staged files of earlier runs and call the API again')
    .option('--limit <n>', 'process at most this many wallets')
    .option('--max-runtime <duration>', 'stop taking wallets after this long, commit, exit 3 (e.g. 50m)')
    .option('--data-api-url <url>', 'Data API base URL (env POLYMARKET_DATA_API_URL)', process.env.POLYMARKET_DATA_API_URL ?? 'https://data-api.polymarket.com')
    .option('--gamma-api-url <url>', 'Gamma API base URL (env POLYMARKET_GAMMA_API_URL)', process.env.POLYMARKET_GAMMA_API_URL ?? 'https://gamma-api.polymarket.com')
    .option('--rate-limit <spec>', 'per-endpoint limits, e.g. data:trades=200/10s,gamma:markets=300/10s (env BACKFILL_RATE_LIMITS)', process.env.BACKFILL_RATE_LIMITS)
    .option('--timeout <duration>', 'per-request timeout', '30s')
    .option('--max-attempts <n>', 'attempts per API request, retries on 429/5xx/network included', '8')
    .option('--max-response-bytes <bytes>', 'cap on one API response body, compressed or not (1MB..1GB; KB/MB/GB are 1024-based); a wallet whose response is over it fails', '32MB')
    .option('--max-pages-per-wallet <n>', 'API pages (1000 fills each) after which a wallet fails instead of paging on (1..1000000)', '20000')
    .option('--shard <i/n>', 'process only hash shard i of n (default from CLOUD_RUN_TASK_INDEX/CLOUD_RUN_TASK_COUNT)')
    .option('--lease-ttl <duration>', 'run lease time to live; a crashed runner is taken over after this', '60s')
    .option('--breaker-window <n>', 'circuit breaker: recent wallets looked at', '20')
    .option('--breaker-threshold <fraction>', 'circuit breaker: share of outage failures that stops the run', '0.8')
    .option('--no-metadata-cache', 'look up every wallet\'s markets and events on its own (to measure what sharing saves)')
    .option('--json', 'print the run summary as JSON on stdout');
}

/** `--shard 2/8`, else Cloud Run's task index and count, else no sharding. */
export function parseShard(spec: string | undefined, env = process.env): { index: number; count: number } | undefined {
  const text = spec ?? (env.CLOUD_RUN_TASK_COUNT ? `${env.CLOUD_RUN_TASK_INDEX ?? '0'}/${env.CLOUD_RUN_TASK_COUNT}` : undefined);
  if (text === undefined) return undefined;
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index >= count) {
    throw new ConfigError(`--shard ${JSON.stringify(text)} is not a shard`, { hint: 'Use i/n with 0 <= i < n, e.g. --shard 0/4' });
  }
  return count === 1 ? undefined : { index, count };
}

export function runCommand(): Command {
  return addRunOptions(new Command('run'))
    .description('backfill every wallet in traders that is not loaded yet; resumes where the last run stopped')
    .action(async (options: RunCommandOptions) => {
      const settings = parseRunSettings(options);
      process.exitCode = await withRunLease(options, settings.backfill.shard, async (backends, runId, lost) =>
        exitCodeFor(await executeRun(settings, backends, runId, lost)),
      );
    });
}

/** The mission's budgets (loads 3 attempts, checkpoint writes 5) plus the batching options. */
export function commitPolicyFrom(options: { commitEvery: string; commitInterval: string; maxFailedAttempts: string }): CommitPolicy {
  return {
    maxWallets: parsePositiveInt(options.commitEvery, '--commit-every'),
    maxDelayMs: parseDuration(options.commitInterval, '--commit-interval'),
    loadAttempts: 3,
    checkpointAttempts: 5,
    retryBaseDelayMs: 1_000,
    retryMaxDelayMs: 30_000,
    maxFailedAttempts: parsePositiveInt(options.maxFailedAttempts, '--max-failed-attempts'),
  };
}

export function exitCodeFor(summary: RunSummary): number {
  if (summary.outcome === 'stopped') return EXIT.stoppedEarly;
  if (summary.outcome === 'some-failed') return EXIT.someFailed;
  return EXIT.ok;
}

/** Everything `run` needs, parsed and checked before the lease is taken or the warehouse opened. */
export interface RunSettings {
  source: Omit<PolymarketSourceConfig, 'logger'>;
  backfill: Omit<BackfillOptions, 'runId'>;
  maxRuntime: { ms: number; text: string } | undefined;
  json: boolean;
}

export function parseRunSettings(options: RunCommandOptions): RunSettings {
  const rateLimits = options.rateLimit ? parseRateLimitSpec(options.rateLimit) : {};
  const shard = parseShard(options.shard);
  return {
    source: {
      dataApiUrl: checkBaseUrl('--data-api-url', options.dataApiUrl, DEFAULT_DATA_API_URL),
      gammaApiUrl: checkBaseUrl('--gamma-api-url', options.gammaApiUrl, DEFAULT_GAMMA_API_URL),
      maxResponseBytes: parseMaxResponseBytes(options.maxResponseBytes, '--max-response-bytes'),
      maxPagesPerWallet: parseMaxPagesPerWallet(options.maxPagesPerWallet, '--max-pages-per-wallet'),
      timeoutMs: parseDuration(options.timeout, '--timeout'),
      maxAttempts: parsePositiveInt(options.maxAttempts, '--max-attempts'),
      rateLimits,
    },
    backfill: {
      concurrency: options.concurrency
        ? parsePositiveInt(options.concurrency, '--concurrency')
        : defaultConcurrency({ ...DEFAULT_RATE_LIMITS, ...rateLimits }['data:trades']),
      commit: commitPolicyFrom(options),
      retryParked: Boolean(options.retryParked),
      reuseStaged: !options.refetch,
      metadataCache: options.metadataCache !== false,
      breaker: {
        window: parsePositiveInt(options.breakerWindow, '--breaker-window'),
        threshold: parseFraction(options.breakerThreshold, '--breaker-threshold'),
      },
      ...(shard ? { shard } : {}),
      ...(options.limit ? { limit: parsePositiveInt(options.limit, '--limit') } : {}),
    },
    maxRuntime: options.maxRuntime ? { ms: parseDuration(options.maxRuntime, '--max-runtime'), text: options.maxRuntime } : undefined,
    json: Boolean(options.json),
  };
}

export async function executeRun(
  settings: RunSettings,
  { stage, warehouse, logger }: Backends,
  runId: string,
  leaseLost: AbortSignal,
): Promise<RunSummary> {
  const source = createPolymarketSource({ ...settings.source, logger });
  const backfillOptions: BackfillOptions = { ...settings.backfill, runId };
  const run = startBackfill({ source, stage, warehouse }, backfillOptions);
  logger.info(
    { runId: run.runId, warehouse: warehouse.description, stage: stage.location, concurrency: backfillOptions.concurrency },
    'run started',
  );
  const detach = attachProgress(run.events, logger, { tty: Boolean(process.stderr.isTTY) });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      logger.error(`second ${signal}: exiting now; uncommitted wallets are redone next run`);
      process.exit(EXIT.stoppedEarly);
    }
    run.stop(`received ${signal}`);
    // Cloud Run sends SIGKILL 10 s after SIGTERM: whatever is not committed by then is redone next run.
    setTimeout(() => {
      logger.error(`graceful stop took longer than ${SHUTDOWN_DEADLINE_MS} ms; exiting`);
      process.exit(EXIT.stoppedEarly);
    }, SHUTDOWN_DEADLINE_MS).unref();
  };
  const onLeaseLost = () => run.stop(describeError(leaseLost.reason));
  leaseLost.addEventListener('abort', onLeaseLost);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const { maxRuntime } = settings;
  const runtimeTimer = maxRuntime && setTimeout(() => run.stop(`--max-runtime ${maxRuntime.text} reached`), maxRuntime.ms);
  try {
    const summary = await run.done;
    printSummary(summary, settings.json, logger);
    return summary;
  } finally {
    if (runtimeTimer) clearTimeout(runtimeTimer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    leaseLost.removeEventListener('abort', onLeaseLost);
    detach();
    await source.close();
  }
}

function parseFraction(text: string, option: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || value > 1) throw new ConfigError(`${option} ${JSON.stringify(text)} must be a number in (0, 1]`);
  return value;
}

/** Enough wallets in flight to keep the trades limiter busy through ~1 s of latency per page. */
export function defaultConcurrency(limit: { requests: number; perMs: number } | undefined): number {
  if (!limit) throw new ConfigError('no rate limit configured for data:trades');
  const perSecond = (limit.requests * 1000) / limit.perMs;
  return Math.max(2, Math.min(64, Math.ceil(perSecond)));
}

function printSummary(summary: RunSummary, json: boolean, logger: Logger): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  logger.info(summary, 'run finished');
  process.stdout.write(
    `run ${summary.runId}: ${summary.outcome}${summary.stopReason ? ` (${summary.stopReason})` : ''} — ` +
      `${summary.loaded} wallet(s) loaded, ${summary.failed} failed, ${summary.invalid} invalid, ` +
      `${summary.trades} trades, ${(summary.durationMs / 1000).toFixed(1)} s\n`,
  );
}
