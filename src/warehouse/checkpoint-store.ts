/**
 * The checkpoint rows of `backfill_checkpoint`, written through the one MERGE of ./sql/checkpoint-sql.ts:
 * a batch's outcomes (with what the warehouse holds for each wallet), in-flight marks set before a
 * fetch and cleared after, notes on wallets a stop interrupted, and the settlement of wallets whose
 * process died in flight.
 */
import type { WarehouseDriver, SqlSession } from './driver.js';
import {
  CHECKPOINT_ROW_FIELDS,
  checkpointMergeSql,
  clearInFlightSql,
  INTERRUPTED_ROW_FIELDS,
  noteInterruptedSql,
  crashSuspectsSql,
  markInFlightSql,
  refreshCheckpointSql,
  settleCrashedSql,
} from './sql/checkpoint-sql.js';
import { param } from './sql/dialect.js';
import { walletTradeCountsSql } from './sql/merge-sql.js';
import { chunks, shardParams, truncate } from './statement-params.js';
import type { CheckpointRow, CrashSettlement } from './warehouse.js';

export class CheckpointStore {
  readonly #driver: WarehouseDriver;

  constructor(driver: WarehouseDriver) {
    this.#driver = driver;
  }

  async markInFlight(wallets: readonly string[], runId: string): Promise<void> {
    if (wallets.length === 0) return;
    const execute = this.#driver.executeAside?.bind(this.#driver) ?? this.#driver.execute.bind(this.#driver);
    await execute('mark wallets in flight', markInFlightSql(this.#driver.dialect), { wallets: param.strings(wallets), run_id: param.string(runId) });
  }

  async clearInFlight(runId: string): Promise<void> {
    await this.#driver.execute('clear in-flight marks', clearInFlightSql(this.#driver.dialect), { run_id: param.string(runId) });
  }

  async noteInterrupted(notes: readonly { wallet: string; note: string }[]): Promise<void> {
    if (notes.length === 0) return;
    const rows = notes.map(({ wallet, note }) => ({ wallet_address: wallet, note }));
    await this.#driver.execute('note interrupted wallets', noteInterruptedSql(this.#driver.dialect), { rows: param.rows(INTERRUPTED_ROW_FIELDS, rows) });
  }

  async settleCrashed(options: { shard?: { index: number; count: number }; maxFailedAttempts: number; runId?: string }): Promise<CrashSettlement> {
    const d = this.#driver.dialect;
    const scope = shardParams(options.shard);
    await this.#driver.execute('settle crashed attempts', settleCrashedSql(d), { ...scope, max_failed_attempts: param.int(options.maxFailedAttempts) });
    const rows = await this.#driver.query<{ wallet: string; parked: boolean; error: string | null; done: boolean; refresh_attempts: unknown; refresh_error: string | null }>(
      'crash suspects',
      crashSuspectsSql(d),
      scope,
    );
    const max = options.maxFailedAttempts;
    // Given up on: a backfill parked, or a refresh that died with the process too often.
    const givenUp = rows.filter((r) => (r.done ? Number(r.refresh_attempts) >= max : r.parked));
    if (givenUp.length > 0) {
      // No longer suspects, so the next run does not report them again; counts stay as they are.
      const now = new Date().toISOString();
      await this.writeCheckpoints(
        givenUp.map((r): CheckpointRow => ({
          wallet_address: String(r.wallet),
          outcome: 'transient',
          failure_class: 'process died',
          trade_count: 0,
          gcs_file: null,
          processed_at: now,
          error: (r.done ? r.refresh_error : r.error) ?? 'the process died while this wallet was in flight',
          run_id: options.runId ?? 'crash-settlement',
          ...(r.done ? { refresh: true } : {}),
        })),
        { maxFailedAttempts: max },
      );
    }
    const open = rows.filter((r) => !givenUp.includes(r));
    return {
      suspects: open.filter((r) => !r.done).map((r) => String(r.wallet)),
      refreshSuspects: open.filter((r) => r.done).map((r) => String(r.wallet)),
      parked: givenUp.map((r) => ({ wallet: String(r.wallet), error: (r.done ? r.refresh_error : r.error) ?? '' })),
    };
  }

  async writeCheckpoints(rows: readonly CheckpointRow[], options: { maxFailedAttempts: number }): Promise<void> {
    if (rows.length === 0) return;
    const d = this.#driver.dialect;
    const chunkRows = this.#driver.capabilities.maxRowsPerStatement;
    const groups = [
      { sql: checkpointMergeSql(d), rows: rows.filter((r) => !r.refresh), what: 'write checkpoints' },
      { sql: refreshCheckpointSql(d), rows: rows.filter((r) => r.refresh), what: 'write refresh checkpoints' },
    ];
    await this.#driver.transaction(async (session) => {
      const held = await this.#heldByUnloaded(session, rows);
      for (const group of groups) {
        for (const chunk of chunks(group.rows, chunkRows)) {
          await session.execute(group.what, group.sql, {
            rows: param.rows(
              CHECKPOINT_ROW_FIELDS,
              chunk.map((r) => ({
                wallet_address: r.wallet_address,
                outcome: r.outcome,
                trade_count: held.get(r.wallet_address) ?? r.trade_count,
                gcs_file: r.gcs_file,
                processed_at: r.processed_at,
                error: r.error === null ? null : truncate(r.error, 4_000),
                run_id: r.run_id,
                last_trade_at: r.outcome === 'loaded' ? (r.last_trade_at ?? null) : null,
                small_fills_excluded: r.outcome === 'loaded' ? (r.small_fills_excluded ?? null) : null,
                failure_class: r.outcome === 'loaded' ? null : r.failure_class,
                activity_count: r.outcome === 'loaded' ? (r.activity_count ?? null) : null,
                last_activity_at: r.outcome === 'loaded' ? (r.last_activity_at ?? null) : null,
              })),
            ),
            ...(group.rows === groups[0]!.rows ? { max_failed_attempts: param.int(options.maxFailedAttempts) } : {}),
          });
        }
      }
    });
  }

  /**
   * What the warehouse holds for each wallet of a row that is not a successful load (a failed
   * load, fetch, refresh or crash): the count its checkpoint records, in the checkpoint's own
   * transaction. Malformed `traders` values hold nothing and are not asked about. Read only when
   * there are such rows, so a batch of successes costs no extra query.
   */
  async #heldByUnloaded(session: SqlSession, rows: readonly CheckpointRow[]): Promise<Map<string, number>> {
    const wallets = [...new Set(rows.filter((r) => r.outcome !== 'loaded' && r.outcome !== 'invalid').map((r) => r.wallet_address))].sort();
    const held = new Map<string, number>();
    const sql = walletTradeCountsSql(this.#driver.dialect, { keys: this.#driver.capabilities.duplicateCheck });
    for (const chunk of chunks(wallets, 10_000)) {
      const counts = await session.query<{ wallet: string; key_count: unknown }>('count held trades', sql, { wallets: param.strings(chunk) });
      for (const w of chunk) held.set(w, 0);
      for (const c of counts) held.set(String(c.wallet), Number(c.key_count));
    }
    return held;
  }

}
