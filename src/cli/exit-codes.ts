import type { ReloadSummary } from '../engine/reload-staged.js';
import type { RunSummary } from '../engine/run-summary.js';
import type { ExitCodeMode } from '../library/config.js';
import type { AuditSummary } from '../library/audit.js';
import type { ReloadResult, RunResult } from '../library/open-backfill.js';

/** Process exit codes, documented in README and docs/google-cloud.md; mapped from outcomes here only. */
export const EXIT = {
  /** Every planned wallet is loaded and checkpointed (or there was nothing to do). */
  ok: 0,
  /** Unexpected error (a bug, or an environment problem with no better code). */
  unexpected: 1,
  /** The run finished but some wallets failed (or were invalid); they are retried next run. */
  someFailed: 2,
  /** The run stopped early: signal, --max-runtime, circuit breaker, unwritable stage, lease lost. */
  stoppedEarly: 3,
  /** Bad configuration or arguments: nothing was done. */
  config: 64,
  /** Another live run holds the lease: nothing was done, try again later (EX_TEMPFAIL). */
  lockHeld: 75,
} as const;

/**
 * `strict` (the local default) tells every outcome apart. `schedule` (the default on Cloud Run,
 * where any non-zero exit is a failed execution) exits 0 for the normal states of a multi-run
 * backfill — a pause at --max-runtime or SIGTERM after progress, some wallets failed but recorded,
 * another run holding the lease — and keeps the strict code for real failures: no progress at
 * all, a tripped circuit breaker, an unwritable stage or warehouse, a lost lease.
 */
export function runExitCode(result: RunResult, mode: ExitCodeMode): number {
  if (result.kind === 'lock-held') return mode === 'schedule' ? EXIT.ok : EXIT.lockHeld;
  const codes = [summaryExitCode(result.summary, mode), ...(result.refresh ? [summaryExitCode(result.refresh, mode)] : [])];
  // The more serious of a backfill and the refresh that followed it: a stop over a failure over success.
  return codes.find((c) => c === EXIT.stoppedEarly) ?? codes.find((c) => c !== EXIT.ok) ?? EXIT.ok;
}

export function summaryExitCode(summary: RunSummary, mode: ExitCodeMode): number {
  const strict = strictCode(summary);
  if (mode === 'strict' || strict === EXIT.ok) return strict;
  const progressed = summary.loaded > 0 || summary.planned === 0;
  const normalPause = summary.outcome === 'some-failed' || summary.stopKind === 'signal' || summary.stopKind === 'max-runtime' || summary.stopKind === 'requested';
  return progressed && normalPause ? EXIT.ok : strict;
}

function strictCode(summary: RunSummary): number {
  if (summary.outcome === 'stopped') return EXIT.stoppedEarly;
  if (summary.outcome === 'some-failed') return EXIT.someFailed;
  return EXIT.ok;
}

export function reloadExitCode(result: ReloadResult, mode: ExitCodeMode): number {
  if (result.kind === 'lock-held') return mode === 'schedule' ? EXIT.ok : EXIT.lockHeld;
  const summary: ReloadSummary = result.summary;
  return summary.failed > 0 || summary.damaged.length > 0 ? EXIT.someFailed : EXIT.ok;
}

/**
 * `backfill audit`: 0 when every audited wallet's fills match the chain, 2 when any does not (or its
 * audit failed), 3 when it stopped before every wallet was audited (its progress is kept; run it
 * again). Under `schedule`, a stop that found no difference exits 0: the next run continues it.
 */
export function auditExitCode(summary: AuditSummary, mode: ExitCodeMode): number {
  if (summary.incomplete.length > 0 || summary.failed.length > 0) return EXIT.someFailed;
  if (summary.stopReason !== undefined && summary.notFinished.length > 0) return mode === 'schedule' ? EXIT.ok : EXIT.stoppedEarly;
  return EXIT.ok;
}
