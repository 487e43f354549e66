import { Command } from 'commander';

import { RunEvents } from '../../engine/run-events.js';
import { reloadStaged } from '../../engine/reload-staged.js';
import { EXIT } from '../exit-codes.js';
import { addGlobalOptions } from '../global-options.js';
import type { GlobalOptions } from '../global-options.js';
import { createLogger } from '../logger.js';
import { attachProgress } from '../progress-display.js';
import { withRunLease } from '../run-lease.js';
import { commitPolicyFrom } from './run.js';

interface ReloadOptions extends GlobalOptions {
  includeParked?: boolean;
  commitEvery: string;
  commitInterval: string;
  maxFailedAttempts: string;
  leaseTtl: string;
}

export function reloadCommand(): Command {
  return addGlobalOptions(new Command('reload'))
    .description('load failed wallets again from their staged files, without calling the API')
    .option('--include-parked', 'also reload parked wallets')
    .option('--commit-every <n>', 'wallets per load + MERGE', '50')
    .option('--commit-interval <duration>', '…or this long after the first wallet', '1s')
    .option('--max-failed-attempts <n>', 'failed runs after which a wallet is parked', '5')
    .option('--lease-ttl <duration>', 'run lease time to live', '60s')
    .action(async (options: ReloadOptions) => {
      const logger = createLogger(options.logLevel);
      process.exitCode = await withRunLease(options, undefined, async ({ stage, warehouse }, runId) => {
        const events = new RunEvents();
        const detach = attachProgress(events, logger, { tty: Boolean(process.stderr.isTTY) });
        const summary = await reloadStaged(
          { stage, warehouse, events },
          {
            runId,
            includeParked: Boolean(options.includeParked),
            commit: commitPolicyFrom(options),
          },
        );
        detach();
        process.stdout.write(
          `reloaded ${summary.reloaded - summary.failed} wallet(s) from staged files (${summary.trades} trades), ` +
            `${summary.failed} failed again, ${summary.withoutStagedFiles.length} without a complete staged bundle ` +
            `(run \`backfill run\` to fetch those)\n`,
        );
        return summary.failed > 0 ? EXIT.someFailed : EXIT.ok;
      });
    });
}
