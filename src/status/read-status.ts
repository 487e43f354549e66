import { holderIsGone } from '../lease/holder-process.js';
import type { LeaseInfo, LeaseStore } from '../lease/lease.js';
import { BusyError } from '../lib/errors.js';
import { sleep } from '../lib/sleep.js';
import type { FailedWallet, StatusFigures, Warehouse } from '../warehouse/warehouse.js';
import { readSnapshot, statusJson } from './run-status.js';
import type { RunSnapshot } from './run-status.js';
import type { RunStatus, StatusJson } from './status-json.js';

/** Failed wallets read for the failure classes of a status (the counts are exact up to this many). */
const FAILURE_SAMPLE = 10_000;

/**
 * How long a status read waits for another process's hold on an embedded file to end, or for a
 * run that has opened it to publish its first snapshot.
 */
const BUSY_WAIT_MS = 1_500;

/** The live leases of this warehouse (a run, a reload or a refresh holds them now). */
async function liveHolders(leases: LeaseStore): Promise<LeaseInfo[]> {
  const holders: LeaseInfo[] = [];
  for (const scope of await leases.scopes()) {
    const lease = await leases.lock(scope).read();
    if (lease?.live) holders.push(lease.info);
  }
  return holders;
}

/**
 * The status, the same JSON whichever way it is produced:
 * - a run holds an embedded warehouse (DuckDB lets one process open the file): its latest
 *   snapshot, `live` while its writer is alive;
 * - otherwise the warehouse itself, opened for this read only (so a run starting meanwhile is not
 *   kept out), with the last run's figures from its snapshot — `stale` when that run never said it
 *   ended (SIGKILL, OOM, a lost machine).
 */
export async function readLiveStatus(options: {
  leases: LeaseStore;
  snapshotPath: string | undefined;
  /**
   * Opens the warehouse for one read, failing at once with a BusyError if another process holds
   * it; the caller closes what it returns with `release`.
   */
  open: () => Promise<{ warehouse: Warehouse; release: () => Promise<void> }>;
  /** Read the failed-wallets sample for `failures.by_class` (default true). */
  failures?: boolean;
}): Promise<StatusJson> {
  const deadline = Date.now() + BUSY_WAIT_MS;
  for (;;) {
    const holders = options.snapshotPath ? await liveHolders(options.leases) : [];
    const snapshot = options.snapshotPath ? await readSnapshot(options.snapshotPath) : undefined;
    // A snapshot left by an earlier run is not this run's: its figures may be hours old.
    if (snapshot && holders.some((h) => h.holder === snapshot.status.run?.lease_holder)) return fromSnapshot(snapshot);
    try {
      // No run, or one that has not opened the file yet (it waits out this read), or a remote warehouse.
      return await fromWarehouse(snapshot, options.open, options.failures ?? true);
    } catch (error) {
      // A run that has the file but has not published yet, or another process holding the file
      // for a moment (an import, another status read): waited for briefly.
      if (!(error instanceof BusyError)) throw error;
      if (Date.now() >= deadline) {
        if (holders.length === 0) throw error;
        throw new BusyError(`${holders.map((h) => h.holder).join(', ')} holds the warehouse and has no status published for it`, {
          hint: 'A run publishes its status within seconds of starting, a reload never does: try again shortly, or once it ends',
          cause: error,
        });
      }
      await sleep(100);
    }
  }
}

function fromSnapshot(snapshot: RunSnapshot): StatusJson {
  // The lease of a run on another host outlives its process until it expires; the snapshot's writer says more.
  const writerAlive = !holderIsGone({ process: snapshot.process });
  const run = snapshot.status.run;
  const stale = !writerAlive && run?.state === 'running';
  return {
    ...snapshot.status,
    source: 'snapshot',
    live: writerAlive && run?.state === 'running',
    stale,
    as_of: snapshot.written_at,
    run: run && stale ? endedRun(run) : run,
  };
}

/**
 * The warehouse's status figures, and the sample of failed wallets the failure classes are drawn
 * from unless `failures` is false (a terminal `status` does not show them: one query saved).
 */
export async function readFigures(warehouse: Warehouse, failures = true): Promise<{ figures: StatusFigures; failed: FailedWallet[] }> {
  const [figures, failed] = await Promise.all([warehouse.status(), failures ? warehouse.failedWallets({ limit: FAILURE_SAMPLE }) : []]);
  return { figures, failed };
}

async function fromWarehouse(
  snapshot: RunSnapshot | undefined,
  open: () => Promise<{ warehouse: Warehouse; release: () => Promise<void> }>,
  failures: boolean,
): Promise<StatusJson> {
  const { warehouse, release } = await open();
  try {
    const { figures, failed } = await readFigures(warehouse, failures);
    const last = snapshot?.status.run ?? null;
    // Its run holds no lease (or one that has not opened the file yet, whose snapshot is not
    // this one): a snapshot still saying "running" was left by a run that died.
    const stale = last?.state === 'running';
    return statusJson(warehouse.description, figures, failed, { source: 'warehouse', live: false, stale, run: last ? endedRun(last) : null });
  } finally {
    await release();
  }
}

/** A run seen after its end: no ETA, no batch, and `stopped` if it died still saying `running`. */
function endedRun(run: RunStatus): RunStatus {
  return { ...run, state: run.state === 'running' ? 'stopped' : run.state, eta_seconds: null, current_batch: null };
}
