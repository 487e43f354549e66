/**
 * What a refresh by the global trade feed needs from the warehouse: the tracked wallets with their horizons, the
 * walks' own records (progress committed with their pages, so a killed walk resumes), and the marks that move a
 * wallet's refresh forward once a walk covered it, or queue its activity for a per-wallet refresh.
 */
import type { WarehouseDriver } from './driver.js';
import { param } from './sql/dialect.js';
import {
  FEED_WALK_FIELDS,
  feedPlanSql,
  feedRateSql,
  markActivityDueSql,
  markFeedCoveredSql,
  markHoldersActivityDueSql,
  saveFeedWalkSql,
  unfinishedFeedWalkSql,
} from './sql/feed-sql.js';
import { chunks, shardParams } from './statement-params.js';
import type { FeedWalkRecord, TrackedWallet } from './warehouse.js';

export class FeedWalks {
  readonly #driver: WarehouseDriver;

  constructor(driver: WarehouseDriver) {
    this.#driver = driver;
  }

  async *planFeedRefresh(options: { maxFailedAttempts: number; shard?: { index: number; count: number }; chunkSize?: number }): AsyncIterable<TrackedWallet[]> {
    const params = { max_failed_attempts: param.int(options.maxFailedAttempts), ...shardParams(options.shard) };
    for await (const rows of this.#driver.stream<{ wallet: string; horizon: string | null }>('plan feed refresh', feedPlanSql(this.#driver.dialect), params, options.chunkSize ?? 8192)) {
      yield rows.map((r) => ({ wallet: String(r.wallet), horizon: r.horizon === null || r.horizon === undefined ? null : String(r.horizon) }));
    }
  }

  async unfinishedFeedWalk(): Promise<FeedWalkRecord | undefined> {
    const [row] = await this.#driver.query<Record<string, unknown>>('unfinished feed walk', unfinishedFeedWalkSql(this.#driver.dialect));
    if (!row) return undefined;
    const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
    const int = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
    return {
      walk_id: String(row.walk_id),
      run_id: String(row.run_id),
      status: 'running',
      started_at: String(row.started_at),
      covered_from: String(row.covered_from),
      down_to: String(row.down_to),
      newest_at: text(row.newest_at),
      oldest_at: text(row.oldest_at),
      resume_cursor: text(row.resume_cursor),
      resume_ts: row.resume_ts === null || row.resume_ts === undefined ? null : Number(row.resume_ts),
      pages: int(row.pages),
      rows_seen: int(row.rows_seen),
      rows_kept: int(row.rows_kept),
      wallets_touched: int(row.wallets_touched),
      updated_at: new Date().toISOString(),
      finished_at: null,
      note: null,
    };
  }

  async saveFeedWalk(record: FeedWalkRecord): Promise<void> {
    await this.#driver.execute('save feed walk', saveFeedWalkSql(this.#driver.dialect), { rows: param.rows(FEED_WALK_FIELDS, [{ ...record }]) });
  }

  async feedRowsPerHour(): Promise<number | undefined> {
    const [row] = await this.#driver.query<{ rows_seen: unknown; seconds: unknown }>('feed rate', feedRateSql(this.#driver.dialect));
    const rows = Number(row?.rows_seen ?? 0);
    const seconds = Number(row?.seconds ?? 0);
    return rows > 0 && seconds > 0 ? (rows * 3_600) / seconds : undefined;
  }

  markFeedCovered(options: { coveredFrom: string; coveredAt: string; shard?: { index: number; count: number } }): Promise<number> {
    return this.#driver.execute('mark wallets covered by the feed', markFeedCoveredSql(this.#driver.dialect), {
      covered_from: param.timestamp(options.coveredFrom),
      covered_at: param.timestamp(options.coveredAt),
      ...shardParams(options.shard),
    });
  }

  async markActivityDue(wallets: readonly string[]): Promise<number> {
    let marked = 0;
    for (const chunk of chunks(wallets, 10_000)) {
      marked += await this.#driver.execute('mark activity due', markActivityDueSql(this.#driver.dialect), { wallets: param.strings(chunk) });
    }
    return marked;
  }

  async markHoldersActivityDue(conditionIds: readonly string[]): Promise<number> {
    let marked = 0;
    for (const chunk of chunks(conditionIds, 10_000)) {
      marked += await this.#driver.execute('mark holders of resolved markets', markHoldersActivityDueSql(this.#driver.dialect), { ids: param.strings(chunk) });
    }
    return marked;
  }
}
