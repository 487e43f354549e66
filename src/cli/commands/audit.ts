import { Command } from 'commander';

import { AUDIT_START_BLOCK } from '../../chain/chain-facts.js';
import { DEFAULT_RPC_RATE_LIMIT } from '../../chain/rpc-client.js';
import type { AuditSummary, WalletAuditOutcome } from '../../library/audit.js';
import { AUDIT_RPC_ENV, COMMAND_DEFAULTS, auditSettings } from '../../library/command-options.js';
import type { AuditSettings } from '../../library/command-options.js';
import type { Flags } from '../../library/config.js';
import type { Backfill } from '../../library/open-backfill.js';
import { auditExitCode } from '../exit-codes.js';
import type { Logger } from '../logger.js';
import { addStoreOptions, withBackfill } from '../options.js';
import { safeText } from '../terminal-text.js';

/** Mismatches shown per wallet that does not match; the rest are in audit_mismatches. */
const SHOWN_MISMATCHES = 5;

export function auditCommand(): Command {
  return addStoreOptions(new Command('audit'))
    .description("prove completeness against the chain: reconcile the trades held for wallets with their OrderFilled logs on Polygon (resumable)")
    .option('--rpc <url>', `Polygon JSON-RPC endpoint serving eth_getLogs (env ${AUDIT_RPC_ENV}); it may hold an API key, which is never printed`)
    .option('--wallets <file>', 'audit the wallets of this file (one per line, or CSV with wallet_address)')
    .option('--sample <n>', 'audit n of the wallets whose fills are loaded, in a stable hash order (default: every loaded wallet)')
    .option('--concurrency <n>', `wallets audited at once, 1-64 (default ${COMMAND_DEFAULTS.audit.concurrency})`)
    .option('--rate-limit <spec>', `RPC requests allowed, e.g. rpc=25/1s (default ${DEFAULT_RPC_RATE_LIMIT.requests}/${DEFAULT_RPC_RATE_LIMIT.perMs / 1000}s, under common free tiers)`)
    .option('--restart', "forget each wallet's stored progress and walk its blocks from the start")
    .option('--from-block <n>', `first block audited (default ${AUDIT_START_BLOCK}, the first exchange's deployment)`)
    .option('--to-block <n>', 'last block audited (default: the chain head less --confirmations)')
    .option('--confirmations <n>', `blocks under the head left out, so a reorganisation cannot change what was audited (default ${COMMAND_DEFAULTS.audit.confirmations})`)
    .option('--max-runtime <duration>', 'stop this long after the process started; each wallet keeps its progress (e.g. 20m)')
    .option('--timeout <duration>', 'per-request timeout')
    .option('--exit-codes <mode>', 'strict|schedule')
    .option('--json', 'print the result as JSON on stdout')
    .addHelpText(
      'after',
      `
Per wallet: the OrderFilled logs of both exchange versions where the wallet is the order's maker
(its own fills, maker or taker), matched to its trades rows by transaction, token, side, shares and
price. Exit 0 when every audited wallet matches, 2 when any does not (named; see the tables
audit_results and audit_mismatches), 3 when stopped before the end (run it again to continue).`,
    )
    .action(async (flags: Flags) => {
      const settings = auditSettings(flags);
      process.exitCode = await withBackfill(flags, async (backfill, logger) => {
        const summary = await auditAndReport(backfill, logger, settings, flags.json === true);
        return auditExitCode(summary, backfill.config.exitCodes);
      });
    });
}

function walletLine(outcome: WalletAuditOutcome): string {
  if (outcome.kind === 'failed') return `${outcome.wallet}  FAILED   ${safeText(outcome.error)}`;
  if (outcome.kind === 'not-finished') return `${outcome.wallet}  STOPPED  its progress is kept; run the audit again to continue`;
  const r = outcome.report;
  const apart = [
    r.heldOutsideRange > 0 ? `${r.heldOutsideRange} held outside the audited blocks` : '',
    r.heldUnverifiable > 0 ? `${r.heldUnverifiable} held beside undecodable logs` : '',
    r.resumedAfter !== undefined ? `resumed after block ${r.resumedAfter}` : '',
  ].filter((part) => part !== '');
  return (
    `${r.wallet}  ${r.complete ? 'MATCHES' : 'DIFFERS'}  on chain ${r.onChain}, held ${r.held}, matched ${r.matched}, ` +
    `missing from API ${r.missingFromApi}, held not on chain ${r.heldNotOnChain}, under 0.01 ${r.underMinimum}, undecodable ${r.undecodable}` +
    `${apart.length > 0 ? ` (${apart.join('; ')})` : ''}; ${r.logRequests} eth_getLogs`
  );
}

