import { createRequire } from 'node:module';

import type CliProgress from 'cli-progress';

import type { RunEvents } from '../engine/run-events.js';
import type { Logger } from './logger.js';

/**
 * A live bar on a terminal, a log line every `intervalMs` otherwise (Cloud Run, CI, pipes).
 * Totals are unknown while the plan streams, so the bar counts wallets done against wallets planned.
 */
export function attachProgress(events: RunEvents, logger: Logger, options: { tty: boolean; intervalMs?: number }): () => void {
  const counts = { started: 0, loaded: 0, failed: 0, trades: 0, pages: 0 };
  events.on('wallet:start', () => (counts.started += 1));
  events.on('wallet:page', () => (counts.pages += 1));
  events.on('wallet:loaded', () => (counts.loaded += 1));
  // Rows inserted, not the wallets' totals: a refresh re-serves rows already held.
  events.on('batch:committed', ({ inserted }) => (counts.trades += inserted));
  // The `event` fields are what the deploy's log-based alerts filter on (deploy/60-alerts.sh).
  events.on('wallet:failed', ({ wallet, error, stage, kind }) => {
    counts.failed += 1;
    logger.warn({ event: 'wallet_failed', wallet, stage, error_kind: kind }, `wallet ${wallet} failed (${stage}): ${error}`);
  });
  events.on('wallet:damaged', ({ wallet, reason }) => logger.warn({ event: 'staged_damaged', wallet }, `staged files of ${wallet} are not reused (${reason}); fetching it again`));
  events.on('checkpoint:failed', ({ wallets, error }) => logger.error({ event: 'checkpoint_failed', wallets }, `checkpoint write failed after retries: ${error}`));
  events.on('run:stopping', ({ reason, kind }) => {
    const message = `stopping: ${reason}; finishing in-flight wallets and committing`;
    // A tripped breaker, a full disk or a lost lease need someone; a signal or the time limit do not.
    if (kind === 'circuit-breaker') logger.error({ event: 'circuit_breaker_open', stop_kind: kind }, message);
    else if (kind === 'unwritable' || kind === 'lease-lost') logger.error({ event: 'run_stopping', stop_kind: kind }, message);
    else logger.warn({ event: 'run_stopping', stop_kind: kind }, message);
  });
  events.on('markets:refreshed', ({ checked, resolved }) => logger.info({ event: 'markets_refreshed', checked, resolved }, `looked up ${checked} open market(s) again: ${resolved} resolved`));
  events.on('markets:failed', ({ markets, error }) => logger.warn({ event: 'markets_refresh_failed', markets }, `market refresh failed for ${markets} market(s): ${error}`));
  events.on('lookups:asked', ({ released, due, found, givenUp, groups, members, givenUpIds }) => {
    logger.info({ event: 'lookups_asked', released, due, found, given_up: givenUp, groups, members }, `asked Gamma again for ${describeLookups({ released, due, found, givenUp, groups, members })}`);
    if (givenUp > 0) {
      const sample = givenUpIds.slice(0, 5).join(', ');
      logger.warn(
        { event: 'lookups_given_up', given_up: givenUp },
        `gave up on ${givenUp} id(s) Gamma still does not know after their last look-up (${sample}${givenUp > 5 ? ', …' : ''}); they stay in unresolved_ids with given_up_at set`,
      );
    }
  });
  events.on('resolutions:failed', ({ markets, error }) => logger.warn({ event: 'resolutions_failed', markets }, `resolutions of ${markets} ended market(s) could not be asked: ${error}; asked again by the next run`));
  events.on('feed:decided', ({ via, reason }) => logger.info({ event: 'refresh_via', via }, reason));
  events.on('feed:walking', ({ downTo, tracked, outside, resumed }) =>
    logger.info({ event: 'feed_walk', down_to: downTo, tracked, outside, resumed }, `${resumed ? 'resuming' : 'walking'} the global trade feed down to ${downTo} for ${tracked} tracked wallet(s); ${outside} outside its window go per wallet`),
  );
  events.on('feed:chunk', ({ chunk, rows, pages, rowsKept, resumeTs }) =>
    logger.info(
      { event: 'feed_chunk', chunk, rows, pages, rows_kept: rowsKept, resume_ts: resumeTs },
      `feed walk: chunk ${chunk} of ${rows} row(s) loaded and committed after ${pages} page(s) (${rowsKept} kept so far); a killed walk resumes from ${resumeTs === null ? 'the newest row' : new Date(resumeTs * 1000).toISOString()}`,
    ),
  );
  events.on('feed:unfit', ({ reason }) => logger.warn({ event: 'feed_unfit' }, reason));
  events.on('lookups:failed', ({ released, due, groups, error }) =>
    logger.warn({ event: 'lookups_failed', released, due, groups }, `asking Gamma again for ${released + due + groups} id(s) failed: ${error}; due ids stay due for the next run`),
  );

  if (options.tty) {
    // Loaded only for a terminal; required because it is CommonJS (see cli/logger.ts).
    const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof CliProgress;
    const bar = new cliProgress.SingleBar(
      {
        format: '{bar} wallets {value}/{total} | loaded {loaded} failed {failed} | trades {trades} | {duration_formatted}',
        hideCursor: true,
        stream: process.stderr,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(0, 0, { loaded: 0, failed: 0, trades: 0 });
    const timer = setInterval(() => {
      bar.setTotal(counts.started);
      bar.update(counts.loaded + counts.failed, { loaded: counts.loaded, failed: counts.failed, trades: counts.trades });
    }, 200);
    return () => {
      clearInterval(timer);
      bar.setTotal(counts.started);
      bar.update(counts.loaded + counts.failed, { loaded: counts.loaded, failed: counts.failed, trades: counts.trades });
      bar.stop();
    };
  }
  const timer = setInterval(
    () => logger.info({ event: 'progress', ...counts }, `progress: ${counts.loaded} wallet(s) loaded, ${counts.failed} failed, ${counts.trades} trades, ${counts.started} started`),
    options.intervalMs ?? 10_000,
  );
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * `2 unresolved id(s) due (1 found, 0 given up), 1 id(s) released by failed wallets[, 3 neg-risk group(s) asked for
 * their members (12 member market(s) loaded)]`: the end of a run's look-ups, as the log and the summary say it.
 */
export function describeLookups(l: { released: number; due: number; found: number; givenUp: number; groups: number; members: number }): string {
  const groups = l.groups > 0 ? `, ${l.groups} neg-risk group(s) asked for their members (${l.members} member market(s) loaded)` : '';
  return `${l.due} unresolved id(s) due (${l.found} found, ${l.givenUp} given up), ${l.released} id(s) released by failed wallets${groups}`;
}
