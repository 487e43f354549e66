import { Command } from 'commander';

import type { RunSummary } from '../../engine/run-summary.js';
import type { Flags } from '../../library/config.js';
import type { Backfill, LockHeld, RunResult } from '../../library/open-backfill.js';
import { RunEvents } from '../../engine/run-events.js';
import { runExitCode, summaryExitCode } from '../exit-codes.js';
import type { Logger } from '../logger.js';
import { addRefreshOptions, addRunOptions, withBackfill } from '../options.js';
import { DEFAULT_DASHBOARD_HOST, DEFAULT_DASHBOARD_PORT } from '../../dashboard/defaults.js';
import { dashboardAddress, serveDashboard } from './dashboard.js';
import { attachProgress, describeLookups } from '../progress-display.js';
import { safeText } from '../terminal-text.js';
import { ON_DEMAND_USD_PER_TIB } from '../../warehouse/warehouse.js';

export function runCommand(): Command {
  return addRefreshOptions(addRunOptions(new Command('run')))
    .description('backfill every wallet in traders that is not loaded yet; resumes where the last run stopped')
    .option('--refresh', 'then refresh completed wallets with what is left of --max-runtime (one scheduled job does both)')
    .option('--dashboard', 'serve the live dashboard while the run works (see `backfill dashboard`)')
    .option('--dashboard-port <n>', `its port (default ${DEFAULT_DASHBOARD_PORT}; 0 = any free port)`)
    .option('--dashboard-host <address>', `its listen address (default ${DEFAULT_DASHBOARD_HOST})`)
    .action(async (flags: Flags) => {
      const mode = flags.refresh === true ? 'run+refresh' : 'run';
      process.exitCode = await withBackfill(flags, async (backfill, logger) => {
        const dashboard = flags.dashboard === true ? await serveDashboard(backfill, logger, dashboardAddress(flags.dashboardPort, flags.dashboardHost, '--dashboard-port')) : undefined;
        try {
          return runExitCode(await runAndReport(backfill, logger, flags.json === true, mode), backfill.config.exitCodes);
        } finally {
          await dashboard?.close();
        }
      });
    });
}

/** One run with its progress display and its result printed; shared by `run`, `refresh` and `demo`. */
export async function runAndReport(backfill: Backfill, logger: Logger, json: boolean, mode: 'run' | 'run+refresh' | 'refresh' = 'run'): Promise<RunResult> {
  const events = new RunEvents();
  const detach = attachProgress(events, logger, { tty: Boolean(process.stderr.isTTY) });
  let result: RunResult;
  try {
    result = mode === 'refresh' ? await backfill.refresh({ events }) : await backfill.run({ events, refresh: mode === 'run+refresh' });
  } finally {
    detach();
  }
  if (result.kind === 'lock-held') {
    printLockHeld(result, json, logger);
  } else {
    printSummary(result.summary, json, logger, summaryExitCode(result.summary, backfill.config.exitCodes));
    if (result.refresh) printSummary(result.refresh, json, logger, summaryExitCode(result.refresh, backfill.config.exitCodes));
  }
  return result;
}

/** One human line on stdout as well as the log: a script must see that nothing was done, and why. */
export function printLockHeld(result: LockHeld, json: boolean, logger: Logger): void {
  const line = `another run holds the lock ${result.location}: ${result.holder.holder} (lease until ${result.holder.expiresAt}); nothing done`;
  logger.warn({ event: 'lock_held', lease: result.location, holder: result.holder.holder, expires_at: result.holder.expiresAt }, line);
  if (json) process.stdout.write(`${JSON.stringify({ outcome: 'lock-held', lease: result.location, holder: result.holder })}\n`);
  else process.stdout.write(`${safeText(line)}\n`);
}

