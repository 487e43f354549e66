import type { Dialect } from '../sql/dialect.js';
import type { LogicalType } from '../table-schemas.js';
import { tableRef } from './location.js';
import type { BigQueryLocation } from './location.js';

/** Standard SQL names of the logical types (JSON is staged and stored as text, see schema.ts). */
export const SQL_TYPES: Readonly<Record<LogicalType, string>> = {
  string: 'STRING',
  float: 'FLOAT64',
  int: 'INT64',
  bool: 'BOOL',
  timestamp: 'TIMESTAMP',
  json: 'STRING',
};

function literal(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(value)) throw new Error(`constant ${JSON.stringify(value)} must be spelled with CHR()`);
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** GoogleSQL for one dataset: tables are `` `project.dataset.table` ``, parameters `@name`. */
export function bigQueryDialect(where: Pick<BigQueryLocation, 'projectId' | 'datasetId'>): Dialect {
  return {
    name: 'bigquery',
    table: (name) => tableRef(where, name),
    id: (name) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid identifier ${JSON.stringify(name)}`);
      return `\`${name}\``;
    },
    param: (name) => `@${name}`,
    inList: (expr, param) => `${expr} IN UNNEST(@${param})`,
    list: (param, column) => `UNNEST(@${param}) AS ${column}`,
    rows: (param) => `UNNEST(@${param})`,
    jsonStrings: (expr, column) => `UNNEST(JSON_VALUE_ARRAY(${expr})) AS ${column}`,
    matches: (expr, pattern) => `REGEXP_CONTAINS(${expr}, ${literal(pattern)})`,
    // With one capturing group, REGEXP_EXTRACT_ALL returns what the group matched.
    regexpMatches: (expr, pattern, column) => `UNNEST(REGEXP_EXTRACT_ALL(${expr}, ${literal(pattern)})) AS ${column}`,
    // A quoted GoogleSQL string may not contain a raw tab or line break.
    trim: (expr, chars) => `TRIM(${expr}, CONCAT(${[...chars].map((c) => `CHR(${c.codePointAt(0)})`).join(', ')}))`,
    // ABS(MOD(…)) rather than MOD(ABS(…)): ABS of the smallest INT64 overflows.
    shard: (expr, countParam) => `ABS(MOD(FARM_FINGERPRINT(${expr}), @${countParam}))`,
    now: () => 'CURRENT_TIMESTAMP()',
    isoSeconds: (expr) => `FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%SZ', ${expr})`,
    isoMicros: (expr) => `FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%E6SZ', ${expr})`,
    epochSeconds: (expr) => `UNIX_SECONDS(${expr})`,
    monthStart: (expr) => `TIMESTAMP_TRUNC(${expr}, MONTH)`,
    literal,
    insertOnly: 'merge',
    types: SQL_TYPES,
  };
}
