import { Command } from 'commander';

import { newRunId } from '../../engine/run-id.js';
import { RunEvents } from '../../engine/run-events.js';
import { reloadStaged } from '../../engine/reload-staged.js';
import { parseDuration, parsePositiveInt } from '../../lib/duration.js';
import { openStage } from '../backends.js';
import { EXIT } from '../exit-codes.js';
import { addGlobalOptions, withBackends } from '../global-options.js';
import type { GlobalOptions } from '../global-options.js';
import { createLogger } from '../logger.js';
import { attachProgress } from '../progress-display.js';
import { holderName, leaseName, takeRunLease } from '../run-lease.js';

interface ReloadOptions extends GlobalOptions {
  includeParked?: boolean;
  commitEvery: string;
  maxFailedAttempts: string;
  leaseTtl: string;
}

export function reloadCommand(): Command {
  return addGlobalOptions(new Command('reload'))
    .description('load failed wallets again from their staged files, without calling the API')
    .option('--include-parked', 'also reload parked wallets')
    .option('--commit-every <n>', 'wallets per load + MERGE', '50')
    .option('--max-failed-attempts <n>', 'failed runs after which a wallet is parked', '5')
    .option('--lease-ttl <duration>', 'run lease time to live', '60s')
    .action(async (options: ReloadOptions) => {
      const logger = createLogger(options.logLevel);
      const stage = openStage(options.stage);
      const runId = newRunId();
      const taken = await takeRunLease(stage, leaseName(options.warehouse, undefined), holderName(runId), parseDuration(options.leaseTtl, '--lease-ttl'), logger);
      if ('current' in taken) {
        process.stdout.write(`another run holds the lock ${taken.location}: ${taken.current.holder}; exiting\n`);
        return;
      }
      try {
        await withBackends(
          options,
          async ({ warehouse }) => {
            const events = new RunEvents();
            const detach = attachProgress(events, logger, { tty: Boolean(process.stderr.isTTY) });
            const summary = await reloadStaged(
              { stage, warehouse, events },
              {
                runId,
                includeParked: Boolean(options.includeParked),
                commit: {
                  maxWallets: parsePositiveInt(options.commitEvery, '--commit-every'),
                  maxDelayMs: 1_000,
                  loadAttempts: 3,
                  checkpointAttempts: 5,
                  retryBaseDelayMs: 1_000,
                  retryMaxDelayMs: 30_000,
                  maxFailedAttempts: parsePositiveInt(options.maxFailedAttempts, '--max-failed-attempts'),
                },
              },
            );
            detach();
            process.stdout.write(
              `reloaded ${summary.reloaded - summary.failed} wallet(s) from staged files (${summary.trades} trades), ` +
                `${summary.failed} failed again, ${summary.withoutStagedFiles.length} without a complete staged bundle ` +
                `(run \`backfill run\` to fetch those)\n`,
            );
            process.exitCode = summary.failed > 0 ? EXIT.someFailed : EXIT.ok;
          },
          stage,
        );
      } finally {
        await taken.held.release();
      }
    });
}
