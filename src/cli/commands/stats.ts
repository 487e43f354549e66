import { Command } from 'commander';

import { COMMAND_BOUNDS, COMMAND_DEFAULTS, statsQuery, verifyPnlTarget } from '../../library/command-options.js';
import { ENV } from '../../library/config.js';
import type { Flags } from '../../library/config.js';
import type { PnlCheck, PnlVerification } from '../../library/pnl-verify.js';
import { DEFAULT_ACTIVITY_TYPES } from '../../polymarket/activity-rows.js';
import { STATS_ORDERS } from '../../warehouse/sql/pnl-sql.js';
import type { PositionRow, StatsCounts, WalletStatsRow } from '../../warehouse/warehouse.js';
import { EXIT } from '../exit-codes.js';
import { addStoreOptions, withBackfill } from '../options.js';
import { safeText } from '../terminal-text.js';

const usd = (value: number | null): string =>
  value === null ? '-' : `${value < 0 ? '-' : ''}$${Math.abs(value).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const percent = (value: number | null): string => (value === null ? '-' : `${(value * 100).toFixed(1)}%`);
/** A figure after fees: "—" when a fill's fee is unknown (never $0.00, which would pass for a known figure). */
const UNKNOWN = '—';
const afterFeesUsd = (value: number | null): string => (value === null ? UNKNOWN : usd(value));
/** Return on cost: "—" when something was bought but the fees are unknown, else the figure (none when nothing was bought). */
const returnText = (w: Pick<WalletStatsRow, 'realized_pnl_after_fees' | 'cost_bought_usdc' | 'return_on_cost'>): string =>
  w.realized_pnl_after_fees === null && (w.cost_bought_usdc ?? 0) > 0 ? UNKNOWN : percent(w.return_on_cost);
const shares = (value: number): string => value.toLocaleString('en-US', { maximumFractionDigits: 6 });
const pad = (text: string, width: number): string => (text.length >= width ? text : text + ' '.repeat(width - text.length));
const padLeft = (text: string, width: number): string => (text.length >= width ? text : ' '.repeat(width - text.length) + text);

function table(header: string[], rows: string[][], rightAligned: ReadonlySet<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (rightAligned.has(i) ? padLeft(c, widths[i]!) : pad(c, widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** The ranking as a terminal table: the figures a reader compares wallets by. */
export function rankingTable(wallets: readonly WalletStatsRow[]): string {
  const rows = wallets.map((w, i) => [
    String(i + 1),
    w.proxy_wallet,
    usd(w.realized_pnl),
    afterFeesUsd(w.realized_pnl_after_fees),
    usd(w.volume_usdc),
    returnText(w),
    w.win_rate === null ? '-' : `${percent(w.win_rate)} (${w.wins ?? 0}/${w.win_rate_sample ?? 0})`,
    String(w.markets_traded ?? 0),
    String(w.fills ?? 0),
    safeText(w.top_categories[0]?.category ?? '-'),
    w.stale ? 'stale' : '',
  ]);
  return table(['#', 'wallet', 'realized', 'after fees', 'volume', 'return', 'win rate (won/decided)', 'markets', 'fills', 'top category', ''], rows, new Set([0, 2, 3, 4, 5, 7, 8]));
}

/**
 * The one line that says how to get figures after fees, when any shown is unknown: fees are read from `/v2/activity`
 * TRADE rows, fetched only when `--activity-types` names TRADE (the activity walk of a wallet already loaded
 * continues from its newest row, so its older fills keep unknown fees).
 */
export const FEES_UNKNOWN_HINT =
  `"—" after fees: a fill's fee is unknown until its /v2/activity TRADE row is held; load with --activity-types ${[...DEFAULT_ACTIVITY_TYPES, 'TRADE'].join(',')} ` +
  `(or env ${ENV.activityTypes}) to collect them (a wallet loaded without TRADE gets them only for fills from then on).`;

/** FEES_UNKNOWN_HINT when any of these wallets' or positions' figures after fees is unknown, else undefined. */
export function feesUnknownHint(rows: readonly { realized_pnl_after_fees: number | null }[]): string | undefined {
  return rows.some((r) => r.realized_pnl_after_fees === null) ? FEES_UNKNOWN_HINT : undefined;
}