function printSummary(summary: RunSummary, json: boolean, logger: Logger, exitCode: number): void {
  logger.info({ event: 'run_finished', ...summary, exit_code: exitCode }, `run finished: ${summary.outcome}, ${summary.loaded} loaded, ${summary.failed} failed, exit ${exitCode}`);
  if (json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  const markets = summary.markets ? `, ${summary.markets.checked} open market(s) looked up again (${summary.markets.resolved} resolved)` : '';
  process.stdout.write(
    `${summary.mode === 'refresh' ? 'refresh' : 'run'} ${summary.runId}: ${summary.outcome}${summary.stopReason ? ` (${safeText(summary.stopReason)})` : ''} — ` +
      `${summary.loaded} wallet(s) ${summary.mode === 'refresh' ? 'refreshed' : 'loaded'}, ${summary.failed} failed, ${summary.invalid} invalid, ` +
      `${summary.trades} ${summary.mode === 'refresh' ? 'new ' : ''}trades${markets}, ${(summary.durationMs / 1000).toFixed(1)} s\n`,
  );
  if (summary.lookups) {
    const failed = summary.lookups.failed ? `; failed: ${safeText(summary.lookups.failed)} (due ids stay due for the next run)` : '';
    process.stdout.write(`look-ups asked again: ${describeLookups(summary.lookups)}${failed}\n`);
  }
  if (summary.feed) process.stdout.write(`${describeFeed(summary.feed)}\n`);
  if (summary.activity > 0) process.stdout.write(`activity: ${summary.activity} ${summary.mode === 'refresh' ? 'new ' : ''}row(s) (splits, merges, redemptions, conversions, rewards, combos)\n`);
  if (summary.resolutions) {
    const failed = summary.resolutions.failed ? `; failed: ${safeText(summary.resolutions.failed)} (asked again by the next run)` : '';
    process.stdout.write(`resolutions: ${summary.resolutions.asked} ended market(s) asked, ${summary.resolutions.resolved} resolved${failed}\n`);
  }
  if (summary.stats) {
    const { recomputed, failedBatches, sweep } = summary.stats;
    // A library caller may still recompute per batch (CommitBatcher's `stats`); a run recomputes at its end.
    const parts = [
      ...(recomputed > 0 ? [`${recomputed} wallet(s) recomputed after their load`] : []),
      ...(sweep ? [`${sweep.wallets} stale wallet(s) recomputed at the end of the run (${sweep.written} changed)${sweep.failed ? `; stopped: ${safeText(sweep.failed)} (the rest stay stale for the next run)` : ''}`] : []),
      ...(failedBatches > 0 ? [`${failedBatches} batch recompute(s) failed (their wallets stay stale for the next run)`] : []),
    ];
    if (parts.length > 0) process.stdout.write(`profit figures: ${parts.join(', ')} (see: backfill stats)\n`);
  }
  if (summary.bigquery) process.stdout.write(`${describeBilled('BigQuery this run', summary.bigquery)}\n`);
}

/** What a feed refresh did, in one line: the walk and what it saved, or why the refresh went per wallet. */
function describeFeed(feed: NonNullable<RunSummary['feed']>): string {
  if (feed.via === 'wallets') return `refresh via wallets: ${safeText(feed.reason)}`;
  const fallback = feed.fallback === 'all' ? 'all' : String(feed.fallback.length);
  return (
    `refresh via feed${feed.resumed ? ' (resumed)' : ''}: ${feed.pages} page(s), ${feed.rowsSeen} row(s) read, ${feed.rowsKept} kept for ` +
    `${feed.walletsTouched} of ${feed.tracked} tracked wallet(s); ${feed.covered} wallet(s) brought up to date without a request of their own, ` +
    `${fallback} outside the feed's window refreshed per wallet${feed.discovered > 0 ? `; ${feed.discovered} new wallet(s) discovered` : ''}`
  );
}

/** One line for bytes billed and what they cost at the on-demand price (as the summary holds it). */
function describeBilled(what: string, c: NonNullable<RunSummary['bigquery']>): string {
  return (
    `${what}: ${roundedBytes(c.bytesBilled)} billed (${roundedBytes(c.bytesProcessed)} processed) in ${c.jobs} job(s), ` +
    `≈ $${c.estimatedCostUsd.toFixed(4)} at $${ON_DEMAND_USD_PER_TIB}/TiB on-demand`
  );
}

/** `1536` → `1.5 KiB`: a size to read, rounded (unlike source-limits' exact formatBytes). */
function roundedBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
