import { Command } from 'commander';

import { COMMAND_BOUNDS, COMMAND_DEFAULTS, leaderboardQuery } from '../../library/command-options.js';
import { ENV } from '../../library/config.js';
import type { Flags } from '../../library/config.js';
import { LEADERBOARD_ORDERS, LEADERBOARD_PERIODS } from '../../polymarket/leaderboard.js';
import { EXIT } from '../exit-codes.js';
import { addStoreOptions, withBackfill } from '../options.js';
import { safeText } from '../terminal-text.js';

export function tradersCommand(): Command {
  const board = COMMAND_DEFAULTS.leaderboard;
  const traders = new Command('traders').description('manage the wallet list (the traders table)');

  addStoreOptions(traders.command('add'))
    .description('add wallet addresses to the traders table')
    .argument('<address...>', 'proxy wallet addresses (0x + 40 hex)')
    .action(async (addresses: string[], flags: Flags) => {
      await withBackfill(flags, async (backfill) => {
        const added = await backfill.addTraders(addresses, 'cli');
        process.stdout.write(`added ${added} new wallet(s) (${addresses.length - added} already listed)\n`);
      });
    });

  addStoreOptions(traders.command('import'))
    .description('import wallets from a file: one address per line, or CSV with a wallet_address column')
    .argument('<file>', 'path to the file')
    .action(async (file: string, flags: Flags) => {
      await withBackfill(flags, async (backfill) => {
        const totals = await backfill.importTraders(file, (r) => process.stderr.write(`${safeText(file)}:${r.line}: rejected: ${safeText(r.reason)}\n`));
        process.stdout.write(
          `read ${totals.read} line(s): added ${totals.added} new wallet(s), ` +
            `${totals.valid - totals.added} already listed or repeated, ${totals.rejected} rejected\n`,
        );
        if (totals.rejected > 0) process.exitCode = EXIT.someFailed;
      });
    });

  addStoreOptions(traders.command('discover'))
    .description("add the wallets of Polymarket's public trader leaderboard (Data API /v2/leaderboard)")
    .requiredOption('--leaderboard', 'discover from the trader leaderboard')
    .option('--category <name>', 'overall, or a market category such as sports, politics, crypto', board.category)
    .option('--period <period>', `time period: ${LEADERBOARD_PERIODS.join('|')}`, board.period)
    .option('--order-by <order>', `rank by ${LEADERBOARD_ORDERS.join('|')}`, board.orderBy)
    .option('--count <n>', `how many wallets at most (${COMMAND_BOUNDS.leaderboardCount.join('-')})`, String(board.count))
    .option('--data-api-url <url>', `Data API base URL (env ${ENV.dataApiUrl})`)
    .action(async (flags: Flags) => {
      // Parsed before the warehouse is opened: a bad option fails at once.
      const query = leaderboardQuery(flags);
      await withBackfill(flags, async (backfill) => {
        const result = await backfill.discoverLeaderboard(query);
        process.stdout.write(`leaderboard ${result.source}: ${result.found} wallet(s) found, ${result.added} new in traders\n`);
        if (result.stopped !== undefined) {
          // The wallets found are a true prefix of the board and were added; fewer than asked is a partial result.
          process.stderr.write(
            `warning: the leaderboard stopped making progress, so discovery stopped at ${result.found} of the ${query.limit} wallet(s) asked for; those found were added: ${safeText(result.stopped)}\n`,
          );
          process.exitCode = EXIT.someFailed;
        }
      });
    });

  return traders;
}
