import { Command } from 'commander';

import { parsePositiveInt } from '../../lib/duration.js';
import { startSimulator } from '../../simulator/index.js';
import { withRunLease } from '../run-lease.js';
import { DEFAULT_STAGE, DEFAULT_WAREHOUSE } from '../backends.js';
import { addRunOptions, executeRun, exitCodeFor, parseRunSettings } from './run.js';
import type { RunCommandOptions } from './run.js';

/**
 * The README's first command: a whole backfill with no network — the bundled simulator serves the
 * Polymarket protocol on loopback, the real engine fetches, stages, loads into DuckDB, checkpoints.
 */
export function demoCommand(): Command {
  return addRunOptions(new Command('demo'))
    .description('backfill demo wallets from the bundled Polymarket simulator into a local DuckDB file')
    .option('--demo-wallets <n>', 'how many simulated wallets', '300')
    .option('--seed <n>', 'simulator seed', '7')
    .action(async (options: RunCommandOptions & { demoWallets: string; seed: string }) => {
      // Demo data never mixes with a real warehouse unless the user points it there.
      if (options.warehouse === DEFAULT_WAREHOUSE && !process.env.BACKFILL_WAREHOUSE) options.warehouse = './data/demo/backfill.duckdb';
      if (options.stage === DEFAULT_STAGE && !process.env.BACKFILL_STAGE) options.stage = './data/demo/stage';
      const demoWallets = parsePositiveInt(options.demoWallets, '--demo-wallets');
      const sim = await startSimulator({
        seed: Number(options.seed),
        wallets: demoWallets,
        maxTradesPerWallet: 20_000,
      });
      try {
        const settings = parseRunSettings({ ...options, dataApiUrl: sim.url, gammaApiUrl: sim.url });
        process.exitCode = await withRunLease(options, settings.backfill.shard, async (backends, runId, lost) => {
          const wallets = sim.dataset.wallets();
          const added = await backends.warehouse.addTraders(wallets, 'demo');
          process.stdout.write(`simulator on ${sim.url}: ${wallets.length} wallets (${added} new in traders)\n`);
          const result = await executeRun(settings, backends, runId, lost);
          const s = await backends.warehouse.status();
          process.stdout.write(
            `status: completed ${s.completed} of ${s.total} (${s.percent_complete ?? 0}%), failed ${s.failed}, ` +
              `trades ${s.rows.trades}, markets ${s.rows.markets}, events ${s.rows.events}\n` +
              `warehouse ${backends.warehouse.description}; try: npx backfill status --warehouse ${options.warehouse}\n`,
          );
          return exitCodeFor(result);
        });
      } finally {
        await sim.close();
      }
    });
}
