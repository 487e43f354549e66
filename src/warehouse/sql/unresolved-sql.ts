import type { Dialect, Params } from './dialect.js';
import { param } from './dialect.js';

/**
 * How long after its n-th miss an id is asked again: 1 h, 6 h, 1 d, 3 d, 7 d. A market Gamma does
 * not list yet (new, or lagging behind the chain) mostly appears within hours; one still missing
 * after six look-ups over eleven days is given up on. Index n-1 holds the wait after miss n.
 */
export const UNRESOLVED_RETRY_AFTER_MS: readonly number[] = [1, 6, 24, 72, 168].map((hours) => hours * 3_600_000);

/** Look-ups of an id (the first included) after which it is given up on. */
export const UNRESOLVED_MAX_LOOKUPS = UNRESOLVED_RETRY_AFTER_MS.length + 1;

/** A row of the table without the columns of this version: one miss, at `recorded_at`. */
const attempts = 'COALESCE(attempts, 1)';
const lastAttempt = 'COALESCE(last_attempt_at, recorded_at)';

/**
 * Staged misses into `unresolved_ids`: a new id is inserted with one attempt; a known one counts one
 * more miss, but only for a miss later than the last one counted, so loading the same staged file
 * again (a retried batch, `reload`, an old bundle reused) counts nothing twice. The miss that reaches
 * UNRESOLVED_MAX_LOOKUPS sets `given_up_at`. Parameter `max_lookups`.
 */
export function unresolvedMergeSql(d: Dialect, relation: string): string {
  const q = (column: string) => d.id(column);
  const counted = `COALESCE(t.${q('attempts')}, 1) + 1`;
  return `MERGE INTO ${d.table('unresolved_ids')} AS t
USING (
  SELECT * FROM ${relation} WHERE TRUE
  QUALIFY ROW_NUMBER() OVER (PARTITION BY ${q('kind')}, ${q('id')} ORDER BY ${q('recorded_at')} DESC) = 1
) AS s
ON t.${q('kind')} = s.${q('kind')} AND t.${q('id')} = s.${q('id')}
WHEN MATCHED AND s.${q('recorded_at')} > COALESCE(t.${q('last_attempt_at')}, t.${q('recorded_at')}) THEN UPDATE SET
  ${q('reason')} = s.${q('reason')},
  ${q('retryable')} = s.${q('retryable')},
  ${q('attempts')} = ${counted},
  ${q('last_attempt_at')} = s.${q('recorded_at')},
  ${q('given_up_at')} = CASE WHEN COALESCE(s.${q('retryable')}, TRUE) AND ${counted} >= ${d.param('max_lookups')} THEN s.${q('recorded_at')} END,
  ${q('loaded_at')} = ${d.now()}
WHEN NOT MATCHED THEN INSERT (${['kind', 'id', 'reason', 'recorded_at', 'retryable', 'attempts', 'last_attempt_at', 'loaded_at'].map(q).join(', ')})
  VALUES (s.${q('kind')}, s.${q('id')}, s.${q('reason')}, s.${q('recorded_at')}, s.${q('retryable')}, 1, s.${q('recorded_at')}, ${d.now()})`;
}

export function unresolvedMergeParams(): Params {
  return { max_lookups: param.int(UNRESOLVED_MAX_LOOKUPS) };
}

/**
 * Unresolved ids due for another look-up, longest waiting first: retryable (rows of older versions
 * count as retryable: a combo id among them is answered without a request and marked), not given
 * up, and their last miss older than the wait its miss count asks for. Parameters `missed_<n>_before`
 * (now minus the wait after miss n) and `limit`.
 */
export function dueUnresolvedSql(d: Dialect): string {
  const waits = UNRESOLVED_RETRY_AFTER_MS.map((_, i) => `WHEN ${i + 1} THEN ${d.param(`missed_${i + 1}_before`)}`).join(' ');
  return `SELECT kind, id, ${attempts} AS attempts FROM ${d.table('unresolved_ids')}
WHERE COALESCE(retryable, TRUE) AND given_up_at IS NULL
  AND ${lastAttempt} < CASE ${attempts} ${waits} END
ORDER BY ${lastAttempt}, kind, id LIMIT ${d.param('limit')}`;
}

export function dueUnresolvedParams(now: Date, limit: number): Params {
  const params: Params = { limit: param.int(limit) };
  UNRESOLVED_RETRY_AFTER_MS.forEach((wait, i) => {
    params[`missed_${i + 1}_before`] = param.timestamp(new Date(now.getTime() - wait).toISOString());
  });
  return params;
}

/** Ids a later look-up found: no longer unresolved. Parameters `kind` and the string list `ids`. */
export function forgetUnresolvedSql(d: Dialect): string {
  return `DELETE FROM ${d.table('unresolved_ids')} WHERE kind = ${d.param('kind')} AND ${d.inList('id', 'ids')}`;
}
