import { EventEmitter } from 'node:events';

import type { FeedRefreshResult } from './feed-refresh.js';
import type { RunSummary, StopKind } from './run-summary.js';

/** What a run reports while it works; the CLI turns these into a progress bar or log lines. */
export interface RunEventMap {
  'run:planned': [{ runId: string; invalid: number }];
  'wallet:start': [{ wallet: string }];
  'wallet:page': [{ wallet: string; trades: number }];
  'wallet:staged': [{ wallet: string; trades: number; reused: boolean }];
  /**
   * A complete staged bundle is not loaded again: it failed its check (size, sha256, generation),
   * or the warehouse refused it before (a permanent load failure). Refetched, or reported.
   */
  'wallet:damaged': [{ wallet: string; reason: string }];
  /** `trades`: what the warehouse now holds for the wallet (not what this load added: see batch:committed). */
  'wallet:loaded': [{ wallet: string; trades: number }];
  /** `kind`: transient failures (outages, timeouts) are retried by the next run; permanent ones need a look. */
  'wallet:failed': [{ wallet: string; error: string; stage: 'fetch' | 'load' | 'invalid' | 'crashed'; kind: 'transient' | 'permanent' }];
  /** Wallets in flight when an earlier process died, tried alone before the plan. */
  'run:suspects': [{ wallets: number }];
  'batch:start': [{ wallets: number }];
  /** One committed load: `inserted` trade rows the warehouse did not hold before (a refresh's overlap rows are not counted). */
  'batch:committed': [{ wallets: number; inserted: number; durationMs: number }];
  'batch:repaired': [{ wallets: number; duplicates: number }];
  'checkpoint:failed': [{ wallets: number; error: string }];
  'run:stopping': [{ reason: string; kind: StopKind }];
  /** A refresh looked markets held as open up again; `resolved` of them had closed. */
  'markets:refreshed': [{ checked: number; resolved: number }];
  'markets:failed': [{ markets: number; error: string }];
  /** The end of a run asked ids again (lookup-retries.ts); `givenUpIds` were missed for the last time. */
  'lookups:asked': [{ released: number; due: number; found: number; givenUp: number; groups: number; members: number; givenUpIds: string[] }];
  'lookups:failed': [{ released: number; due: number; groups: number; error: string }];
  /** The end of a run asked `/v2/resolutions` for ended markets (resolutions-refresh.ts); `resolved` of them are final. */
  'resolutions:asked': [{ asked: number; resolved: number }];
  'resolutions:failed': [{ markets: number; error: string }];
  /** `refresh --via auto` chose how to refresh, and why (feed-refresh.ts). */
  'feed:decided': [{ via: 'feed' | 'wallets'; reason: string }];
  /** A walk of the global feed starts (or resumes) down to `downTo`; `outside` wallets are refreshed per wallet. */
  'feed:walking': [{ downTo: string; tracked: number; outside: number; resumed: boolean }];
  /**
   * A chunk of the walk's kept rows is loaded and the walk's progress committed with it (`feed_walks`): a walk killed
   * from here on resumes no earlier than `resumeTs`. `pages` and `rowsKept` count the walk so far, resumed parts included.
   */
  'feed:chunk': [{ chunk: number; rows: number; pages: number; rowsKept: number; resumeTs: number | null }];
  'feed:walked': [FeedRefreshResult];
  /** The feed was found to leave rows out: every wallet is refreshed per wallet this time. */
  'feed:unfit': [{ reason: string }];
  /** Positions and wallet_stats recomputed for a batch of wallets (wallet-stats.ts); `unchanged` found the figures held. */
  'stats:computed': [{ wallets: number; written: number; unchanged: number; durationMs: number }];
  /** A recompute failed: the wallets stay flagged stale and the end of this run, or the next run, tries them again. */
  'stats:failed': [{ wallets: number; error: string }];
  'run:finished': [RunSummary];
}

export class RunEvents extends EventEmitter<RunEventMap> {
  /** Listener errors must never break a run; they are reported and dropped. */
  safeEmit<K extends keyof RunEventMap>(event: K, ...args: RunEventMap[K]): void {
    try {
      (this.emit as (name: string, ...payload: unknown[]) => boolean)(event, ...args);
    } catch (error) {
      process.emitWarning(`run event listener for ${String(event)} threw: ${String(error)}`);
    }
  }
}
