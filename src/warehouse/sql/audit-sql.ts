/**
 * The chain audit's statements (tables audit_results, audit_mismatches, audit_progress and
 * audit_chain_fills; see table-schemas.ts): written once for both backends, every value a typed
 * parameter. What each one does for the audit is in ../audits.ts.
 */
import { AUDIT_CHAIN_FILLS_COLUMNS, AUDIT_MISMATCHES_COLUMNS, AUDIT_RESULTS_COLUMNS } from '../table-schemas.js';
import type { ColumnSpec, LogicalType } from '../table-schemas.js';
import type { Dialect } from './dialect.js';

const fieldsOf = (columns: readonly ColumnSpec[]): Readonly<Record<string, LogicalType>> => Object.fromEntries(columns.map((c) => [c.name, c.type]));

/** The fields of the `rows` parameter of each writer: the table's columns, as declared there. */
export const AUDIT_CHAIN_FILL_FIELDS = fieldsOf(AUDIT_CHAIN_FILLS_COLUMNS);
export const AUDIT_MISMATCH_FIELDS = fieldsOf(AUDIT_MISMATCHES_COLUMNS);
export const AUDIT_RESULT_FIELDS = fieldsOf(AUDIT_RESULTS_COLUMNS);

const names = (fields: Readonly<Record<string, LogicalType>>): string[] => Object.keys(fields);

/** The audited wallet's rows of `trades` (parameter `wallet`), with the time as ISO-8601 text in `ts`. */
export function auditHeldTradesSql(d: Dialect): string {
  const q = (column: string) => d.id(column);
  return `SELECT ${q('trade_id')}, ${q('proxy_wallet')}, ${q('transaction_hash')}, ${q('asset')}, ${q('side')}, ${q('size')}, ${q('price')},
  ${d.isoSeconds(q('timestamp'))} AS ts
FROM ${d.table('trades')} WHERE ${q('proxy_wallet')} = ${d.param('wallet')}`;
}

/** The wallet's walk: the last block completed (parameter `wallet`). */
export function auditProgressSql(d: Dialect): string {
  return `SELECT last_block FROM ${d.table('audit_progress')} WHERE wallet = ${d.param('wallet')}`;
}

/** A range's logs (parameter `rows`): inserted once per (wallet, transaction_hash, log_index), however often the range is saved. */
export function saveAuditChainFillsSql(d: Dialect): string {
  const columns = names(AUDIT_CHAIN_FILL_FIELDS);
  return `MERGE INTO ${d.table('audit_chain_fills')} AS t
USING (SELECT * FROM ${d.rows('rows')}) AS s
ON t.wallet = s.wallet AND t.transaction_hash = s.transaction_hash AND t.log_index = s.log_index
WHEN NOT MATCHED THEN INSERT (${columns.join(', ')}) VALUES (${columns.map((c) => `s.${c}`).join(', ')})`;
}

/** The wallet's walk has completed every block up to `last_block` (parameters `wallet`, `last_block`). */
export function saveAuditProgressSql(d: Dialect): string {
  return `MERGE INTO ${d.table('audit_progress')} AS t
USING (SELECT ${d.param('wallet')} AS wallet, ${d.param('last_block')} AS last_block) AS s
ON t.wallet = s.wallet
WHEN MATCHED THEN UPDATE SET last_block = s.last_block, updated_at = ${d.now()}
WHEN NOT MATCHED THEN INSERT (wallet, last_block, updated_at) VALUES (s.wallet, s.last_block, ${d.now()})`;
}

/** Every log collected for the wallet (parameter `wallet`), in block and log order. */
export function auditChainFillsSql(d: Dialect): string {
  return `SELECT ${names(AUDIT_CHAIN_FILL_FIELDS).join(', ')} FROM ${d.table('audit_chain_fills')}
WHERE wallet = ${d.param('wallet')} ORDER BY block_number, log_index`;
}

/** Forgets the wallet's walk: one statement per table (`table` is audit_chain_fills or audit_progress), parameter `wallet`. */
export function clearAuditSql(d: Dialect, table: 'audit_chain_fills' | 'audit_progress' | 'audit_mismatches'): string {
  return `DELETE FROM ${d.table(table)} WHERE wallet = ${d.param('wallet')}`;
}

/** The mismatches of a result (parameter `rows`), after clearAuditSql(…, 'audit_mismatches') removed the last result's. */
export function insertAuditMismatchesSql(d: Dialect): string {
  const columns = names(AUDIT_MISMATCH_FIELDS);
  return `INSERT INTO ${d.table('audit_mismatches')} (${columns.join(', ')})
SELECT ${columns.join(', ')} FROM ${d.rows('rows')}`;
}

/** The wallet's latest result (parameter `rows`, one row): replaces the last one. */
export function saveAuditResultSql(d: Dialect): string {
  const columns = names(AUDIT_RESULT_FIELDS);
  const set = columns.filter((c) => c !== 'wallet').map((c) => `${c} = s.${c}`).join(', ');
  return `MERGE INTO ${d.table('audit_results')} AS t
USING (SELECT * FROM ${d.rows('rows')}) AS s
ON t.wallet = s.wallet
WHEN MATCHED THEN UPDATE SET ${set}
WHEN NOT MATCHED THEN INSERT (${columns.join(', ')}) VALUES (${columns.map((c) => `s.${c}`).join(', ')})`;
}

function resultColumns(d: Dialect): string {
  const times = new Set(['from_time', 'to_time', 'audited_at']);
  return names(AUDIT_RESULT_FIELDS)
    .map((c) => (times.has(c) ? `${d.isoSeconds(c)} AS ${c}` : c))
    .join(', ');
}

/** The latest results of the wallets of the string-list parameter `wallets`. */
export function auditResultsSql(d: Dialect): string {
  return `SELECT ${resultColumns(d)} FROM ${d.table('audit_results')} WHERE ${d.inList('wallet', 'wallets')} ORDER BY wallet`;
}

/** Every wallet's latest result. */
export function allAuditResultsSql(d: Dialect): string {
  return `SELECT ${resultColumns(d)} FROM ${d.table('audit_results')} ORDER BY wallet`;
}

/** The mismatches of the wallet's latest result (parameter `wallet`), as written. */
export function auditMismatchesSql(d: Dialect): string {
  const columns = names(AUDIT_MISMATCH_FIELDS).filter((c) => c !== 'audited_at');
  return `SELECT ${columns.join(', ')}, ${d.isoSeconds('audited_at')} AS audited_at FROM ${d.table('audit_mismatches')}
WHERE wallet = ${d.param('wallet')} ORDER BY block_number NULLS LAST, log_index NULLS LAST, trade_id NULLS LAST`;
}

/**
 * At most `limit` wallets whose fills are loaded, in a stable order that is not the address order (the
 * backend's hash of the address, bucketed by the parameter `buckets`): the sample of `backfill audit --sample N`.
 */
export function auditSampleSql(d: Dialect): string {
  return `SELECT wallet_address AS wallet FROM ${d.table('backfill_checkpoint')}
WHERE COALESCE(fills_loaded, FALSE) OR (completed AND upload_successful)
ORDER BY ${d.shard('wallet_address', 'buckets')}, wallet_address
LIMIT ${d.param('limit')}`;
}
