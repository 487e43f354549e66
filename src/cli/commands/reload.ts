import { Command } from 'commander';

import { RunEvents } from '../../engine/run-events.js';
import type { Flags } from '../../library/config.js';
import { reloadExitCode } from '../exit-codes.js';
import { addStoreOptions, withBackfill } from '../options.js';
import { attachProgress } from '../progress-display.js';
import { safeText } from '../terminal-text.js';
import { printLockHeld } from './run.js';

export function reloadCommand(): Command {
  return addStoreOptions(new Command('reload'))
    .description('load failed wallets again from their staged files, without calling the API')
    .option('--include-parked', 'also reload parked wallets')
    .option('--commit-every <n>', 'wallets per load + MERGE')
    .option('--commit-interval <duration>', '…or this long after the first wallet')
    .option('--max-failed-attempts <n>', 'failed runs after which a wallet is parked')
    .option('--lease-ttl <duration>', 'run lease time to live')
    .option('--exit-codes <mode>', 'strict|schedule')
    .action(async (flags: Flags) => {
      process.exitCode = await withBackfill(flags, async (backfill, logger) => {
        const events = new RunEvents();
        const detach = attachProgress(events, logger, { tty: Boolean(process.stderr.isTTY) });
        let result;
        try {
          result = await backfill.reload({ includeParked: flags.includeParked === true, events });
        } finally {
          detach();
        }
        if (result.kind === 'lock-held') {
          printLockHeld(result, false, logger);
        } else {
          const summary = result.summary;
          for (const d of summary.damaged) process.stdout.write(`damaged staged files of ${safeText(d.wallet)}: ${safeText(d.reason)}; not loaded (\`backfill run\` fetches it again)\n`);
          process.stdout.write(
            `reloaded ${summary.reloaded - summary.failed} wallet(s) from staged files (${summary.trades} trade(s) inserted), ` +
              `${summary.failed} failed again, ${summary.damaged.length} damaged, ${summary.withoutStagedFiles.length} without a complete staged bundle ` +
              `(run \`backfill run\` to fetch those)\n`,
          );
        }
        return reloadExitCode(result, backfill.config.exitCodes);
      });
    });
}
