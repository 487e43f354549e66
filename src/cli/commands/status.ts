import { Command } from 'commander';

import { COMMAND_DEFAULTS, failedQuery } from '../../library/command-options.js';
import type { StatusJson } from '../../status/status-json.js';
import type { Flags } from '../../library/config.js';
import { addStoreOptions, withBackfill } from '../options.js';
import { safeText } from '../terminal-text.js';

export function statusCommand(): Command {
  return addStoreOptions(new Command('status'))
    .description('how many wallets are done, failed, pending — the mission monitoring figures; works while a run holds the warehouse')
    .option('--json', 'print JSON on stdout (the same document as the dashboard\'s /api/status)')
    .action(async (flags: Flags) => {
      await withBackfill(flags, async (backfill) => {
        // The terminal lines do not list failure classes; only the JSON needs their sample.
        const s = await backfill.status({ failures: flags.json === true });
        if (flags.json === true) {
          process.stdout.write(`${JSON.stringify(s)}\n`);
          return;
        }
        process.stdout.write(`${statusLines(s).join('\n')}\n`);
      });
    });
}

/** The status for a terminal: where the figures come from first, then the mission's three figures. */
function statusLines(s: StatusJson): string[] {
  const origin = s.source === 'snapshot'
    ? `live snapshot of run ${s.run?.run_id ?? '?'} as of ${s.as_of}${s.live ? '' : ' (the run is no longer publishing)'}`
    : `the warehouse, as of ${s.as_of}`;
  const lines = [
    `warehouse         ${safeText(s.warehouse)}`,
    `figures from      ${origin}`,
    `completed         ${s.completed}   (checkpoint: completed AND upload_successful)`,
    `total             ${s.total}   (distinct non-null traders.wallet_address)`,
    `percent_complete  ${s.percent_complete ?? '-'}`,
    `failed            ${s.failed}   (${s.parked} parked; see: backfill failed)`,
    `pending           ${s.pending} of ${s.valid_wallets} valid wallets`,
    `invalid addresses ${s.invalid_wallets}`,
    `rows              trades ${s.rows.trades}, markets ${s.rows.markets}, events ${s.rows.events}, unresolved ids ${s.rows.unresolved}`,
    `                  activity ${s.rows.activity}, combo activity ${s.rows.combo_activity}, market resolutions ${s.rows.resolutions}`,
    `activity          loaded for ${s.activity.loaded_wallets} wallet(s); ${s.activity.pending_wallets} with fills loaded await their activity`,
    `last processed    ${s.last_processed_at ?? '-'}`,
  ];
  // A snapshot written by a run of a version before the traders figures has none.
  const traders = s.traders as StatusJson['traders'] | undefined;
  if (traders && (traders.with_figures > 0 || traders.stale > 0)) {
    const top = traders.top[0];
    const best = top ? `; top ${top.wallet} ${top.realized_pnl === null ? '-' : `$${top.realized_pnl.toFixed(2)}`} realized (see: backfill stats)` : '';
    lines.push(`traders           ${traders.with_figures} wallet(s) with profit figures, ${traders.stale} stale${best}`);
  }
  const { refresh } = s;
  if (refresh.refreshed_wallets > 0 || refresh.failed > 0) {
    lines.push(`refresh           ${refresh.refreshed_wallets} wallet(s) refreshed, last ${refresh.last_refreshed_at ?? '-'}, oldest ${refresh.oldest_at ?? '-'}; ${refresh.failed} failed (see: backfill failed --refresh)`);
  }
  if (s.run) {
    const r = s.run;
    const state = s.stale ? 'ended unexpectedly (stale: its last snapshot still said running)' : r.state;
    lines.push(
      `run               ${r.run_id} ${state}, started ${r.started_at}: ${r.loaded} loaded, ${r.failed} failed, ${r.trades_loaded} trades; ` +
        `${r.wallets_per_minute} wallets/min, ${r.trades_per_second} trades/s${r.eta_seconds !== null ? `, ETA ${Math.round(r.eta_seconds / 60)} min` : ''}`,
    );
  }
  if (s.bigquery) {
    lines.push(`bigquery          ${s.bigquery.bytes_billed.toLocaleString('en-US')} bytes billed by ${s.bigquery.runs} recorded run(s) (~$${s.bigquery.estimated_cost_usd.toFixed(4)} on-demand)`);
  }
  return lines;
}

export function failedCommand(): Command {
  return addStoreOptions(new Command('failed'))
    .description('wallets whose last attempt failed (retried by the next run unless parked)')
    .option('--json', 'print JSON lines on stdout')
    .option('--limit <n>', 'at most this many', String(COMMAND_DEFAULTS.failedLimit))
    .option('--refresh', 'completed wallets whose last refresh failed (their backfill stays complete), instead of backfill failures')
    .action(async (flags: Flags) => {
      const query = failedQuery(flags);
      await withBackfill(flags, async (backfill) => {
        const rows = await backfill.failed(query);
        for (const row of rows) {
          if (flags.json === true) process.stdout.write(`${JSON.stringify(row)}\n`);
          else {
            process.stdout.write(
              `${safeText(row.wallet_address)}\tattempts=${row.attempts}${row.parked ? ' PARKED' : ''}\ttrades=${row.trade_count}\t${row.processed_at ?? ''}\t${safeText(row.error)}\n`,
            );
          }
        }
        if (flags.json !== true) process.stderr.write(`${rows.length} ${flags.refresh === true ? 'failed refresh(es)' : 'failed wallet(s)'}\n`);
      });
    });
}
