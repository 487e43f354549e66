import { Command } from 'commander';

import { parseWalletAddress } from '../../engine/wallet-address.js';
import { ConfigError } from '../../lib/errors.js';
import { EXIT } from '../exit-codes.js';
import { addGlobalOptions, withBackends } from '../global-options.js';
import type { GlobalOptions } from '../global-options.js';
import { readTradersFile } from '../traders-file.js';

export function tradersCommand(): Command {
  const traders = new Command('traders').description('manage the wallet list (the traders table)');

  addGlobalOptions(traders.command('add'))
    .description('add wallet addresses to the traders table')
    .argument('<address...>', 'proxy wallet addresses (0x + 40 hex)')
    .action(async (addresses: string[], options: GlobalOptions) => {
      const wallets: string[] = [];
      const rejected: string[] = [];
      for (const address of addresses) {
        const parsed = parseWalletAddress(address);
        if (parsed.ok) wallets.push(parsed.wallet);
        else rejected.push(parsed.reason);
      }
      if (rejected.length > 0) throw new ConfigError(rejected.join('; '), { hint: 'Nothing was added; fix the addresses and retry' });
      await withBackends(options, async ({ warehouse }) => {
        const added = await warehouse.addTraders(wallets, 'cli');
        process.stdout.write(`added ${added} new wallet(s) (${wallets.length - added} already listed)\n`);
      });
    });

  addGlobalOptions(traders.command('import'))
    .description('import wallets from a file: one address per line, or CSV with a wallet_address column')
    .argument('<file>', 'path to the file')
    .action(async (file: string, options: GlobalOptions) => {
      const { wallets, rejected } = await readTradersFile(file);
      for (const r of rejected) process.stderr.write(`${file}:${r.line}: rejected: ${r.reason}\n`);
      await withBackends(options, async ({ warehouse }) => {
        const added = await warehouse.addTraders(wallets, `import:${file}`);
        process.stdout.write(
          `read ${wallets.length + rejected.length} line(s): added ${added} new wallet(s), ` +
            `${wallets.length - added} already listed or repeated, ${rejected.length} rejected\n`,
        );
      });
      if (rejected.length > 0) process.exitCode = EXIT.someFailed;
    });

  return traders;
}
