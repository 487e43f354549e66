import { RUNS_COLUMNS } from '../table-schemas.js';
import type { LogicalType } from '../table-schemas.js';
import type { Dialect } from './dialect.js';

/** The fields of the `run` row parameter of recordRunSql: the table's columns, as declared there. */
export const RUN_ROW_FIELDS: Readonly<Record<string, LogicalType>> = Object.fromEntries(RUNS_COLUMNS.map((c) => [c.name, c.type]));

/** Records a finished run; a run recorded twice (a retried write) keeps one row. */
export function recordRunSql(d: Dialect): string {
  const columns = Object.keys(RUN_ROW_FIELDS);
  const set = columns.filter((c) => c !== 'run_id').map((c) => `${c} = s.${c}`).join(', ');
  return `MERGE INTO ${d.table('backfill_runs')} AS t
USING (SELECT * FROM ${d.rows('run')}) AS s
ON t.run_id = s.run_id
WHEN MATCHED THEN UPDATE SET ${set}
WHEN NOT MATCHED THEN INSERT (${columns.join(', ')}) VALUES (${columns.map((c) => `s.${c}`).join(', ')})`;
}
