import { Command } from 'commander';

import type { Flags } from '../../library/config.js';
import { addStoreOptions, withBackfill } from '../options.js';
import { safeText } from '../terminal-text.js';
import { costsSince, onDemandCostUsd } from '../../warehouse/warehouse.js';
import { describeBilled } from './run.js';

export function statusCommand(): Command {
  return addStoreOptions(new Command('status'))
    .description('how many wallets are done, failed, pending; the mission monitoring figures')
    .option('--json', 'print JSON on stdout')
    .action(async (flags: Flags) => {
      await withBackfill(flags, async (backfill) => {
        const warehouse = await backfill.warehouse();
        const before = warehouse.costs?.();
        const s = await backfill.status();
        // What the status queries themselves billed (BigQuery), not the runs'.
        const billed = costsSince(before, warehouse.costs?.());
        if (flags.json === true) {
          process.stdout.write(`${JSON.stringify(billed ? { ...s, bigquery: { ...billed, estimatedCostUsd: onDemandCostUsd(billed.bytesBilled) } } : s)}\n`);
          return;
        }
        process.stdout.write(
          [
            `warehouse         ${safeText(s.warehouse)}`,
            `completed         ${s.completed}   (checkpoint: completed AND upload_successful)`,
            `total             ${s.total}   (distinct non-null traders.wallet_address)`,
            `percent_complete  ${s.percent_complete ?? '-'}`,
            `failed            ${s.failed}   (${s.parked} parked; see: backfill failed)`,
            `pending           ${s.pending} of ${s.valid_wallets} valid wallets`,
            `invalid addresses ${s.invalid_wallets}`,
            `rows              trades ${s.rows.trades}, markets ${s.rows.markets}, events ${s.rows.events}, unresolved ids ${s.rows.unresolved}`,
            `last processed    ${s.last_processed_at ?? '-'}`,
            ...(billed ? [describeBilled('bigquery          these status queries', billed)] : []),
            '',
          ].join('\n'),
        );
      });
    });
}

export function failedCommand(): Command {
  return addStoreOptions(new Command('failed'))
    .description('wallets whose last attempt failed (retried by the next run unless parked)')
    .option('--json', 'print JSON lines on stdout')
    .option('--limit <n>', 'at most this many', '1000')
    .action(async (flags: Flags) => {
      await withBackfill(flags, async (backfill) => {
        const rows = await backfill.failed({ limit: Number(flags.limit) });
        for (const row of rows) {
          if (flags.json === true) process.stdout.write(`${JSON.stringify(row)}\n`);
          else {
            process.stdout.write(
              `${safeText(row.wallet_address)}\tattempts=${row.attempts}${row.parked ? ' PARKED' : ''}\ttrades=${row.trade_count}\t${row.processed_at ?? ''}\t${safeText(row.error)}\n`,
            );
          }
        }
        if (flags.json !== true) process.stderr.write(`${rows.length} failed wallet(s)\n`);
      });
    });
}
