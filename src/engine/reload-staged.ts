import { bundleFromManifest, checkBundle } from '../staging/manifest.js';
import type { StageStore } from '../staging/stage-store.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { CommitBatcher } from './commit-batcher.js';
import type { CommitPolicy } from './commit-batcher.js';
import type { RunEvents } from './run-events.js';
import { WalletStatsUpdater } from './wallet-stats.js';

export interface ReloadSummary {
  /** Failed wallets that had a complete staged bundle and were loaded from it. */
  reloaded: number;
  /** Of those, how many failed to load again. */
  failed: number;
  /** Failed wallets with no complete staged bundle: only `backfill run` can redo them. */
  withoutStagedFiles: string[];
  /** Failed wallets whose staged files are damaged (the path and what is wrong): not loaded; `backfill run` fetches them again. */
  damaged: { wallet: string; reason: string }[];
  /** Trade rows the reloads inserted. */
  trades: number;
}

/**
 * Loads, from their staged files, the wallets whose upload failed — no API call at all. The
 * checkpoint is updated exactly as after a normal load.
 */
export async function reloadStaged(
  deps: { stage: StageStore; warehouse: Warehouse; events: RunEvents },
  options: { commit: CommitPolicy; runId: string; includeParked: boolean },
): Promise<ReloadSummary> {
  const committer = new CommitBatcher({
    warehouse: deps.warehouse,
    policy: options.commit,
    events: deps.events,
    runId: options.runId,
    onReleaseClaims: () => undefined,
    stage: deps.stage,
    stats: new WalletStatsUpdater({ warehouse: deps.warehouse, events: deps.events }),
  });
  const withoutStagedFiles: string[] = [];
  const damaged: ReloadSummary['damaged'] = [];
  let reloaded = 0;
  try {
    for (const failed of await deps.warehouse.failedWallets()) {
      if (failed.parked && !options.includeParked) continue;
      const manifest = failed.gcs_file === null ? undefined : await deps.stage.readManifest(failed.wallet_address);
      if (!manifest?.files.trades) {
        withoutStagedFiles.push(failed.wallet_address);
        continue;
      }
      const check = await checkBundle(deps.stage, manifest);
      if (!check.ok) {
        damaged.push({ wallet: failed.wallet_address, reason: check.reason });
        deps.events.safeEmit('wallet:damaged', { wallet: failed.wallet_address, reason: check.reason });
        continue;
      }
      reloaded += 1;
      await committer.add({ bundle: bundleFromManifest(manifest), claims: { markets: [], events: [] }, reused: true });
    }
  } finally {
    await committer.flush();
  }
  return { reloaded, failed: committer.counters.failed, withoutStagedFiles, damaged, trades: committer.counters.trades };
}
