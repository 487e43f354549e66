/**
 * polycopy-backfill as a library: the same engine, backends and guarantees as the `backfill` CLI.
 *
 *   import { openBackfill, resolveConfig } from 'polycopy-backfill';
 *   const backfill = openBackfill(resolveConfig({ warehouse: './data/backfill.duckdb' }));
 *   await backfill.addTraders(['0x492442eab586f242b53bda933fd5de859c8a3782'], 'my-app');
 *   const result = await backfill.run();
 *   await backfill.close();
 */
export { openBackfill } from './library/open-backfill.js';
export type { Backfill, LockHeld, Logger, OpenBackfillOptions, ReloadResult, RunResult } from './library/open-backfill.js';
export { DEFAULTS, BOUNDS, ENV, resolveConfig } from './library/config.js';
export type { BackfillConfig, ExitCodeMode, Flags, LogFormat, LogLevel, RunSettings, SourceSettings } from './library/config.js';
export { auditSettings, checkRpcUrl } from './library/command-options.js';
export type { AuditSelection, AuditSettings } from './library/command-options.js';
export type { AuditSummary, WalletAuditOutcome } from './library/audit.js';
export type { WalletAuditReport } from './chain/audit-wallet.js';
export type { FillMismatch } from './chain/fill-match.js';
export { RunEvents } from './engine/run-events.js';
export type { RunEventMap } from './engine/run-events.js';
export type { RunOutcome, RunSummary, StopKind } from './engine/run-summary.js';
export type { ReloadSummary } from './engine/reload-staged.js';
export type { AuditResultRow, CheckpointRow, FailedWallet, LoadResult, StatusFigures, Warehouse, WalletBundle } from './warehouse/warehouse.js';
export type { StageStore, StagedFile, StageKind, WalletManifest } from './staging/stage-store.js';
export type { ApiUsage, BigQueryUsage, FailureClass, RunState, RunStatus, StatusJson, ThroughputPoint } from './status/status-json.js';
export { startDashboard } from './dashboard/index.js';
export type { Dashboard, DashboardOptions } from './dashboard/index.js';
export { BackfillError, BusyError, ConfigError, InvalidInputError, failureKind } from './lib/errors.js';
export type { FailureKind } from './lib/errors.js';
