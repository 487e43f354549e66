import cliProgress from 'cli-progress';

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
  events.on('wallet:loaded', ({ trades }) => {
    counts.loaded += 1;
    counts.trades += trades;
  });
  events.on('wallet:failed', ({ wallet, error, stage }) => {
    counts.failed += 1;
    logger.warn({ wallet, stage }, error);
  });
  events.on('wallet:damaged', ({ wallet, reason }) => logger.warn({ event: 'staged_damaged', wallet }, `staged files of ${wallet} are damaged (${reason}); fetching it again`));
  events.on('checkpoint:failed', ({ wallets, error }) => logger.error({ wallets }, `checkpoint write failed after retries: ${error}`));
  events.on('run:stopping', ({ reason }) => logger.warn(`stopping: ${reason}; finishing in-flight wallets and committing`));

  if (options.tty) {
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
  const timer = setInterval(() => logger.info({ ...counts }, 'progress'), options.intervalMs ?? 10_000);
  timer.unref();
  return () => clearInterval(timer);
}