function countsLine(counts: StatsCounts): string {
  const stale = counts.stale > 0 ? `; ${counts.stale} stale, recomputed by the next run` : '';
  return `${counts.computed} wallet(s) with figures${stale}. Realized profit is before fees (Polymarket's figure); "after fees" is what the trader kept.`;
}

/** One wallet's figures, then its positions grouped by market. */
export function walletReportText(wallet: string, stats: WalletStatsRow | undefined, positions: readonly PositionRow[]): string {
  if (!stats) return `${wallet}: no figures (the wallet was never loaded; add it with \`backfill traders add\` and run \`backfill run\`)`;
  const lines = [
    `wallet            ${stats.proxy_wallet}${stats.stale ? '   (stale: recomputed by the next run)' : ''}`,
    stats.realized_pnl_after_fees === null || stats.fees_usdc === null
      ? `realized profit   ${usd(stats.realized_pnl)} before fees, ${UNKNOWN} after fees (fees unknown)`
      : `realized profit   ${usd(stats.realized_pnl)} before fees, ${usd(stats.realized_pnl_after_fees)} after ${usd(stats.fees_usdc)} of fees`,
    `volume            ${usd(stats.volume_usdc)} over ${stats.fills ?? 0} fill(s), ${usd(stats.cost_bought_usdc)} spent buying; return on cost ${returnText(stats)}`,
    `markets           ${stats.markets_traded ?? 0} traded, ${stats.resolved_markets_traded ?? 0} resolved: ${stats.wins ?? 0} won, ${stats.losses ?? 0} lost (win rate ${percent(stats.win_rate)} of ${stats.win_rate_sample ?? 0})`,
    `first / last      ${stats.first_trade_at ?? '-'} / ${stats.last_trade_at ?? '-'}`,
    `categories        ${stats.top_categories.map((c) => `${safeText(c.category)} ${usd(c.volume_usdc)}`).join(', ') || '-'}`,
    `computed          ${stats.computed_at ?? '-'}`,
  ];
  const byMarket = new Map<string, PositionRow[]>();
  for (const p of positions) byMarket.set(p.condition_id, [...(byMarket.get(p.condition_id) ?? []), p]);
  for (const [condition, rows] of byMarket) {
    const realized = rows.reduce((sum, p) => sum + p.realized_pnl, 0);
    lines.push('', `${condition}  ${safeText(rows[0]?.question ?? '(market not known to Gamma)')}  realized ${usd(Math.round(realized * 1e6) / 1e6)}`);
    for (const p of rows) {
      lines.push(
        `  outcome ${p.outcome_index ?? '?'}  ${pad(p.status, 10)} held ${shares(p.shares)} at avg ${p.avg_price}  bought ${shares(p.total_bought)} for ${usd(p.cost_bought_usdc)}` +
          `  realized ${usd(p.realized_pnl)} (after fees ${afterFeesUsd(p.realized_pnl_after_fees)})${p.settled_pnl === null ? '' : `  settled ${usd(p.settled_pnl)}`}  token ${p.token_id}`,
      );
    }
  }
  const hint = feesUnknownHint([stats, ...positions]);
  if (hint) lines.push('', hint);
  return lines.join('\n');
}

