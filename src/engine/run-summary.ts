/** How a run ended, mapped to the process exit code in one place (the CLI). */
export type RunOutcome = 'complete' | 'some-failed' | 'stopped';

export interface RunSummary {
  runId: string;
  outcome: RunOutcome;
  stopReason: string | null;
  planned: number;
  loaded: number;
  failed: number;
  invalid: number;
  reusedStaged: number;
  trades: number;
  checkpointWriteFailures: number;
  requests: Record<string, number>;
  retries: Record<string, number>;
  durationMs: number;
  /** Peak resident memory of this process so far (MB): a whale must not make it grow. */
  peakRssMb: number;
}
