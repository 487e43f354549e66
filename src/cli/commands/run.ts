import { Command } from 'commander';

import { startBackfill } from '../../engine/backfill-run.js';
import type { BackfillOptions } from '../../engine/backfill-run.js';
import type { RunSummary } from '../../engine/run-summary.js';
import { parseDuration, parsePositiveInt } from '../../lib/duration.js';
import { ConfigError } from '../../lib/errors.js';
import { createPolymarketSource, DEFAULT_RATE_LIMITS, parseRateLimitSpec } from '../../polymarket/index.js';
import type { PolymarketSourceConfig } from '../../polymarket/index.js';
import type { StageStore } from '../../staging/stage-store.js';
import type { Warehouse } from '../../warehouse/warehouse.js';
import { EXIT } from '../exit-codes.js';
import { addGlobalOptions, withBackends } from '../global-options.js';
import type { GlobalOptions } from '../global-options.js';
import type { Logger } from '../logger.js';
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
  json?: boolean;
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
    .option('--json', 'print the run summary as JSON on stdout');
}

export function runCommand(): Command {
  return addRunOptions(new Command('run'))
    .description('backfill every wallet in traders that is not loaded yet; resumes where the last run stopped')
    .action(async (options: RunCommandOptions) => {
      const summary = await withBackends(options, (backends) => executeRun(options, backends));
      process.exitCode = exitCodeFor(summary);
    });
}

export function exitCodeFor(summary: RunSummary): number {
  if (summary.outcome === 'stopped') return EXIT.stoppedEarly;
  if (summary.outcome === 'some-failed') return EXIT.someFailed;
  return EXIT.ok;
}

export async function executeRun(
  options: RunCommandOptions,
  { stage, warehouse, logger }: { stage: StageStore; warehouse: Warehouse; logger: Logger },
): Promise<RunSummary> {
  const rateLimits = options.rateLimit ? parseRateLimitSpec(options.rateLimit) : {};
  const tradesLimit = { ...DEFAULT_RATE_LIMITS, ...rateLimits }['data:trades'];
  const sourceConfig: PolymarketSourceConfig = {
    dataApiUrl: options.dataApiUrl,
    gammaApiUrl: options.gammaApiUrl,
    timeoutMs: parseDuration(options.timeout, '--timeout'),
    rateLimits,
    logger,
  };
  const source = createPolymarketSource(sourceConfig);
  const backfillOptions: BackfillOptions = {
    concurrency: options.concurrency
      ? parsePositiveInt(options.concurrency, '--concurrency')
      : defaultConcurrency(tradesLimit),
    commit: {
      maxWallets: parsePositiveInt(options.commitEvery, '--commit-every'),
      maxDelayMs: parseDuration(options.commitInterval, '--commit-interval'),
      loadAttempts: 3,
      checkpointAttempts: 5,
      retryBaseDelayMs: 1_000,
      retryMaxDelayMs: 30_000,
      maxFailedAttempts: parsePositiveInt(options.maxFailedAttempts, '--max-failed-attempts'),
    },
    retryParked: Boolean(options.retryParked),
    reuseStaged: !options.refetch,
    ...(options.limit ? { limit: parsePositiveInt(options.limit, '--limit') } : {}),
  };
  const maxRuntimeMs = options.maxRuntime ? parseDuration(options.maxRuntime, '--max-runtime') : undefined;

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
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const runtimeTimer = maxRuntimeMs === undefined ? undefined : setTimeout(() => run.stop(`--max-runtime ${options.maxRuntime} reached`), maxRuntimeMs);
  try {
    const summary = await run.done;
    printSummary(summary, Boolean(options.json), logger);
    return summary;
  } finally {
    if (runtimeTimer) clearTimeout(runtimeTimer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    detach();
    await source.close();
  }
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