/** Runs the audit, printing each wallet as it ends and the totals after; shared by `audit` and `demo`. */
export async function auditAndReport(backfill: Backfill, logger: Logger, settings: AuditSettings, json: boolean): Promise<AuditSummary> {
  const summary = await backfill.audit(settings, {
    onStart: (plan) => {
      const line = `auditing ${plan.wallets} wallet(s), blocks ${plan.fromBlock}..${plan.toBlock}, via ${plan.rpc}`;
      logger.info({ event: 'audit_started', ...plan }, line);
      if (!json) process.stdout.write(`${line}\n`);
    },
    onWallet: (outcome) => {
      if (json) return;
      process.stdout.write(`${walletLine(outcome)}\n`);
      if (outcome.kind === 'audited' && !outcome.report.complete) {
        const differences = outcome.report.mismatches.filter((m) => m.kind === 'missing-from-api' || m.kind === 'held-not-on-chain');
        for (const m of differences.slice(0, SHOWN_MISMATCHES)) process.stdout.write(`    ${m.kind} tx ${m.transactionHash}: ${safeText(m.detail)}\n`);
        if (differences.length > SHOWN_MISMATCHES) process.stdout.write(`    … ${differences.length - SHOWN_MISMATCHES} more in audit_mismatches\n`);
      }
    },
  });
  const exitCode = auditExitCode(summary, backfill.config.exitCodes);
  const audited = summary.outcomes.flatMap((o) => (o.kind === 'audited' ? [o.report] : []));
  const total = Object.values(summary.requests).reduce((sum, n) => sum + n, 0);
  logger.info(
    { event: 'audit_finished', audited: audited.length, incomplete: summary.incomplete, failed: summary.failed.length, not_finished: summary.notFinished.length, requests: summary.requests, exit_code: exitCode },
    `audit finished: ${audited.length} audited, ${summary.incomplete.length} differ, exit ${exitCode}`,
  );
  if (json) {
    process.stdout.write(
      `${JSON.stringify({
        rpc: summary.rpc,
        from_block: summary.fromBlock,
        to_block: summary.toBlock,
        wallets: summary.outcomes.map((o) =>
          o.kind === 'audited'
            ? {
                wallet: o.wallet,
                outcome: o.report.complete ? 'matches' : 'differs',
                on_chain: o.report.onChain,
                held: o.report.held,
                matched: o.report.matched,
                missing_from_api: o.report.missingFromApi,
                held_not_on_chain: o.report.heldNotOnChain,
                under_minimum: o.report.underMinimum,
                undecodable: o.report.undecodable,
                held_outside_range: o.report.heldOutsideRange,
                held_unverifiable: o.report.heldUnverifiable,
                log_requests: o.report.logRequests,
                resumed_after: o.report.resumedAfter ?? null,
              }
            : o.kind === 'failed'
              ? { wallet: o.wallet, outcome: 'failed', error: o.error }
              : { wallet: o.wallet, outcome: 'not-finished' },
        ),
        incomplete: summary.incomplete,
        failed: summary.failed,
        not_finished: summary.notFinished,
        stop_reason: summary.stopReason ?? null,
        requests: { ...summary.requests, total },
        log_requests_per_wallet: summary.logRequestsPerWallet,
        range_refusals: summary.rangeRefusals,
        span_ceiling: summary.spanCeiling ?? null,
        duration_ms: summary.durationMs,
        exit_code: exitCode,
      })}\n`,
    );
    return summary;
  }
  const matching = audited.length - summary.incomplete.length;
  const ceiling = summary.spanCeiling !== undefined ? `, span ceiling learnt ${summary.spanCeiling} blocks` : '';
  process.stdout.write(
    `audited ${audited.length} of ${summary.planned} wallet(s): ${matching} match, ${summary.incomplete.length} differ, ${summary.failed.length} failed, ` +
      `${summary.notFinished.length} not finished${summary.stopReason ? ` (${safeText(summary.stopReason)})` : ''}; ` +
      `${total} RPC request(s), ${summary.logRequestsPerWallet.toFixed(1)} eth_getLogs per audited wallet, ${summary.rangeRefusals} refused as too wide${ceiling}; ` +
      `${(summary.durationMs / 1000).toFixed(1)} s\n`,
  );
  if (summary.incomplete.length > 0) process.stdout.write(`wallets that do not match the chain: ${summary.incomplete.join(', ')} (see audit_results, audit_mismatches)\n`);
  if (summary.failed.length > 0) process.stdout.write(`wallets whose audit failed: ${summary.failed.map((f) => f.wallet).join(', ')}\n`);
  return summary;
}
