/** Process exit codes, documented in README; the CLI maps outcomes to them in one place. */
export const EXIT = {
  /** Every planned wallet is loaded and checkpointed. */
  ok: 0,
  /** Unexpected error (a bug, or an environment problem with no better code). */
  unexpected: 1,
  /** The run finished but some wallets failed (or were invalid); they are retried next run. */
  someFailed: 2,
  /** The run stopped early: signal, --max-runtime, or the API circuit breaker. */
  stoppedEarly: 3,
  /** Bad configuration or arguments: nothing was done. */
  config: 64,
} as const;