export function statsCommand(): Command {
  const d = COMMAND_DEFAULTS.stats;
  return addStoreOptions(new Command('stats'))
    .description("rank the wallets by realized profit (Polymarket's PnL method), return, win rate or volume; --wallet shows one wallet's positions")
    .option('--top <n>', `how many wallets (${COMMAND_BOUNDS.statsTop.join('-')})`, String(d.top))
    .option('--by <order>', `rank by ${Object.keys(STATS_ORDERS).join('|')}`, d.by)
    .option('--min-markets <k>', 'only wallets that traded at least this many markets', String(d.minMarkets))
    .option('--wallet <address>', "one wallet's figures and its positions by market, instead of the ranking")
    .option('--json', 'print JSON on stdout')
    .action(async (flags: Flags) => {
      const wallet = typeof flags.wallet === 'string' ? flags.wallet : undefined;
      // Parsed before the warehouse is opened: a bad option fails at once.
      const query = statsQuery(flags);
      await withBackfill(flags, async (backfill) => {
        if (wallet !== undefined) {
          const report = await backfill.walletReport(wallet);
          if (flags.json === true) {
            const note = feesUnknownHint([...(report.stats ? [report.stats] : []), ...report.positions]);
            process.stdout.write(`${JSON.stringify({ ...report, ...(note ? { after_fees_note: note } : {}) })}\n`);
          } else {
            process.stdout.write(`${walletReportText(wallet.trim().toLowerCase(), report.stats, report.positions)}\n`);
          }
          return;
        }
        const { wallets, counts } = await backfill.stats(query);
        if (flags.json === true) {
          // Unknown figures after fees stay null, never 0; the note says how to get them.
          const note = feesUnknownHint(wallets);
          process.stdout.write(`${JSON.stringify({ by: query.by, wallets, counts, ...(note ? { after_fees_note: note } : {}) })}\n`);
          return;
        }
        if (wallets.length > 0) process.stdout.write(`${rankingTable(wallets)}\n`);
        process.stderr.write(`${countsLine(counts)}\n`);
        const note = feesUnknownHint(wallets);
        if (note) process.stderr.write(`${note}\n`);
      });
    });
}

const signed = (value: number | null): string => (value === null ? '-' : `${value >= 0 ? '+' : ''}${value.toFixed(6)}`);

function checkLine(c: PnlCheck): string {
  const closed = c.closed.compared > 0 ? `  closed tokens ${c.closed.compared - c.closed.differing}/${c.closed.compared} agree` : '';
  const note = c.error ? `  ${safeText(c.error)}` : c.verdict === 'no-data' ? '  Polymarket has no figure (not zero: not compared)' : '';
  return `${c.wallet}  ${pad(c.verdict.toUpperCase(), 7)}  ours ${padLeft(usd(c.ours), 14)}  theirs ${padLeft(usd(c.theirs), 14)}  Δ ${padLeft(signed(c.difference), 14)}${closed}${c.stale ? '  (our figures are stale)' : ''}${note}`;
}

function verificationSummary(v: PnlVerification): string[] {
  const compared = v.agree + v.differ;
  const share = v.shareWithin === null ? '-' : `${(v.shareWithin * 100).toFixed(1)}%`;
  const lines = [
    `${v.agree} of ${compared} wallet(s) within tolerance (${share}; |Δ| ≤ max($${v.tolerance.absolute}, ${v.tolerance.relative * 100}% of theirs)), ${v.noData} without a figure at Polymarket, ${v.failed} not checked`,
  ];
  const differing = v.wallets.filter((c) => c.verdict === 'differ');
  if (differing.length > 0) lines.push(`differ: ${differing.map((c) => c.wallet).join(', ')}`);
  const failed = v.wallets.filter((c) => c.verdict === 'failed');
  if (failed.length > 0) lines.push(`not checked: ${failed.map((c) => c.wallet).join(', ')}`);
  return lines;
}

export function verifyPnlCommand(): Command {
  return addStoreOptions(new Command('verify-pnl'))
    .description("check our realized profit against Polymarket's own (/v2/positions?status=CLOSED per token, /v2/user-pnl in total); exit 2 when any wallet differs")
    .option('--sample <n>', `a random sample of this many wallets with figures (default ${COMMAND_DEFAULTS.verifyPnlSample})`)
    .option('--wallets <file>', 'the wallets of this file instead (one per line, or CSV with wallet_address)')
    .option('--data-api-url <url>', `Data API base URL (env ${ENV.dataApiUrl})`)
    .option('--rate-limit <spec>', `per-endpoint limits, e.g. data:positions=50/10s,data:user-pnl=50/10s (env ${ENV.rateLimits})`)
    .option('--json', 'print JSON on stdout')
    .action(async (flags: Flags) => {
      const target = verifyPnlTarget(flags);
      await withBackfill(flags, async (backfill) => {
        const result = await backfill.verifyPnl(target, flags.json === true ? {} : { onWallet: (c) => process.stdout.write(`${checkLine(c)}\n`) });
        if (flags.json === true) process.stdout.write(`${JSON.stringify(result)}\n`);
        else process.stdout.write(`${verificationSummary(result).join('\n')}\n`);
        if (result.differ > 0 || result.failed > 0) process.exitCode = EXIT.someFailed;
      });
    });
}
