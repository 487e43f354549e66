import { Command } from 'commander';

import { parseWalletAddress } from '../../domain/wallet-address.js';
import type { Flags } from '../../library/config.js';
import { ConfigError } from '../../lib/errors.js';
import { EXIT } from '../exit-codes.js';
import { ENV, intIn } from '../../library/config.js';
import { LEADERBOARD_ORDERS, LEADERBOARD_PERIODS } from '../../polymarket/leaderboard.js';
import type { LeaderboardOrder, LeaderboardPeriod } from '../../polymarket/leaderboard.js';
import { addStoreOptions, withBackfill } from '../options.js';
import { safeText } from '../terminal-text.js';

export function tradersCommand(): Command {
  const traders = new Command('traders').description('manage the wallet list (the traders table)');

  addStoreOptions(traders.command('add'))
    .description('add wallet addresses to the traders table')
    .argument('<address...>', 'proxy wallet addresses (0x + 40 hex)')
    .action(async (addresses: string[], flags: Flags) => {
      const wallets: string[] = [];
      const rejected: string[] = [];
      for (const address of addresses) {
        const parsed = parseWalletAddress(address);
        if (parsed.ok) wallets.push(parsed.wallet);
        else rejected.push(parsed.reason);
      }
      if (rejected.length > 0) throw new ConfigError(safeText(rejected.join('; ')), { hint: 'Nothing was added; fix the addresses and retry' });
      await withBackfill(flags, async (backfill) => {
        const added = await backfill.addTraders(wallets, 'cli');
        process.stdout.write(`added ${added} new wallet(s) (${wallets.length - added} already listed)\n`);
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
    .option('--category <name>', 'overall, or a market category such as sports, politics, crypto', 'overall')
    .option('--period <period>', `time period: ${LEADERBOARD_PERIODS.join('|')}`, 'week')
    .option('--order-by <order>', `rank by ${LEADERBOARD_ORDERS.join('|')}`, 'PNL')
    .option('--count <n>', 'how many wallets at most (1-10000)', '100')
    .option('--data-api-url <url>', `Data API base URL (env ${ENV.dataApiUrl})`)
    .action(async (flags: Flags) => {
      const period = String(flags.period);
      const order = String(flags.orderBy).toUpperCase();
      if (!(LEADERBOARD_PERIODS as readonly string[]).includes(period)) throw new ConfigError(`--period ${JSON.stringify(period)} is not one of ${LEADERBOARD_PERIODS.join(', ')}`);
      if (!(LEADERBOARD_ORDERS as readonly string[]).includes(order)) throw new ConfigError(`--order-by ${JSON.stringify(order)} is not one of ${LEADERBOARD_ORDERS.join(', ')}`);
      const count = intIn(String(flags.count), '--count', [1, 10_000]);
      await withBackfill(flags, async (backfill) => {
        const result = await backfill.discoverLeaderboard({
          category: String(flags.category),
          timePeriod: period as LeaderboardPeriod,
          orderBy: order as LeaderboardOrder,
          limit: count,
        });
        process.stdout.write(`leaderboard ${result.source}: ${result.found} wallet(s) found, ${result.added} new in traders\n`);
        if (result.stopped !== undefined) {
          // The wallets found are a true prefix of the board and were added; fewer than asked is a partial result.
          process.stderr.write(
            `warning: the leaderboard stopped making progress, so discovery stopped at ${result.found} of the ${count} wallet(s) asked for; those found were added: ${safeText(result.stopped)}\n`,
          );
          process.exitCode = EXIT.someFailed;
        }
      });
    });

  return traders;
}
