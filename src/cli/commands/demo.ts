import { Command } from 'commander';

import { COMMAND_DEFAULTS, demoSettings } from '../../library/command-options.js';
import type { Flags } from '../../library/config.js';
import type { ChainPlan } from '../../simulator/index.js';
import { runExitCode } from '../exit-codes.js';
import { addRunOptions, withBackfill } from '../options.js';
import { auditAndReport } from './audit.js';
import { runAndReport } from './run.js';

/** What `demo --audit` plants in the simulated chain: two wallets whose chain the API does not match. */
const DEMO_CHAIN_PLAN: ChainPlan = { wallets: 2, missingFromApi: 2, underMinimum: 2, heldNotOnChain: 1, combo: 1 };

/**
 * The README's first command: a whole backfill with no network — the bundled simulator serves the
 * Polymarket protocol on loopback, the real engine fetches, stages, loads into DuckDB, checkpoints.
 * With --audit, then an audit of a few wallets against the simulator's Polygon, where differences
 * were planted in two wallets' chains.
 */
export function demoCommand(): Command {
  return addRunOptions(new Command('demo'))
    .description('backfill demo wallets from the bundled Polymarket simulator into a local DuckDB file')
    .option('--demo-wallets <n>', 'how many simulated wallets', String(COMMAND_DEFAULTS.demo.wallets))
    .option('--seed <n>', 'simulator seed', String(COMMAND_DEFAULTS.demo.seed))
    .option('--audit', `then audit ${COMMAND_DEFAULTS.demo.auditWallets} wallets against the simulated Polygon JSON-RPC, two of them with planted differences`)
    .action(async (flags: Flags) => {
      const demo = demoSettings(flags);
      // Loaded here, not with the CLI: the simulator (and viem, for its chain) is only this command's and sim's.
      const { startSimulator } = await import('../../simulator/index.js');
      const sim = await startSimulator({
        seed: demo.seed,
        wallets: demo.wallets,
        maxTradesPerWallet: demo.maxTradesPerWallet,
        ...(demo.auditWallets > 0 ? { chain: { plan: DEMO_CHAIN_PLAN, maxBlockRange: 10_000 } } : {}),
      });
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
          if (demo.auditWallets > 0) {
            const planted = sim.chain.planted().map((p) => p.wallet);
            const audited = [...planted, ...wallets.filter((w) => !planted.includes(w))].slice(0, Math.max(demo.auditWallets, planted.length));
            process.stdout.write(`audit: the simulated chain differs from the API for ${planted.join(', ')} (planted); ${audited.length - planted.length} other wallet(s) should match\n`);
            const summary = await auditAndReport(
              backfill,
              logger,
              { rpcUrl: sim.chain.url, wallets: { kind: 'list', wallets: audited }, concurrency: 4, restart: true, confirmations: COMMAND_DEFAULTS.audit.confirmations },
              flags.json === true,
            );
            const found = planted.every((w) => summary.incomplete.includes(w)) && summary.incomplete.every((w) => planted.includes(w));
            process.stdout.write(
              `audit ${found ? 'found exactly the wallets with planted differences' : 'did NOT find exactly the planted wallets'}; ` +
                `\`backfill audit --rpc <url> --warehouse ${String(demoFlags.warehouse)}\` would exit 2 naming them\n`,
            );
          }
          return runExitCode(result, backfill.config.exitCodes);
        });
      } finally {
        await sim.close();
      }
    });
}
