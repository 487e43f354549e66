/**
 * Process-level shutdown for a run: the first SIGTERM or SIGINT asks the run to stop gracefully
 * (take no new wallet, commit what is staged) under a deadline; a second signal, or the deadline,
 * ends it at once through the caller's `forceExit` (the library never exits the process itself: the
 * CLI's forceExit does). Either way, registered cleanups (the run lease) get a short chance to
 * finish first, so the next run need not wait for the lease to expire.
 */

export interface Cleanup {
  (): Promise<void>;
}

const cleanups = new Set<Cleanup>();

/** Registers work that must run however the process ends (releasing the run lease); returns its unregister. */
export function onProcessExit(cleanup: Cleanup): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** Runs every registered cleanup, each bounded by `timeoutMs`; never throws. */
export async function runExitCleanups(timeoutMs = 2_000): Promise<void> {
  const pending = [...cleanups];
  cleanups.clear();
  await Promise.all(
    pending.map((cleanup) =>
      Promise.race([cleanup().catch(() => undefined), new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref())]),
    ),
  );
}

export interface SignalHandling {
  dispose(): void;
}

export interface SignalOptions {
  /** Called on the first signal. */
  onStop: (signal: NodeJS.Signals) => void;
  /** How long a graceful stop may take before the process exits anyway. */
  deadlineMs: number;
  /** Exit code of a forced exit. */
  exitCode: number;
  /** Ends the process at once, after the exit cleanups ran (the CLI passes process.exit). */
  forceExit: (exitCode: number) => void;
  /** Told why the process is about to exit at once. */
  onForcedExit?: (message: string) => void;
}

export function handleStopSignals(options: SignalOptions): SignalHandling {
  let signals = 0;
  let deadline: NodeJS.Timeout | undefined;
  const forceExit = (message: string) => {
    options.onForcedExit?.(message);
    void runExitCleanups().finally(() => options.forceExit(options.exitCode));
  };
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      forceExit(`second ${signal}: exiting now; uncommitted wallets are redone next run`);
      return;
    }
    options.onStop(signal);
    // Cloud Run sends SIGKILL 10 s after SIGTERM: whatever is not committed by then is redone next run.
    deadline = setTimeout(() => forceExit(`graceful stop took longer than ${options.deadlineMs} ms; exiting`), options.deadlineMs);
    deadline.unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    dispose: () => {
      if (deadline) clearTimeout(deadline);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
