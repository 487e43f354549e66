import { Command } from 'commander';

import type { Flags } from '../../library/config.js';
import { runExitCode } from '../exit-codes.js';
import { addRefreshOptions, addRunOptions, withBackfill } from '../options.js';
import { runAndReport } from './run.js';

export function refreshCommand(): Command {
  return addRefreshOptions(addRunOptions(new Command('refresh')))
    .description(
      'fetch what is new for every completed wallet (fills since its newest held, minus an overlap) and the resolutions of markets held as open',
    )
    .action(async (flags: Flags) => {
      process.exitCode = await withBackfill(flags, async (backfill, logger) =>
        runExitCode(await runAndReport(backfill, logger, flags.json === true, 'refresh'), backfill.config.exitCodes),
      );
    });
}
