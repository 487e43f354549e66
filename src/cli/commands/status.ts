import { Command } from 'commander';

import { addGlobalOptions, withBackends } from '../global-options.js';
import type { GlobalOptions } from '../global-options.js';

export function statusCommand(): Command {
  return addGlobalOptions(new Command('status'))
    .description('how many wallets are done, failed, pending; the mission monitoring figures')
    .option('--json', 'print JSON on stdout')
    .action(async (options: GlobalOptions & { json?: boolean }) => {
      await withBackends(options, async ({ warehouse }) => {
        const s = await warehouse.status();
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ warehouse: warehouse.description, ...s })}\n`);
          return;
        }
        process.stdout.write(
          [
            `warehouse         ${warehouse.description}`,
            `completed         ${s.completed}   (checkpoint: completed AND upload_successful)`,
            `total             ${s.total}   (distinct non-null traders.wallet_address)`,
            `percent_complete  ${s.percent_complete ?? '-'}`,
            `failed            ${s.failed}   (${s.parked} parked; see: backfill failed)`,
            `pending           ${s.pending} of ${s.valid_wallets} valid wallets`,
            `invalid addresses ${s.invalid_wallets}`,
            `rows              trades ${s.rows.trades}, markets ${s.rows.markets}, events ${s.rows.events}, unresolved ids ${s.rows.unresolved}`,
            `last processed    ${s.last_processed_at ?? '-'}`,
            '',
          ].join('\n'),
        );
      });
    });
}

export function failedCommand(): Command {
  return addGlobalOptions(new Command('failed'))
    .description('wallets whose last attempt failed (retried by the next run unless parked)')
    .option('--json', 'print JSON lines on stdout')
    .option('--limit <n>', 'at most this many', '1000')
    .action(async (options: GlobalOptions & { json?: boolean; limit: string }) => {
      await withBackends(options, async ({ warehouse }) => {
        const rows = await warehouse.failedWallets({ limit: Number(options.limit) });
        for (const row of rows) {
          if (options.json) process.stdout.write(`${JSON.stringify(row)}\n`);
          else {
            process.stdout.write(
              `${row.wallet_address}\tattempts=${row.attempts}${row.parked ? ' PARKED' : ''}\ttrades=${row.trade_count}\t${row.processed_at ?? ''}\t${row.error ?? ''}\n`,
            );
          }
        }
        if (!options.json) process.stderr.write(`${rows.length} failed wallet(s)\n`);
      });
    });
}
