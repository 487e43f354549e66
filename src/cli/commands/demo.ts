import { Command } from 'commander';

import { COMMAND_DEFAULTS, demoSettings } from '../../library/command-options.js';
import type { Flags } from '../../library/config.js';
import { startSimulator } from '../../simulator/index.js';
import { runExitCode } from '../exit-codes.js';
import { addRunOptions, withBackfill } from '../options.js';
import { runAndReport } from './run.js';

/**
 * The README's first command: a whole backfill with no network — the bundled simulator serves the
 * Polymarket protocol on loopback, the real engine fetches, stages, loads into DuckDB, checkpoints.
 */
export function demoCommand(): Command {
  return addRunOptions(new Command('demo'))
    .description('backfill demo wallets from the bundled Polymarket simulator into a local DuckDB file')
    .option('--demo-wallets <n>', 'how many simulated wallets', String(COMMAND_DEFAULTS.demo.wallets))
    .option('--seed <n>', 'simulator seed', String(COMMAND_DEFAULTS.demo.seed))
    .action(async (flags: Flags) => {
      const demo = demoSettings(flags);
      const sim = await startSimulator({ seed: demo.seed, wallets: demo.wallets, maxTradesPerWallet: demo.maxTradesPerWallet });
      try {
        const demoFlags: Flags = { ...demo.flags, dataApiUrl: sim.url, gammaApiUrl: sim.url };
        process.exitCode = await withBackfill(demoFlags, async (backfill, logger) => {
          const wallets = sim.dataset.wallets();
          const added = await backfill.addTraders(wallets, 'demo');
          process.stdout.write(`simulator on ${sim.url}: ${wallets.length} wallets (${added} new in traders)\n`);
          const result = await runAndReport(backfill, logger, flags.json === true);
          const s = await backfill.status({ failures: false });
          process.stdout.write(
            `status: completed ${s.completed} of ${s.total} (${s.percent_complete ?? 0}%), failed ${s.failed}, ` +
              `trades ${s.rows.trades}, markets ${s.rows.markets}, events ${s.rows.events}\n` +
              `warehouse ${s.warehouse}; try: npx backfill status --warehouse ${String(demoFlags.warehouse)}\n`,
          );
          return runExitCode(result, backfill.config.exitCodes);
        });
      } finally {
        await sim.close();
      }
    });
}
