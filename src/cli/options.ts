import type { Command } from 'commander';

import { DEFAULT_ACTIVITY_TYPES } from '../polymarket/activity-rows.js';
import { DEFAULTS, ENV, resolveConfig } from '../library/config.js';
import type { BackfillConfig, Flags } from '../library/config.js';
import type { Backfill } from '../library/open-backfill.js';
import { createLogger } from './logger.js';
import type { Logger } from './logger.js';

/**
 * Flags only: no default is set here. resolveConfig holds every default (printed in the help
 * texts below from the same constants) and applies environment variables beneath the flags.
 */
export function addStoreOptions(command: Command): Command {
  return command
    .option('--warehouse <path|uri>', `DuckDB file, or bigquery://PROJECT/DATASET?location=US (env ${ENV.warehouse}; default ${DEFAULTS.warehouse})`)
    .option('--stage <dir|uri>', `staging directory, or gs://BUCKET/PREFIX (env ${ENV.stage}; default ${DEFAULTS.stage})`)
    .option('--log-level <level>', `fatal|error|warn|info|debug|trace|silent (env ${ENV.logLevel}; default ${DEFAULTS.logLevel})`)
    .option('--log-format <format>', `json|pretty|gcp (env ${ENV.logFormat}; default gcp on Cloud Run, pretty on a terminal, json otherwise)`);
}

/** The options of `backfill run` (shared with `backfill demo`). */
export function addRunOptions(command: Command): Command {
  return addStoreOptions(command)
    .option('--concurrency <n>', 'wallets fetched at once, 1-256 (default: sized from the trades rate limit)')
    .option('--commit-every <n>', `commit (load + MERGE) once this many wallets are staged (default ${DEFAULTS.commitEvery})`)
    .option('--commit-interval <duration>', `…or this long after the first staged wallet (default ${DEFAULTS.commitInterval})`)
    .option('--max-failed-attempts <n>', `failed runs after which a wallet is parked (default ${DEFAULTS.maxFailedAttempts})`)
    .option('--retry-parked', 'also retry parked wallets')
    .option('--refetch', 'ignore complete staged files of earlier runs and call the API again')
    .option('--limit <n>', 'process at most this many wallets')
    .option('--max-runtime <duration>', 'stop taking wallets this long after the process started, commit, exit (e.g. 24m)')
    .option('--data-api-url <url>', `Data API base URL (env ${ENV.dataApiUrl}; default ${DEFAULTS.dataApiUrl})`)
    .option('--gamma-api-url <url>', `Gamma API base URL (env ${ENV.gammaApiUrl}; default ${DEFAULTS.gammaApiUrl})`)
    .option('--rate-limit <spec>', `per-endpoint limits, e.g. data:trades=200/10s,gamma:markets=300/10s (env ${ENV.rateLimits})`)
    .option(
      '--activity-types <list>',
      `activity types fetched per wallet, comma-separated (env ${ENV.activityTypes}; default ${DEFAULT_ACTIVITY_TYPES.join(',')}; add DEPOSIT,WITHDRAWAL for cash moves, TRADE for the fees of fills)`,
    )
    .option('--timeout <duration>', `per-request timeout (default ${DEFAULTS.timeout})`)
    .option('--max-attempts <n>', `attempts per API request, retries on 429/5xx/network included (default ${DEFAULTS.maxAttempts})`)
    .option('--max-response-bytes <bytes>', 'cap on one API response body, compressed or not, 1MB-1GB (KB/MB/GB are 1024-based; default 32MB); a wallet whose response is over it fails')
    .option('--max-pages-per-wallet <n>', 'API pages (1000 fills each) after which a wallet fails instead of paging on, 1-1000000 (default 20000)')
    .option('--shard <i/n>', 'process only hash shard i of n (default from CLOUD_RUN_TASK_INDEX/CLOUD_RUN_TASK_COUNT)')
    .option('--lease-ttl <duration>', `run lease time to live; a crashed runner on another host is taken over after this (default ${DEFAULTS.leaseTtl})`)
    .option('--breaker-window <n>', `circuit breaker: recent wallets looked at (default ${DEFAULTS.breakerWindow})`)
    .option('--breaker-threshold <fraction>', `circuit breaker: share of outage failures that stops the run (default ${DEFAULTS.breakerThreshold})`)
    .option('--exit-codes <mode>', `strict|schedule (env ${ENV.exitCodes}; default schedule on Cloud Run, strict otherwise)`)
    .option('--no-metadata-cache', "look up every wallet's markets and events on its own (to measure what sharing saves)")
    .option('--json', 'print the result as JSON on stdout');
}

/** The options of an incremental refresh (`backfill refresh`, `backfill run --refresh`). */
export function addRefreshOptions(command: Command): Command {
  return command
    .option('--wallets <file>', 'refresh only the wallets listed in this file (one per line, or CSV with wallet_address)')
    .option('--older-than <duration>', 'refresh only wallets not refreshed for this long, e.g. 6h')
    .option('--overlap <duration>', `each window starts this long before the newest fill held (default ${DEFAULTS.refreshOverlap})`)
    .option('--market-refresh-after <duration>', `look markets held as open up again after this long, or once their end date passed (default ${DEFAULTS.marketRefreshAfter})`)
    .option('--via <how>', 'auto|feed|wallets: tail the global trade feed, walk each wallet, or whichever costs fewer requests (default auto; per wallet with --wallets/--older-than)')
    .option('--discover-min-volume <usdc>', 'with the feed: add wallets seen trading at least this much (USDC) in the walked window to traders (source feed)')
    .option('--feed-chunk-rows <n>', `with the feed: kept rows per staged chunk, each one load and one committed resume point (default ${DEFAULTS.feedChunkRows})`);
}

/** The configuration for these flags, and the one logger of the process. */
export function configure(flags: Flags): { config: BackfillConfig; logger: Logger } {
  const config = resolveConfig(flags, process.env, { stderrIsTty: Boolean(process.stderr.isTTY) });
  return { config, logger: createLogger(config) };
}

/** Runs `work` with the library opened on these flags; always closes it. */
export async function withBackfill<T>(flags: Flags, work: (backfill: Backfill, logger: Logger) => Promise<T>): Promise<T> {
  const { config, logger } = configure(flags);
  const { openBackfill } = await import('../library/open-backfill.js');
  const backfill = openBackfill(config, { logger, stopSignals: { forceExit: (code) => process.exit(code) } });
  try {
    return await work(backfill, logger);
  } finally {
    await backfill.close();
  }
}
